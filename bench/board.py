"""(b) The board endpoint: GET /api/v1/boards/{id} of the real app against a trivial handler.

Both servers are the same kind of child process (web.AppRunner on loopback), started
together; only the one under load is busy. Each variant (JSON, `?format=text`, and the
304 answer to a matching If-None-Match) is loaded in rounds that alternate which server
goes first, so a burst of other work on the machine hits both sides alike; the best
round's requests/s counts (interference only ever lowers it) and the median p99.
"""

from __future__ import annotations

import http.client
import statistics
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench.errors import BenchError
from bench.loadgen import Load, run_load
from bench.procs import Processes
from bench.report import Figure
from bench.site import first_board
from sensors.net import free_port

TARGET_RATIO = 0.85
WARMUP_S = 1.0
MODES = ("app", "trivial")
Headers = tuple[tuple[str, str], ...]
_TOOLS = {"wrk": "wrk -t1", "python": "aiohttp client (fallback: client-bound, understates the gap)"}


@dataclass(frozen=True, slots=True)
class BoardSettings:
    """How long, how hard and how many times to load each variant."""

    json_s: float
    variant_s: float
    rounds: int
    connections: int
    tool: str  # "wrk" or "python"


def http_get(
    port: int, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One GET on loopback: status, headers, body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _up(port: int) -> bool:
    try:
        return http_get(port, "/healthz")[0] == 200
    except OSError:
        return False


def _wait_up(procs: Processes, proc: subprocess.Popen[bytes], port: int, mode: str) -> None:
    procs.wait_until(proc, lambda: _up(port), f"{mode} server")


def load_method(details: dict[str, Any]) -> str:
    """How the load was made, for a figure's note."""
    tool, connections, rounds = _TOOLS[details["tool"]], details["connections"], details["rounds"]
    return f"{tool} -c{connections}, best of {rounds} alternating rounds"


@contextmanager
def servers(procs: Processes, site: str) -> Iterator[dict[str, int]]:
    """The app and the trivial server, each on its own port, for the block."""
    ports = {mode: free_port() for mode in MODES}
    started = [
        procs.spawn_python(f"server-{m}", "bench.server", "--mode", m, "--config", site, "--port", str(p))
        for m, p in ports.items()
    ]
    try:
        for proc, (mode, port) in zip(started, ports.items(), strict=True):
            _wait_up(procs, proc, port, mode)
        yield ports
    finally:
        for proc in started:
            procs.stop(proc)


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The best round's requests/s and errors, with the median p99 of all rounds."""
    best = max(runs, key=lambda run: float(run["rps"]))
    p99s = [float(run["p99_ms"]) for run in runs if run["p99_ms"] is not None]
    return {**best, "p99_ms": statistics.median(p99s) if p99s else None, "rounds": runs}


@dataclass(frozen=True, slots=True)
class Variant:
    """One request to load both servers with: path (and query), extra headers, seconds per round."""

    path: str
    duration_s: float
    headers: Headers = ()


def alternate(
    procs: Processes,
    ports: dict[str, int],
    variants: dict[str, Variant],
    rounds: int,
    connections: int,
    tool: str,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Warm both servers up, then load every variant in rounds that alternate which server goes first.

    Returns, per server mode and variant, the best round (see `_best`) with every round under "rounds".
    """
    first = next(iter(variants.values())).path
    for mode, port in ports.items():
        warmup = Load(f"http://127.0.0.1:{port}{first}", connections, WARMUP_S)
        run_load(procs, warmup, tool, f"warmup-{mode}")
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {m: {v: [] for v in variants} for m in ports}
    modes = tuple(ports)
    for number in range(rounds):
        order = modes if number % 2 == 0 else modes[::-1]
        for name, variant in variants.items():
            for mode in order:
                url = f"http://127.0.0.1:{ports[mode]}{variant.path}"
                load = Load(url, connections, variant.duration_s, variant.headers)
                runs[mode][name].append(run_load(procs, load, tool, f"load-{mode}-{name}"))
    return {mode: {name: _best(r) for name, r in by_variant.items()} for mode, by_variant in runs.items()}


def errors(result: dict[str, Any]) -> int:
    """Socket errors and non-2xx/3xx answers over every round of one side."""
    return sum(int(r["socket_errors"]) + int(r["non_2xx_3xx"]) for r in result["rounds"])


def ratio(app: dict[str, Any], trivial: dict[str, Any]) -> float:
    """Best requests/s of the app over the trivial handler's."""
    return float(app["rps"]) / float(trivial["rps"]) if trivial["rps"] else 0.0


def round_by_round(app: dict[str, Any], trivial: dict[str, Any]) -> str:
    """The app/trivial ratio of each round, e.g. "89%, 86%"."""
    paired = [a["rps"] / t["rps"] for a, t in zip(app["rounds"], trivial["rounds"], strict=True) if t["rps"]]
    return ", ".join(f"{r:.0%}" for r in paired)


def run_board(procs: Processes, site: str, settings: BoardSettings) -> tuple[list[Figure], dict[str, Any]]:
    """Load both servers in alternating rounds; return table rows and raw results."""
    path = f"/api/v1/boards/{first_board(site)[1]}"
    with servers(procs, site) as ports:
        status, headers, body = http_get(ports["app"], path)
        etag = headers.get("ETag")
        if status != 200 or not etag:
            raise BenchError(f"the app answered {status} (ETag {etag!r}) for {path}: {body[:200]!r}")
        variants = {
            "json": Variant(path, settings.json_s),
            "text": Variant(f"{path}?format=text", settings.variant_s),
            "not_modified": Variant(path, settings.variant_s, (("If-None-Match", etag),)),
        }
        results = alternate(procs, ports, variants, settings.rounds, settings.connections, settings.tool)
        etag_unchanged = http_get(ports["app"], path, {"If-None-Match": etag})[0] == 304
    details = {
        "path": path,
        "body_bytes": len(body),
        "connections": settings.connections,
        "tool": settings.tool,
        "rounds": settings.rounds,
        "etag_unchanged": etag_unchanged,
        **results,
    }
    return _figures(results["app"], results["trivial"], details), details


def _figures(app: dict[str, Any], trivial: dict[str, Any], details: dict[str, Any]) -> list[Figure]:
    json_app, json_trivial = app["json"], trivial["json"]
    note = (
        f"{details['path']}, {details['body_bytes']} B; {load_method(details)};"
        f" errors app {errors(json_app)}, trivial {errors(json_trivial)};"
        f" JSON app/trivial round by round: {round_by_round(json_app, json_trivial)}"
    )
    if not details["etag_unchanged"]:
        note += "; the ETag changed during the run (some 304 requests got 200)"
    return [
        Figure(
            "board",
            "GET board JSON: throughput",
            json_app["rps"],
            "req/s",
            json_trivial["rps"],
            f">= {TARGET_RATIO:.0%} of baseline",
            ratio(json_app, json_trivial) >= TARGET_RATIO and errors(json_app) == 0,
            note,
        ),
        Figure(
            "board", "GET board JSON: p99 latency (median)", json_app["p99_ms"], "ms", json_trivial["p99_ms"]
        ),
        Figure(
            "board", "GET board ?format=text: throughput", app["text"]["rps"], "req/s", trivial["text"]["rps"]
        ),
        Figure(
            "board",
            "GET board If-None-Match -> 304: throughput",
            app["not_modified"]["rps"],
            "req/s",
            trivial["not_modified"]["rps"],
        ),
    ]
