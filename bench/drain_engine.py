"""Child process: the real ingest (MqttIngest + Dispatcher + SiteFeed + LiveSite) draining a backlog.

    python -m bench.drain_engine --config SITE --port P --client-id ID --count N --result FILE

Wired as parking/app/factory.py wires it, with one addition: a sink in front of the engine
that counts what reaches it, to stop the clock on the N-th message.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import os
import time
from typing import Any

from bench.procs import write_result
from bench.site import load_site, site_clock, with_broker, with_lorawan
from parking.app.feed import SiteFeed
from parking.app.metrics import Metrics
from parking.guidance.seen import BoardsSeen
from parking.live import LiveSite
from parking.observations import Observation
from parking.store.store import open_store
from parking.store.writer import StoreWriter
from parking.types import ConnectionState
from sensors.ingest import Dispatcher, MqttIngest

POLL_S = 0.05
STOP_S = 5.0
logger = logging.getLogger(__name__)


class CountingSink:
    """A FeedSink that hands everything to the engine and notes when the N-th message got there."""

    def __init__(self, engine: SiteFeed, count: int) -> None:
        self.engine = engine
        self.count = count
        self.seen = 0
        self.first_at: float | None = None
        self.done_at: float | None = None

    def observe(self, feed: str, obs: Observation) -> None:
        """Apply through the engine, then count."""
        self.engine.observe(feed, obs)
        self._tally()

    def reject(self, feed: str, reason: str, topic: str, payload: bytes, detail: str) -> None:
        """Reject through the engine, then count."""
        self.engine.reject(feed, reason, topic, payload, detail)
        self._tally()

    def connection_changed(self, state: ConnectionState) -> None:
        """Pass connection changes on to the engine."""
        self.engine.connection_changed(state)

    def session_taken_over(self) -> None:
        """Pass session takeovers on to the engine."""
        self.engine.session_taken_over()

    def _tally(self) -> None:
        self.seen += 1
        if self.seen == 1:
            self.first_at = time.perf_counter()
        if self.seen == self.count:
            self.done_at = time.perf_counter()


def feed_results(metrics: Metrics) -> dict[str, int]:
    """The engine's parking_feed_messages counter, summed per result label."""
    out: dict[str, int] = {}
    for metric in metrics.feed_messages.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                result = sample.labels["result"]
                out[result] = out.get(result, 0) + int(sample.value)
    return out


async def drain(
    site: str,
    port: int,
    client_id: str,
    count: int,
    idle_s: float,
    limit_s: float,
    result_path: str,
    lorawan: bool = False,
    store_admin_dsn: str | None = None,
) -> dict[str, Any]:
    """Run the ingest until `count` messages reached the engine (or it went idle); with the store if asked."""
    if store_admin_dsn is None:
        return await _drain(site, port, client_id, count, idle_s, limit_s, result_path, lorawan, None)
    from bench.store import database

    async with database(store_admin_dsn) as dsn:
        return await _drain(site, port, client_id, count, idle_s, limit_s, result_path, lorawan, dsn)


async def _drain(
    site: str,
    port: int,
    client_id: str,
    count: int,
    idle_s: float,
    limit_s: float,
    result_path: str,
    lorawan: bool,
    dsn: str | None,
) -> dict[str, Any]:
    loaded = with_lorawan(load_site(site)) if lorawan else load_site(site)
    config = with_broker(loaded, "127.0.0.1", port, client_id)
    clock = site_clock(config)
    live = LiveSite(config, clock())
    metrics = Metrics.of(live)
    store = writer_task = None
    if dsn is not None:  # wired as parking/app/factory.py wires it
        store = await open_store(config.store, dsn)
        writer = StoreWriter(store.pool, store.buffer, live, BoardsSeen([]), clock, config.store, store.state)
        writer_task = asyncio.create_task(writer.run(), name="bench-store-writer")
    record = store.record_observation if store is not None else None
    sink = CountingSink(SiteFeed(live, metrics, clock, record=record), count)
    dispatcher = Dispatcher(config.feeds, sink, config.mqtt.max_payload_bytes)
    ingest = MqttIngest(config.mqtt, dispatcher, sink)
    started = time.perf_counter()
    task = asyncio.create_task(ingest.run(), name="bench-mqtt-ingest")
    seen, progress_at = 0, started
    try:
        while sink.seen < count and not task.done():
            await asyncio.sleep(POLL_S)
            now = time.perf_counter()
            if sink.seen != seen:
                seen, progress_at = sink.seen, now
            # idle only counts once messages flow: the backlog may all be read before the first
            if (seen and now - progress_at > idle_s) or now - started > limit_s:
                break
    finally:
        task.cancel()
        await asyncio.wait({task}, timeout=STOP_S)
        if writer_task is not None and store is not None:
            writer_task.cancel()
            await asyncio.wait({writer_task}, timeout=STOP_S)
            await store.pool.close()
    result = {
        "received": sink.seen,
        "expected": count,
        "seconds": (sink.done_at or time.perf_counter()) - started,
        "first_message_s": None if sink.first_at is None else sink.first_at - started,
        "complete": sink.done_at is not None,
        "results": feed_results(metrics),
        "reconnects": ingest.reconnects,
        "stopped_cleanly": task.done(),
        "store_backlog": None if store is None else len(store.buffer),
        "store_written": None if store is None else store.buffer.written["observations"],
    }
    if not task.done():
        # asyncio.run would wait for the task forever: report, then leave at once
        logger.warning("the ingest task ignored cancellation for %.0fs", STOP_S)
        write_result(result_path, result)
        os._exit(0)
    if not task.cancelled() and task.exception() is not None:
        logger.warning("the ingest task failed", exc_info=task.exception())
    return result


def main() -> None:
    """Parse arguments, drain (optionally under cProfile), write the result."""
    parser = argparse.ArgumentParser(prog="python -m bench.drain_engine")
    parser.add_argument("--config", required=True, help="config file, or 'test' for tests/helpers/site.py")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--idle-s", type=float, default=5.0)
    parser.add_argument("--limit-s", type=float, default=120.0)
    parser.add_argument("--profile", help="write cProfile stats of the drain to this file")
    parser.add_argument("--store-admin-dsn", help="with the store: a fresh database on this server")
    parser.add_argument("--result", required=True)
    parser.add_argument("--lorawan", action="store_true", help="the site's bays report as LoRaWAN devices")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    run = drain(
        args.config,
        args.port,
        args.client_id,
        args.count,
        args.idle_s,
        args.limit_s,
        args.result,
        args.lorawan,
        args.store_admin_dsn,
    )
    if args.profile:
        with cProfile.Profile() as profile:
            result = asyncio.run(run)
        profile.dump_stats(args.profile)
    else:
        result = asyncio.run(run)
    write_result(args.result, result)


if __name__ == "__main__":
    main()
