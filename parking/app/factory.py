"""The application factory: resources open in start-up order in cleanup_ctx and close in reverse.

Order: (the store joins first, when there is one) → the live site → routes and
guidance, built off the event loop → MQTT ingest → the ticker (availability,
and every guidance.refresh_s the pending arrivals boards read).
Each resource's cleanup runs only if its start-up succeeded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path

import orjson
import yaml
from aiohttp import web

from parking.app import api, guidance_api, ops, pages, streams
from parking.app.boards import BoardCache
from parking.app.feed import SiteFeed
from parking.app.graphfile import GraphFileError, load_graph
from parking.app.keys import (
    BOARDS,
    CLOCK,
    CONFIG,
    FEED,
    GUIDANCE,
    INGEST,
    LINKS,
    LIVE,
    METRICS,
    OPENAPI,
    OUTLOOK,
    PENDING,
    SEEN,
    SIGNAL,
    TASKS,
)
from parking.app.links import NavLinkCache
from parking.app.metrics import Metrics
from parking.app.middleware import observe_requests
from parking.app.outlook import GuidanceOutlook
from parking.app.seen import BoardsSeen
from parking.app.signals import ChangeSignal
from parking.app.tasks import BackgroundTasks
from parking.clock import Clock, utc_now
from parking.config.models import Config
from parking.guidance import RoadGraph, RouteTable, build_road_graph
from parking.guidance.pending import PendingArrivals
from parking.guidance.service import GuidanceService
from parking.live import LiveSite
from sensors.ingest import Dispatcher, MqttIngest

TICK_S = 1.0
TICKER = "availability-ticker"
INGEST_TASK = "mqtt-ingest"


def create_app(config: Config, *, ingest: bool = True, clock: Clock = utc_now) -> web.Application:
    """Build the web application; with `ingest`, it also consumes the MQTT feeds."""
    app = web.Application(middlewares=[observe_requests])
    app[CONFIG] = config
    app[CLOCK] = clock
    app[OPENAPI] = _openapi_json()
    app[TASKS] = BackgroundTasks()
    app[PENDING] = PendingArrivals(config.guidance.pending_slack_s)
    app[SEEN] = BoardsSeen([board.id for board in config.boards])
    app[LINKS] = NavLinkCache(config.site.name)
    app.on_shutdown.append(_end_streams)
    app.cleanup_ctx.append(_live_site)
    app.cleanup_ctx.append(_guidance)
    if ingest:
        app.cleanup_ctx.append(_mqtt_ingest)
    app.cleanup_ctx.append(_ticker)
    app.add_routes(api.routes)
    guidance_api.setup(app)
    app.add_routes(streams.routes)
    pages.setup(app)
    app.add_routes(ops.routes)
    return app


def build_guidance(config: Config) -> GuidanceService:
    """The road graph, every board's routes and the guidance service: CPU work, run in an executor."""
    roads = load_roads(config)
    return GuidanceService(config, RouteTable(config, roads), roads)


def load_roads(config: Config) -> RoadGraph:
    """The road graph: built from the config's ways, or read from its graph file (GraphFileError)."""
    if config.roads.file is None:
        return build_road_graph(config.roads)
    roads, _ = load_graph(Path(config.roads.file))
    nodes = [e.node for lot in config.lots for e in lot.entrances] + [b.node for b in config.boards]
    unknown = sorted({node for node in nodes if node is not None and node not in roads.coords})
    if unknown:
        raise GraphFileError(
            f"{config.roads.file}: the config names road nodes the graph does not have: "
            + ", ".join(unknown[:5])
        )
    return roads


def _openapi_json() -> bytes:
    text = resources.files("parking.app").joinpath("openapi.yaml").read_text(encoding="utf-8")
    return orjson.dumps(yaml.safe_load(text))


async def _live_site(app: web.Application) -> AsyncIterator[None]:
    live = LiveSite(app[CONFIG], app[CLOCK]())
    # (a restore from the store goes here, before anything reads the live site)
    metrics = Metrics(lambda: list(live.views().values()), lambda: live.version)
    seen, clock = app[SEEN], app[CLOCK]
    metrics.watch_boards(lambda: seen.ages_s(clock()))
    lot_ids = [lot.id for lot in app[CONFIG].lots]
    metrics.watch_sources(
        lambda: {
            (lot_id, source.source): source.age_s
            for lot_id in lot_ids
            for source in live.sources(lot_id, clock())
            if source.age_s is not None
        }
    )
    app[LIVE] = live
    app[METRICS] = metrics
    app[FEED] = SiteFeed(live, metrics, app[CLOCK])
    app[SIGNAL] = signal = ChangeSignal(live)
    yield
    signal.close()


async def _end_streams(app: web.Application) -> None:
    """On shutdown, before the server waits for handlers: wake every event stream so it ends."""
    if SIGNAL in app:
        app[SIGNAL].close()


async def _guidance(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    loop = asyncio.get_running_loop()
    guidance = await loop.run_in_executor(None, build_guidance, config)
    app[GUIDANCE] = guidance
    app[OUTLOOK] = outlook = GuidanceOutlook(config, guidance, app[LIVE], app[PENDING], app[CLOCK]())
    labels = {lot.id: lot.display_label for lot in config.lots}
    app[BOARDS] = BoardCache(
        app[LIVE],
        guidance,
        labels,
        config.defaults.board_ttl_s,
        config.signage.fallback_text,
        outlook.for_board,
    )
    yield


async def _mqtt_ingest(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    feed = app[FEED]
    dispatcher = Dispatcher(config.feeds, feed, config.mqtt.max_payload_bytes)
    ingest = MqttIngest(config.mqtt, dispatcher, feed)
    app[INGEST] = ingest
    app[TASKS].start(INGEST_TASK, ingest.run())
    yield
    await app[TASKS].stop(INGEST_TASK)


async def _ticker(app: web.Application) -> AsyncIterator[None]:
    live, clock, outlook = app[LIVE], app[CLOCK], app[OUTLOOK]
    refresh_s = app[CONFIG].guidance.refresh_s

    async def tick_forever() -> None:
        refreshed = clock()
        while True:
            now = clock()
            live.tick(now)
            if (now - refreshed).total_seconds() >= refresh_s:
                outlook.refresh(now)
                refreshed = now
            await asyncio.sleep(TICK_S)

    app[TASKS].start(TICKER, tick_forever())
    yield
    await app[TASKS].stop(TICKER)
