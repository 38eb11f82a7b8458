"""(e) Event streams: a lot change reaching 1,000 server-sent-event connections, beside 1,000 pollers.

The real app with its MQTT ingest runs against a private broker (as for (c)); a child
process (bench/stream_clients.py) holds the clients, publishes each change and times it:
first 1,000 pollers (If-None-Match every second, staggered), the baseline, then 1,000
event streams of the same board. Each statistic over the clients (p50, p99, max) is taken
per change; the figure is its median over the changes.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from bench.latency import app_with_ingest
from bench.procs import Processes
from bench.report import Figure
from bench.site import first_board
from bench.stream_clients import CONNECT_TIMEOUT_S, PAUSE_S, PERIOD_S, POLL_TIMEOUT_S, STREAM_TIMEOUT_S

TARGET_P99_MS = 200.0
STATISTICS = ("first", "p50", "p99", "max")


@dataclass(frozen=True, slots=True)
class StreamsSettings:
    """How many streams and pollers, and how many changes to time."""

    connections: int
    pollers: int
    changes: int


def run_streams(
    procs: Processes, site: str, settings: StreamsSettings
) -> tuple[list[Figure], dict[str, Any]]:
    """Start a broker and the app with ingest, run the clients' child; return table rows and raw data."""
    first_board(site)
    per_change_s = STREAM_TIMEOUT_S + POLL_TIMEOUT_S + 2 * PAUSE_S[1]
    timeout_s = 60 + 2 * CONNECT_TIMEOUT_S + settings.changes * per_change_s
    with app_with_ingest(procs, site, "streams") as (broker, port):
        args = ["--config", site, "--port", str(port), "--broker-port", str(broker.port)]
        args += ["--connections", str(settings.connections), "--pollers", str(settings.pollers)]
        args += ["--changes", str(settings.changes)]
        data = procs.run_to_result("stream-clients", "bench.stream_clients", args, timeout_s=timeout_s)
    summary = {side: _summary(data[side]["changes"]) for side in ("streams", "poll")}
    return _figures(data, summary, settings), {**data, "summary": summary}


def _summary(changes: list[dict[str, Any]]) -> dict[str, float | None]:
    """The median over the changes of each statistic (changes nobody saw do not count)."""
    out: dict[str, float | None] = {}
    for name in STATISTICS:
        values = [float(c[f"{name}_ms"]) for c in changes if c[f"{name}_ms"] is not None]
        out[name] = statistics.median(values) if values else None
    return out


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _received(side: dict[str, Any], wanted: int, what: str) -> str:
    """How many clients had each change, e.g. 'all 1,000 streams had every one of 5 changes'."""
    received = [int(c["received"]) for c in side["changes"]]
    if received and all(r == wanted for r in received):
        return f"all {wanted:,} {what} had every one of {len(received)} changes"
    return f"{what} that had each change: {', '.join(f'{r:,}' for r in received)} of {wanted:,}"


def _figures(data: dict[str, Any], summary: dict[str, Any], settings: StreamsSettings) -> list[Figure]:
    streams, poll = data["streams"], data["poll"]
    n, m = settings.connections, settings.pollers
    every = all(int(c["received"]) == n for c in streams["changes"]) and len(streams["changes"]) > 0
    p99 = summary["streams"]["p99"]

    def per_change(side: dict[str, Any]) -> str:
        return ", ".join(f"{c['p99_ms']:.0f}" if c["p99_ms"] is not None else "-" for c in side["changes"])

    note = (
        f"board {data['board']}, lot {data['lot']} changed {settings.changes} times over MQTT;"
        f" {streams['connected']:,} of {n:,} streams opened, {_received(streams, n, 'streams')}"
        f" (a stream that has not within {STREAM_TIMEOUT_S:.0f}s missed it);"
        f" p99 per change {per_change(streams)} ms, the first stream had it after"
        f" {_ms(summary['streams']['first'])}; median over the changes of each statistic."
        f" Baseline: {m:,} pollers, GET with If-None-Match every {PERIOD_S:.0f}s, staggered"
        f" ({poll['ready']:,} answered), {_received(poll, m, 'pollers')}"
        f" (timeout {POLL_TIMEOUT_S:.0f}s); p99 per change {per_change(poll)} ms;"
        f" {poll['requests']:,} polls, {poll['errors']} errors, {poll['late']} slots missed"
    )
    label = f"{n:,} streams: publish -> event received"
    return [
        Figure("streams", f"{label}, p50", summary["streams"]["p50"], "ms", summary["poll"]["p50"]),
        Figure(
            "streams",
            f"{label}, p99",
            p99,
            "ms",
            summary["poll"]["p99"],
            f"< {TARGET_P99_MS:.0f} ms, all received",
            p99 is not None and p99 < TARGET_P99_MS and every,
            note,
        ),
        Figure("streams", f"{label}, max", summary["streams"]["max"], "ms", summary["poll"]["max"]),
    ]
