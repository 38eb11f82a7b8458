"""Idle-connection flood: does /healthz still answer, and are idle connections closed?

    python -m bench.idle [--connections 1100] [--nofile 1024:1024] [--wait 15]

Starts `parking-guide run` as a child with its open-file limit set to --nofile
(soft:hard; its broker port is closed, so only HTTP matters), opens --connections TCP
connections to it on 127.0.0.1 that never send a byte, then times one GET /healthz on
a new connection, waits --wait seconds, counts how many of the idle connections the
server closed, and times /healthz again. It also reports the child's log size and how
many "socket.accept() out of system resource" lines it wrote. Nothing here asserts a
timing; traffic stays on loopback and is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.procs import reachable
from parking.app.web.process import ACCEPT_ERROR
from sensors.net import free_port

HOST = "127.0.0.1"
MAX_CONNECTIONS = 5000
CONNECT_TIMEOUT_S = 3.0
HEALTHZ_TIMEOUT_S = 30.0
Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


def _limit_nofile(soft: int, hard: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    return apply


def _config(workdir: Path, http_port: int) -> Path:
    text = Path("config.yaml").read_text(encoding="utf-8")
    text = text.replace("port: 1883", f"port: {free_port()}").replace("port: 8080", f"port: {http_port}")
    path = workdir / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


async def _connect(port: int) -> Stream | None:
    try:
        return await asyncio.wait_for(asyncio.open_connection(HOST, port), CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError):
        return None


async def healthz_s(port: int) -> float | None:
    """Seconds until GET /healthz on a new connection answers 200; None if it did not."""
    started = time.perf_counter()

    async def ask() -> bool:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            return (await reader.read()).startswith(b"HTTP/1.1 200")
        finally:
            writer.close()

    try:
        ok = await asyncio.wait_for(ask(), HEALTHZ_TIMEOUT_S)
    except (OSError, TimeoutError):
        return None
    return time.perf_counter() - started if ok else None


def _closed_by_server(stream: Stream) -> bool:
    reader, _ = stream
    return reader.at_eof() or reader.exception() is not None


def _fmt(seconds: float | None) -> str:
    return f"no answer in {HEALTHZ_TIMEOUT_S:.0f} s" if seconds is None else f"{seconds * 1000:.1f} ms"


def rss_mib(pid: int) -> float:
    """The resident memory of a process (Linux), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def flood(port: int, connections: int, wait_s: float, pid: int) -> None:
    """Open the idle connections, measure, and print the figures."""
    print(f"/healthz before the flood: {_fmt(await healthz_s(port))}; server RSS {rss_mib(pid):.1f} MiB")
    started = time.perf_counter()
    results = await asyncio.gather(*(_connect(port) for _ in range(connections)))
    streams = [s for s in results if s is not None]
    elapsed = time.perf_counter() - started
    print(f"idle connections opened: {len(streams)} of {connections} in {elapsed:.1f} s")
    print(f"/healthz with them open: {_fmt(await healthz_s(port))}; server RSS {rss_mib(pid):.1f} MiB")
    await asyncio.sleep(0.5)  # let the client loop take in what the server did
    closed_now = sum(_closed_by_server(s) for s in streams)
    print(f"idle connections already closed by the server: {closed_now}")
    await asyncio.sleep(wait_s)
    closed = sum(_closed_by_server(s) for s in streams)
    print(f"idle connections closed by the server after {wait_s:.0f} s more: {closed} of {len(streams)}")
    print(f"/healthz after that: {_fmt(await healthz_s(port))}")
    for _, writer in streams:
        writer.close()


def main() -> int:
    """Run one flood against a fresh child and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.idle", description=__doc__)
    parser.add_argument("--connections", type=int, default=1100)
    parser.add_argument("--nofile", default="1024:1024", help="the child's RLIMIT_NOFILE, soft:hard")
    parser.add_argument("--wait", type=float, default=15.0, help="seconds to wait before counting closes")
    args = parser.parse_args()
    if not 0 < args.connections <= MAX_CONNECTIONS:
        parser.error(f"--connections must be 1..{MAX_CONNECTIONS}")
    soft, hard = (int(v) for v in args.nofile.split(":"))
    own_hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]  # this side needs room for the flood too
    own_soft = 65536 if own_hard == resource.RLIM_INFINITY else own_hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (own_soft, own_hard))
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        port = free_port()
        log = workdir / "server.log"
        with (
            log.open("wb") as out,
            subprocess.Popen(
                [sys.executable, "-m", "parking.app.cli", "run", "-c", str(_config(workdir, port))],
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=_limit_nofile(soft, hard),
            ) as child,
        ):
            try:
                deadline = time.monotonic() + 15
                while not reachable(port) and time.monotonic() < deadline:
                    time.sleep(0.05)
                print(f"server: parking-guide run, RLIMIT_NOFILE {soft}:{hard}, {args.connections} idle")
                asyncio.run(flood(port, args.connections, args.wait, child.pid))
            finally:
                child.send_signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(timeout=10)
                child.kill()
        text = log.read_text(encoding="utf-8", errors="replace")
        errors = text.count(ACCEPT_ERROR)
        print(f"server log: {log.stat().st_size:,} bytes, {errors:,} '{ACCEPT_ERROR}' lines")
        for line in text.splitlines():
            if "open-file" in line or "connections" in line:
                print(f"  log: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
