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
from bench.site import load_site
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


@contextmanager
def _servers(procs: Processes, site: str) -> Iterator[dict[str, int]]:
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


def run_board(procs: Processes, site: str, settings: BoardSettings) -> tuple[list[Figure], dict[str, Any]]:
    """Load both servers in alternating rounds; return table rows and raw results."""
    config = load_site(site)
    if not config.boards:
        raise BenchError("the site has no boards")
    path = f"/api/v1/boards/{config.boards[0].id}"
    with _servers(procs, site) as ports:
        status, headers, body = http_get(ports["app"], path)
        etag = headers.get("ETag")
        if status != 200 or not etag:
            raise BenchError(f"the app answered {status} (ETag {etag!r}) for {path}: {body[:200]!r}")
        variants: dict[str, tuple[str, Headers, float]] = {
            "json": (path, (), settings.json_s),
            "text": (f"{path}?format=text", (), settings.variant_s),
            "not_modified": (path, (("If-None-Match", etag),), settings.variant_s),
        }
        runs: dict[str, dict[str, list[dict[str, Any]]]] = {m: {v: [] for v in variants} for m in MODES}
        for mode, port in ports.items():
            warmup = Load(f"http://127.0.0.1:{port}{path}", settings.connections, WARMUP_S)
            run_load(procs, warmup, settings.tool, f"warmup-{mode}")
        for number in range(settings.rounds):
            order = MODES if number % 2 == 0 else MODES[::-1]
            for variant, (url_path, extra, duration_s) in variants.items():
                for mode in order:
                    load = Load(
                        f"http://127.0.0.1:{ports[mode]}{url_path}", settings.connections, duration_s, extra
                    )
                    runs[mode][variant].append(run_load(procs, load, settings.tool, f"load-{mode}-{variant}"))
        etag_unchanged = http_get(ports["app"], path, {"If-None-Match": etag})[0] == 304
    results = {
        mode: {variant: _best(r) for variant, r in by_variant.items()} for mode, by_variant in runs.items()
    }
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
    def errors(run: dict[str, Any]) -> int:
        return sum(int(r["socket_errors"]) + int(r["non_2xx_3xx"]) for r in run["rounds"])

    json_app, json_trivial = app["json"], trivial["json"]
    ratio = json_app["rps"] / json_trivial["rps"] if json_trivial["rps"] else 0.0
    note = (
        f"{details['path']}, {details['body_bytes']} B; {_TOOLS[details['tool']]} -c{details['connections']},"
        f" best of {details['rounds']} alternating rounds; errors app {errors(json_app)},"
        f" trivial {errors(json_trivial)}"
    )
    paired = [a["rps"] / t["rps"] for a, t in zip(json_app["rounds"], json_trivial["rounds"], strict=True)]
    note += "; JSON app/trivial round by round: " + ", ".join(f"{r:.0%}" for r in paired)
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
            ratio >= TARGET_RATIO and errors(json_app) == 0,
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
