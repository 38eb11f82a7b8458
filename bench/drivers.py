"""(d) What a driver's phone asks: GET /go/{board} and GET /api/v1/guidance?board= against a trivial handler.

The same servers and the same alternating rounds as (b) (bench/board.py): the real
app, populated, and a one-route-each aiohttp app answering the same URLs with the
bytes and Content-Type the real app rendered for them at its start-up. Every /go view
and guidance answer of the real app records a pending arrival in memory (at most
10,000 a lot, the oldest dropped), so the app is measured doing that work too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.board import Variant, alternate, errors, http_get, load_method, ratio, round_by_round, servers
from bench.errors import BenchError
from bench.procs import Processes
from bench.report import Figure
from bench.site import first_board

TARGET_GO_RATIO = 0.60


@dataclass(frozen=True, slots=True)
class DriversSettings:
    """How long, how hard and how many times to load each URL."""

    duration_s: float
    rounds: int
    connections: int
    tool: str  # "wrk" or "python"


def _answer(port: int, path: str, server: str) -> dict[str, Any]:
    status, headers, body = http_get(port, path)
    if status != 200:
        raise BenchError(f"the {server} server answered {status} for {path}: {body[:200]!r}")
    return {"bytes": len(body), "content_type": headers.get("Content-Type", "")}


def run_drivers(
    procs: Processes, site: str, settings: DriversSettings
) -> tuple[list[Figure], dict[str, Any]]:
    """Load /go and guidance on both servers in alternating rounds; return table rows and raw results."""
    board = first_board(site)[1]
    variants = {
        "go": Variant(f"/go/{board}", settings.duration_s),
        "guidance": Variant(f"/api/v1/guidance?board={board}", settings.duration_s),
    }
    with servers(procs, site) as ports:
        answers = {
            name: {mode: _answer(port, v.path, mode) for mode, port in ports.items()}
            for name, v in variants.items()
        }
        results = alternate(procs, ports, variants, settings.rounds, settings.connections, settings.tool)
        for name, v in variants.items():  # guidance answers grow as pending arrivals pile up
            answers[name]["app_after"] = _answer(ports["app"], v.path, "app")
    details = {
        "paths": {name: v.path for name, v in variants.items()},
        "answers": answers,
        "connections": settings.connections,
        "tool": settings.tool,
        "rounds": settings.rounds,
        **results,
    }
    return _figures(results["app"], results["trivial"], details), details


def _note(name: str, app: dict[str, Any], trivial: dict[str, Any], details: dict[str, Any]) -> str:
    sizes = details["answers"][name]
    app_bytes = sorted({sizes["app"]["bytes"], sizes["app_after"]["bytes"]})
    note = (
        f"{details['paths'][name]}, app {'-'.join(str(n) for n in app_bytes)} B"
        f" / trivial {sizes['trivial']['bytes']} B {sizes['trivial']['content_type']};"
        f" {load_method(details)}; errors app {errors(app)}, trivial {errors(trivial)};"
        f" app/trivial round by round: {round_by_round(app, trivial)};"
        " each app answer records a pending arrival (at most 10,000 a lot)"
    )
    if sizes["app"]["content_type"] != sizes["trivial"]["content_type"]:
        note += f"; Content-Type differs: the app sends {sizes['app']['content_type']}"
    return note


def _figures(app: dict[str, Any], trivial: dict[str, Any], details: dict[str, Any]) -> list[Figure]:
    go_app, go_trivial = app["go"], trivial["go"]
    guide_app, guide_trivial = app["guidance"], trivial["guidance"]
    return [
        Figure(
            "drivers",
            "GET /go/{board}: throughput",
            go_app["rps"],
            "req/s",
            go_trivial["rps"],
            f">= {TARGET_GO_RATIO:.0%} of baseline",
            ratio(go_app, go_trivial) >= TARGET_GO_RATIO and errors(go_app) == 0,
            _note("go", go_app, go_trivial, details),
        ),
        Figure(
            "drivers", "GET /go/{board}: p99 latency (median)", go_app["p99_ms"], "ms", go_trivial["p99_ms"]
        ),
        Figure(
            "drivers",
            "GET guidance?board=: throughput",
            guide_app["rps"],
            "req/s",
            guide_trivial["rps"],
            note=_note("guidance", guide_app, guide_trivial, details),
        ),
        Figure(
            "drivers",
            "GET guidance?board=: p99 latency (median)",
            guide_app["p99_ms"],
            "ms",
            guide_trivial["p99_ms"],
        ),
    ]
