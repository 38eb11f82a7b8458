"""Child process of (e) streams: many clients of one board, and the lot changes they must see.

    python -m bench.stream_clients --config SITE --port P --broker-port B \
        --connections N --pollers M --changes K --result FILE

Fills the site over MQTT and picks the board line to change (as (c) does), then runs two
phases one after the other, each timing K changes of that lot published over MQTT (QoS 1):

- pollers: M clients, each on its own keep-alive connection, GET the board JSON with
  If-None-Match once a second, their first requests spread evenly over the first second;
  a poller has the change when it gets a new ETag whose body shows the new count;
- streams: N connections to GET /api/v1/boards/{id}/stream (server-sent events, HTTP/1.1
  as browsers send it), read by a minimal asyncio protocol so that reading 1,000 sockets
  costs this process as little as possible; a stream has the change when an event shows
  the new count.

The pollers go first: a stream the client closes leaves its handler waiting in the app
until the next change, which would then land in the pollers' phase.

For every change: the time from just before the publish until each client had it, and
how many did within the timeout. All in this one process, so one clock times everything;
it raises its open-files soft limit to the hard limit first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from itertools import cycle
from typing import Any

import aiohttp
import aiomqtt
import orjson

from bench.broker import HOST
from bench.latency import Target, change_values, free_shown, lot_status, percentile, prepare
from bench.procs import raise_open_files_limit, write_result
from bench.site import first_board

PERIOD_S = 1.0  # a poller's interval
POLL_TIMEOUT_S = PERIOD_S + 2.0  # a poller that has not seen a change by then missed it
STREAM_TIMEOUT_S = 5.0
CONNECT_BATCH = 100  # streams opened at once: stays under the server's listen backlog (128)
CONNECT_TIMEOUT_S = 30.0
PAUSE_S = (0.3, 0.7)  # between changes, jittered
logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Change:
    """One published change: the count to look for, and when each client first showed it."""

    value: int
    wanted: int
    done: asyncio.Future[None]
    seen: dict[int, float] = field(default_factory=dict)


class Watch:
    """Where clients report what they show; it knows the change being waited for, if any."""

    def __init__(self, lot: str) -> None:
        self.lot = lot
        self.change: Change | None = None

    def shows(self, client: int, body: bytes | bytearray, at: float) -> None:
        """A client got a new board JSON body at `at` (perf_counter)."""
        change = self.change
        if change is None or client in change.seen:
            return
        if free_shown(orjson.loads(body)["lines"], self.lot) == change.value:
            change.seen[client] = at
            if len(change.seen) >= change.wanted and not change.done.done():
                change.done.set_result(None)


async def _time_changes(
    mqtt: aiomqtt.Client,
    target: Target,
    values: cycle[int],
    watch: Watch,
    changes: int,
    live: Callable[[], int],
    timeout_s: float,
) -> list[dict[str, Any]]:
    """Publish `changes` changes; for each, the latencies (ms) until every live client had it."""
    out = []
    loop = asyncio.get_running_loop()
    for _ in range(changes):
        wanted = live()
        change = watch.change = Change(next(values), wanted, loop.create_future())
        started = time.perf_counter()
        await mqtt.publish(target.topic, lot_status(target, change.value), qos=1)
        await asyncio.wait([change.done], timeout=timeout_s)
        watch.change = None
        latencies = [1000 * (at - started) for at in change.seen.values()]
        out.append(
            {
                "value": change.value,
                "clients": wanted,
                "received": len(latencies),
                "first_ms": min(latencies, default=None),
                "p50_ms": percentile(latencies, 0.5),
                "p99_ms": percentile(latencies, 0.99),
                "max_ms": max(latencies, default=None),
            }
        )
        await asyncio.sleep(random.uniform(*PAUSE_S))
    return out


# -- pollers ---------------------------------------------------------------------------------


@dataclass(slots=True)
class PollCounts:
    """What the pollers did in all."""

    pollers: int
    everyone: asyncio.Event = field(default_factory=asyncio.Event)  # every poller has had an answer
    ready: int = 0  # pollers that have had their first answer
    requests: int = 0
    errors: int = 0
    late: int = 0  # polls skipped because the previous one ran past its slot


async def _poller(
    client: int, url: str, first_at: float, watch: Watch, counts: PollCounts, stop: asyncio.Event
) -> None:
    etag: str | None = None
    answered = False
    due = first_at
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
        while not stop.is_set():
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            headers = {"If-None-Match": etag} if etag else {}
            try:
                async with session.get(url, headers=headers) as response:
                    body = await response.read()
                    at = time.perf_counter()
                    status, new_etag = response.status, response.headers.get("ETag")
            except (aiohttp.ClientError, TimeoutError):
                counts.errors += 1
            else:
                counts.requests += 1
                if not answered:
                    answered = True
                    counts.ready += 1
                    if counts.ready == counts.pollers:
                        counts.everyone.set()
                if status == 200 and new_etag != etag:
                    etag = new_etag
                    watch.shows(client, body, at)
                elif status not in (200, 304):
                    counts.errors += 1
            due += PERIOD_S
            while due < time.perf_counter():
                due += PERIOD_S
                counts.late += 1


async def _poll_phase(
    mqtt: aiomqtt.Client, target: Target, values: cycle[int], n: int, changes: int
) -> dict[str, Any]:
    watch, counts, stop = Watch(target.lot), PollCounts(n), asyncio.Event()
    start = time.perf_counter() + 0.1
    tasks = [
        asyncio.create_task(_poller(i, target.url, start + PERIOD_S * i / n, watch, counts, stop))
        for i in range(n)
    ]
    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(PERIOD_S + CONNECT_TIMEOUT_S):
                await counts.everyone.wait()
        await asyncio.sleep(PERIOD_S)  # every poller is on its schedule now
        ready = counts.ready
        timed = await _time_changes(mqtt, target, values, watch, changes, lambda: ready, POLL_TIMEOUT_S)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "clients": n,
        "ready": ready,
        "period_s": PERIOD_S,
        "requests": counts.requests,
        "errors": counts.errors,
        "late": counts.late,
        "changes": timed,
    }


# -- streams ---------------------------------------------------------------------------------


class StreamClient(asyncio.Protocol):
    """One text/event-stream connection, parsed just enough to find each event's JSON."""

    def __init__(self, client: int, request: bytes, watch: Watch) -> None:
        self.client = client
        self.request = request
        self.watch = watch
        self.buffer = bytearray()
        self.headers_done = False
        self.open = False
        self.first: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.open = True
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        if not self.first.done():
            self.first.set_result(False)

    def data_received(self, data: bytes) -> None:
        at = time.perf_counter()
        self.buffer += data
        if not self.headers_done:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = self.buffer[: self.buffer.find(b"\r\n")].split(b" ")[1]
            if status != b"200":
                logger.warning("stream answered %s", status.decode(errors="replace"))
                self.close()
                return
            del self.buffer[: end + 4]
            self.headers_done = True
        # each event (or comment) ends with a blank line and is one chunk of the chunked
        # body, so the chunk framing only ever sits before an event's first line
        while (end := self.buffer.find(b"\n\n")) >= 0:
            block = bytes(self.buffer[:end])
            del self.buffer[: end + 2]
            data_at = block.find(b"data: ")
            if data_at < 0:
                continue  # retry: or a keep-alive comment
            if not self.first.done():
                self.first.set_result(True)
            self.watch.shows(self.client, block[data_at + 6 :], at)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _itself(client: StreamClient) -> StreamClient:
    return client


async def _open_streams(port: int, board: str, n: int, watch: Watch) -> list[StreamClient]:
    """Open n streams, a batch at a time; return those that got their first event."""
    loop = asyncio.get_running_loop()
    request = (
        f"GET /api/v1/boards/{board}/stream HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
    ).encode()
    clients = [StreamClient(i, request, watch) for i in range(n)]
    deadline = time.perf_counter() + CONNECT_TIMEOUT_S
    for at in range(0, n, CONNECT_BATCH):
        batch = clients[at : at + CONNECT_BATCH]
        connecting = [loop.create_connection(partial(_itself, c), HOST, port) for c in batch]
        for outcome in await asyncio.gather(*connecting, return_exceptions=True):
            if isinstance(outcome, BaseException):
                logger.warning("stream connect failed: %s", outcome)
        pending = [c.first for c in batch if c.open]
        if pending:
            await asyncio.wait(pending, timeout=max(0.1, deadline - time.perf_counter()))
    return [c for c in clients if c.first.done() and c.first.result()]


async def _stream_phase(
    mqtt: aiomqtt.Client, target: Target, values: cycle[int], port: int, board: str, n: int, changes: int
) -> dict[str, Any]:
    watch = Watch(target.lot)
    clients = await _open_streams(port, board, n, watch)
    try:

        def live() -> int:
            return sum(c.open for c in clients)

        timed = await _time_changes(mqtt, target, values, watch, changes, live, STREAM_TIMEOUT_S)
        still_open = live()
    finally:
        for client in clients:
            client.close()
    return {"clients": n, "connected": len(clients), "open_at_end": still_open, "changes": timed}


async def measure(
    site: str, port: int, broker_port: int, connections: int, pollers: int, changes: int
) -> dict[str, Any]:
    """Fill the site, pick the target, run both phases."""
    board = first_board(site)[1]
    url = f"http://{HOST}:{port}/api/v1/boards/{board}"
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as http,
        aiomqtt.Client(HOST, broker_port, identifier=f"bench-streams-{time.monotonic_ns()}") as mqtt,
    ):
        target, current = await prepare(mqtt, http, site, url)
        values = cycle(change_values(target.capacities[target.category], current))
        poll = await _poll_phase(mqtt, target, values, pollers, changes)
        streams = await _stream_phase(mqtt, target, values, port, board, connections, changes)
    return {"board": board, "lot": target.lot, "category": target.category, "poll": poll, "streams": streams}


def main() -> None:
    """Parse arguments, measure, write the result."""
    parser = argparse.ArgumentParser(prog="python -m bench.stream_clients")
    parser.add_argument("--config", required=True, help="config file, or 'test' for tests/helpers/site.py")
    parser.add_argument("--port", type=int, required=True, help="the app's HTTP port")
    parser.add_argument("--broker-port", type=int, required=True)
    parser.add_argument("--connections", type=int, default=1000, help="event streams")
    parser.add_argument("--pollers", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=5)
    parser.add_argument("--result", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    nofile = raise_open_files_limit()
    if nofile < args.connections + args.pollers + 64:
        raise SystemExit(f"open-files limit {nofile} is too low for {args.connections} streams")
    result = asyncio.run(
        measure(args.config, args.port, args.broker_port, args.connections, args.pollers, args.changes)
    )
    write_result(args.result, {**result, "open_files_limit": nofile})


if __name__ == "__main__":
    main()
