"""(f) Decode and apply: per feed format, in one process, against json.loads alone on the same messages.

What the engine does with one message once MQTT has delivered it (topic match,
decode, apply to the live site, count), timed over the bench site's messages of
each format, beside the cheapest thing anyone could do with them: `json.loads`.
LoRaWAN uplinks are the bench site's bays as The Things Stack and ChirpStack
devices (`with_lorawan`), ~0.5 kB of JSON each.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from bench.report import Figure
from bench.site import feed_messages, load_site, site_clock, with_lorawan
from parking.app.feed import SiteFeed
from parking.app.metrics import Metrics
from parking.live import LiveSite
from sensors.ingest import Dispatcher, templates_of
from sensors.topics import TopicTemplate

TARGET_FACTOR = 3.0  # decode-and-apply within 3x of json.loads
FORMATS = ("spot", "lot", "gate", "ttn-v3", "chirpstack-v4")


@dataclass(frozen=True, slots=True)
class CodecSettings:
    """How many messages per format, and how many rounds (the best counts)."""

    messages: int
    rounds: int


def _format_of(templates: list[TopicTemplate], topic: str) -> str:
    return next(t.feed for t in templates if t.match(topic) is not None)


def _metrics(live: LiveSite) -> Metrics:
    return Metrics.of(live)


def run_codec(site: str, settings: CodecSettings) -> tuple[list[Figure], dict[str, Any]]:
    """Time json.loads and the engine's dispatch per format; return the figures and raw rates."""
    config = with_lorawan(load_site(site))
    templates = templates_of(config.feeds)
    by_format: dict[str, list[tuple[str, bytes]]] = {fmt: [] for fmt in FORMATS}
    for seen, (topic, payload) in enumerate(feed_messages(config)):
        fmt = _format_of(templates, topic)
        if len(by_format[fmt]) < settings.messages:
            by_format[fmt].append((topic, payload))
        if seen > 200 * settings.messages or all(len(b) >= settings.messages for b in by_format.values()):
            break  # enough of each, or a rare format (few sources) has what it gets
    figures: list[Figure] = []
    raw: dict[str, Any] = {}
    for fmt, batch in by_format.items():
        if not batch:
            continue
        payloads = [payload for _, payload in batch]
        baseline, engine = 0.0, 0.0
        for _ in range(settings.rounds):
            started = time.perf_counter()
            for payload in payloads:
                json.loads(payload)
            baseline = max(baseline, len(payloads) / (time.perf_counter() - started))
            clock = site_clock(config)
            live = LiveSite(config, clock())
            metrics = _metrics(live)
            dispatcher = Dispatcher(
                config.feeds, SiteFeed(live, metrics, clock), config.mqtt.max_payload_bytes
            )
            started = time.perf_counter()
            for topic, payload in batch:
                dispatcher.dispatch(topic, payload)
            engine = max(engine, len(batch) / (time.perf_counter() - started))
            results = dict(metrics.feed_messages.counts)
        size = sum(map(len, payloads)) / len(payloads)
        raw[fmt] = {"engine": engine, "json_loads": baseline, "bytes": size, "results": str(results)}
        figures.append(
            Figure(
                section="codec",
                name=f"decode and apply {fmt} ({size:.0f} B): engine vs json.loads",
                value=engine,
                unit="msg/s",
                baseline=baseline,
                target=f"within {TARGET_FACTOR:g}x of baseline",
                met=engine * TARGET_FACTOR >= baseline,
                note=f"{fmt}: {len(batch):,} messages, results {results}",
            )
        )
    return figures, raw
