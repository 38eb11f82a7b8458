"""(c) Publish-to-board latency: a lot status published at QoS 1 until the board JSON shows it.

The real app (with its MQTT ingest) runs in a child process against a private broker;
this process publishes a change, then polls GET /api/v1/boards/{id} back to back until
the line of that lot shows the new count. The baseline is the floor loopback allows:
the same publish reaching a plain aiomqtt subscriber here, followed by one board GET.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import aiomqtt
import orjson

from bench.board import http_get
from bench.broker import Broker, private_broker
from bench.errors import BenchError
from bench.procs import Processes
from bench.report import Figure
from bench.site import first_board, first_messages, load_site, source_count
from sensors.net import free_port

TARGET_P99_MS = 50.0
CHANGE_TIMEOUT_S = 2.0
POPULATE_TIMEOUT_S = 10.0
PAUSE_S = (0.005, 0.015)  # between changes, jittered so changes never line up with the ticker
PROBE_TOPIC = "bench/latency/probe"
BROKER_INFLIGHT = 20  # mosquitto's default: nothing is queued here, keep the broker stock


@dataclass(frozen=True, slots=True)
class LatencySettings:
    """How many changes to time."""

    changes: int


@dataclass(frozen=True, slots=True)
class Target:
    """The board, the lot whose line is watched, and the category it shows."""

    url: str
    lot: str
    category: str
    capacities: dict[str, int]
    topic: str


def percentile(samples: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile."""
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def lot_status(target: Target, value: int) -> bytes:
    categories = {name: cap // 2 for name, cap in target.capacities.items()}
    categories[target.category] = value
    # no "ts": the app runs on the bench's site clock (a Wednesday morning, maybe days from now),
    # so a wall-clock stamp could be older than what the site was populated with, and stale
    return orjson.dumps({"free": sum(categories.values()), "categories": categories})


async def _board_lines(http: aiohttp.ClientSession, url: str) -> list[dict[str, Any]]:
    async with http.get(url) as response:
        body = await response.read()
    lines: list[dict[str, Any]] = orjson.loads(body)["lines"]
    return lines


def free_shown(lines: list[dict[str, Any]], lot: str) -> int | None:
    """The count a board's lines show for a lot (None: no line for it, or no count)."""
    for line in lines:
        if line["lot"] == lot:
            free = line["free"]
            return int(free) if free is not None else None
    return None


async def _shown(http: aiohttp.ClientSession, url: str, lot: str) -> int | None:
    return free_shown(await _board_lines(http, url), lot)


async def prepare(
    mqtt: aiomqtt.Client, http: aiohttp.ClientSession, site: str, url: str
) -> tuple[Target, int]:
    """Fill the site over MQTT, then pick the line to change: the target and the count it shows now.

    One message per feed source; then, once the board shows counts, its first line fed by a
    lot system or gates.
    """
    config = load_site(site)
    for topic, payload in first_messages(config, source_count(config)):
        await mqtt.publish(topic, payload, qos=1)
    board = config.boards[0]
    lots = {lot.id: lot for lot in config.lots}
    lot_topic = next((entry.topic for entry in config.feeds if entry.format == "lot"), None)
    if lot_topic is None:
        raise BenchError("the site has no lot status feed to publish changes on")
    deadline = time.monotonic() + POPULATE_TIMEOUT_S
    while time.monotonic() < deadline:
        for line in await _board_lines(http, url):
            spec = lots[line["lot"]]
            if spec.sources & {"lot", "gate"} and "spot" not in spec.sources and line["free"] is not None:
                category = board.needs[0] if board.needs else "general"
                topic = lot_topic.format(lot=spec.id)
                return Target(url, spec.id, category, spec.capacities(), topic), int(line["free"])
        await asyncio.sleep(0.05)
    raise BenchError(f"board {board.id} showed no counts within {POPULATE_TIMEOUT_S:.0f}s")


def change_values(capacity: int, current: int) -> tuple[int, int]:
    """Two counts near half capacity to alternate between, neither equal to the one shown now."""
    a = capacity // 2 if capacity // 2 != current else capacity // 2 + 2
    return a, a + 1 if a + 1 != current else a - 1


async def _changes(
    mqtt: aiomqtt.Client, http: aiohttp.ClientSession, target: Target, current: int, n: int
) -> tuple[list[float], int]:
    """Publish n changes; return the latencies (ms) of those seen and how many never showed."""
    values = change_values(target.capacities[target.category], current)
    latencies: list[float] = []
    missed = 0
    for i in range(n):
        value = values[i % 2]
        started = time.perf_counter()
        await mqtt.publish(target.topic, lot_status(target, value), qos=1)
        while await _shown(http, target.url, target.lot) != value:
            if time.perf_counter() - started > CHANGE_TIMEOUT_S:
                missed += 1
                break
        else:
            latencies.append(1000 * (time.perf_counter() - started))
        await asyncio.sleep(random.uniform(*PAUSE_S))
    return latencies, missed


async def _floor(
    broker: Broker, mqtt: aiomqtt.Client, http: aiohttp.ClientSession, url: str, n: int
) -> list[float]:
    """The same publish reaching a subscriber here, then one board GET: loopback's floor (ms)."""
    samples: list[float] = []
    async with aiomqtt.Client(
        broker.host, broker.port, identifier=f"bench-probe-{time.monotonic_ns()}"
    ) as sub:
        await sub.subscribe(PROBE_TOPIC, qos=1)
        # one unmeasured round first: right after the SUBACK, mosquitto (no TCP_NODELAY by
        # default) holds the next packet until the delayed ACK, a one-off ~40 ms
        for i in range(n + 1):
            started = time.perf_counter()
            await mqtt.publish(PROBE_TOPIC, b"1", qos=1)
            await asyncio.wait_for(anext(sub.messages), CHANGE_TIMEOUT_S)
            await _board_lines(http, url)
            if i:
                samples.append(1000 * (time.perf_counter() - started))
            await asyncio.sleep(random.uniform(*PAUSE_S))
    return samples


async def _measure(broker: Broker, site: str, url: str, n: int) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=1)
    async with (
        aiohttp.ClientSession(connector=connector) as http,
        aiomqtt.Client(broker.host, broker.port, identifier=f"bench-pub-{time.monotonic_ns()}") as mqtt,
    ):
        target, current = await prepare(mqtt, http, site, url)
        latencies, missed = await _changes(mqtt, http, target, current, n)
        floor = await _floor(broker, mqtt, http, url, n)
    return {
        "lot": target.lot,
        "category": target.category,
        "latencies_ms": latencies,
        "missed": missed,
        "floor_ms": floor,
    }


def _ready(port: int) -> bool:
    try:
        return http_get(port, "/readyz")[0] == 200
    except OSError:
        return False


@contextmanager
def app_with_ingest(procs: Processes, site: str, name: str) -> Iterator[tuple[Broker, int]]:
    """A private broker (stock settings) and the app with its MQTT ingest on it, ready: (broker, app port)."""
    with private_broker(procs, f"mosquitto-{name}", BROKER_INFLIGHT) as broker:
        port = free_port()
        args = ["--mode", "app", "--config", site, "--port", str(port)]
        args += ["--broker-port", str(broker.port), "--client-id", f"bench-app-{name}"]
        proc = procs.spawn_python(f"server-app-ingest-{name}", "bench.server", *args)
        try:
            procs.wait_until(proc, lambda: _ready(port), "app with ingest (readyz)")
            yield broker, port
        finally:
            procs.stop(proc)


def run_latency(
    procs: Processes, site: str, settings: LatencySettings
) -> tuple[list[Figure], dict[str, Any]]:
    """Start a broker and the app with ingest, time the changes; return table rows and raw data."""
    board = first_board(site)[1]
    with app_with_ingest(procs, site, "latency") as (broker, port):
        url = f"http://127.0.0.1:{port}/api/v1/boards/{board}"
        data = asyncio.run(_measure(broker, site, url, settings.changes))
    return _figures(data, settings), {"changes": settings.changes, **data}


def _figures(data: dict[str, Any], settings: LatencySettings) -> list[Figure]:
    latencies, floor, missed = data["latencies_ms"], data["floor_ms"], data["missed"]
    p99 = percentile(latencies, 0.99)
    note = (
        f"{len(latencies)} of {settings.changes} changes of lot {data['lot']} seen"
        f"{f', {missed} not within {CHANGE_TIMEOUT_S:.0f}s' if missed else ''};"
        f" max {max(latencies, default=0):.2f} ms; baseline = MQTT hop to a plain subscriber + one GET"
    )
    return [
        Figure(
            "latency",
            "publish -> board shows it: p50",
            percentile(latencies, 0.5),
            "ms",
            percentile(floor, 0.5),
        ),
        Figure(
            "latency",
            "publish -> board shows it: p99",
            p99,
            "ms",
            percentile(floor, 0.99),
            f"< {TARGET_P99_MS:.0f} ms",
            p99 is not None and p99 < TARGET_P99_MS and missed == 0,
            note,
        ),
    ]
