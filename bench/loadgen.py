"""HTTP load: wrk when installed (parsed from its --latency report), else an aiohttp client.

The fallback also runs as a child process, so it never shares a GIL with anything:
    python -m bench.loadgen --url URL --connections 64 --duration-s 10 --result FILE
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.errors import BenchError
from bench.procs import Processes, write_result

_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_P99 = re.compile(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_P50 = re.compile(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True, slots=True)
class Load:
    """How hard and how long to load one URL."""

    url: str
    connections: int
    duration_s: float
    headers: tuple[tuple[str, str], ...] = ()


def have_wrk() -> bool:
    """True if wrk is on PATH."""
    return shutil.which("wrk") is not None


def _ms(match: re.Match[str] | None) -> float | None:
    return None if match is None else float(match[1]) * _TO_MS[match[2]]


def parse_wrk(output: str) -> dict[str, Any]:
    """Requests/sec, p50 and p99 (ms) and error counts from `wrk --latency` output."""
    rps = _RPS.search(output)
    if rps is None:
        raise BenchError(f"could not read wrk's output:\n{output}")
    errors = _SOCKET_ERRORS.search(output)
    non_2xx = _NON_2XX.search(output)
    return {
        "rps": float(rps[1]),
        "p50_ms": _ms(_P50.search(output)),
        "p99_ms": _ms(_P99.search(output)),
        "socket_errors": sum(int(n) for n in errors.groups()) if errors else 0,
        "non_2xx_3xx": int(non_2xx[1]) if non_2xx else 0,
    }


def run_wrk(load: Load) -> dict[str, Any]:
    """One wrk run: a single thread (the other core is the server's)."""
    argv = ["wrk", "-t1", f"-c{load.connections}", f"-d{max(1, round(load.duration_s))}s", "--latency"]
    for name, value in load.headers:
        argv += ["-H", f"{name}: {value}"]
    done = subprocess.run(
        [*argv, load.url], capture_output=True, text=True, timeout=load.duration_s + 30, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return {"tool": "wrk", **parse_wrk(done.stdout)}


def run_load(procs: Processes, load: Load, tool: str, name: str) -> dict[str, Any]:
    """Load the URL with wrk or with the aiohttp fallback (in a child process)."""
    if tool == "wrk":
        return run_wrk(load)
    args = ["--url", load.url, "--connections", str(load.connections), "--duration-s", str(load.duration_s)]
    for header, value in load.headers:
        args += ["--header", f"{header}: {value}"]
    return procs.run_to_result(name, "bench.loadgen", args, timeout_s=load.duration_s + 30)


async def _client_load(load: Load) -> dict[str, Any]:
    """Keep `connections` requests in flight for the duration; count and time each."""
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + load.duration_s
    connector = aiohttp.TCPConnector(limit=load.connections)
    async with aiohttp.ClientSession(connector=connector, headers=dict(load.headers)) as session:

        async def worker() -> None:
            nonlocal failures
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with session.get(load.url) as response:
                    await response.read()
                    if response.status >= 400:
                        failures += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(load.connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    count = len(latencies)
    return {
        "tool": "aiohttp-client",
        "rps": count / elapsed,
        "p50_ms": 1000 * latencies[count // 2] if count else None,
        "p99_ms": 1000 * latencies[min(count - 1, int(count * 0.99))] if count else None,
        "socket_errors": 0,
        "non_2xx_3xx": failures,
    }


def main() -> None:
    """Run the fallback load generator and write its result."""
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen")
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration-s", type=float, default=10.0)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--result", required=True)
    args = parser.parse_args()
    headers = tuple((name, value) for name, _, value in (h.partition(": ") for h in args.header))
    load = Load(args.url, args.connections, args.duration_s, headers)
    write_result(args.result, asyncio.run(_client_load(load)))


if __name__ == "__main__":
    main()
