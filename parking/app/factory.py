"""The application factory: resources open in start-up order in cleanup_ctx and close in reverse.

Order: the store, when the config has a DSN (a pool, migrations applied) → the
live site, restored from the store, with the store's writer → routes and
guidance, built off the event loop → MQTT ingest → the ticker (availability,
and every guidance.refresh_s the pending arrivals boards read) → with a store, the
forecasts' weekday profiles, refreshed every few minutes.
Each resource's cleanup runs only if its start-up succeeded; the server
accepts requests only once all of them have started, so no board answers from
a live site that has not been restored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from importlib import resources

import orjson
import yaml
from aiohttp import web

from parking.app.api import guidance as guidance_api
from parking.app.api import history as history_api
from parking.app.api import lots as lots_api
from parking.app.api import streams
from parking.app.api.boards import BoardCache
from parking.app.api.links import NavLinkCache
from parking.app.feed import SiteFeed
from parking.app.forecasts import LotForecasts
from parking.app.keys import (
    ARRIVAL_BUDGET,
    BOARDS,
    CLOCK,
    CONFIG,
    DRIVER_GUIDANCE,
    DRIVERS,
    FEED,
    FORECASTS,
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
    STORE,
    TASKS,
    TRAFFIC,
)
from parking.app.metrics import Metrics, StoreStats
from parking.app.ops import dashboard
from parking.app.ops import health as ops
from parking.app.pages import driver as pages
from parking.app.signals import ChangeSignal
from parking.app.tasks import BackgroundTasks
from parking.app.web.observe import add_routes, add_unmatched
from parking.clock import Clock, utc_now
from parking.config.models import Config
from parking.guidance.credible import ArrivalBudget
from parking.guidance.drivers import DriverGuidance, DriversOnTheirWay
from parking.guidance.outlook import GuidanceOutlook
from parking.guidance.pending import ExpectedTraffic, PendingArrivals
from parking.guidance.seen import BoardsSeen
from parking.live import LiveSite
from parking.roads.load import build_guidance
from parking.store import CONNECTION_ERRORS
from parking.store.restore import restore
from parking.store.store import Store, open_store
from parking.store.writer import StoreWriter
from sensors.ingest import Dispatcher, MqttIngest

logger = logging.getLogger(__name__)

TICK_S = 1.0
TICKER = "availability-ticker"
INGEST_TASK = "mqtt-ingest"
WRITER_TASK = "store-writer"
FORECAST_TASK = "forecast-refresh"


def create_app(config: Config, *, ingest: bool = True, clock: Clock = utc_now) -> web.Application:
    """Build the web application; with `ingest`, it also consumes the MQTT feeds."""
    app = web.Application()  # no middleware: parking/app/web/observe.py wraps each route instead
    app[CONFIG] = config
    app[CLOCK] = clock
    app[OPENAPI] = _openapi_json()
    app[TASKS] = BackgroundTasks()
    app[PENDING] = PendingArrivals(config.guidance.pending_slack_s)
    app[DRIVERS] = DriversOnTheirWay(app[PENDING])
    app[ARRIVAL_BUDGET] = ArrivalBudget()
    app[TRAFFIC] = ExpectedTraffic(config)
    app[SEEN] = BoardsSeen([board.id for board in config.boards])
    app[LINKS] = NavLinkCache(config.site.name)
    app[FORECASTS] = LotForecasts(config, clock)
    app.on_shutdown.append(_end_streams)
    if config.store.dsn is not None:
        app.cleanup_ctx.append(_store)
    app.cleanup_ctx.append(_live_site)
    app.cleanup_ctx.append(_guidance)
    if ingest:
        app.cleanup_ctx.append(_mqtt_ingest)
    app.cleanup_ctx.append(_ticker)
    if config.store.dsn is not None:
        app.cleanup_ctx.append(_forecast_refresh)
    add_routes(app, lots_api.routes)
    add_routes(app, history_api.routes)
    guidance_api.setup(app)
    streams.setup(app)
    pages.setup(app)
    add_routes(app, ops.routes)
    dashboard.setup(app)
    add_unmatched(app)  # last: it takes every path
    return app


def _openapi_json() -> bytes:
    text = resources.files("parking.app").joinpath("openapi.yaml").read_text(encoding="utf-8")
    return orjson.dumps(yaml.safe_load(text))


async def _store(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG].store
    assert config.dsn is not None
    store = await open_store(config, config.dsn)
    app[STORE] = store
    yield
    await store.pool.close()


async def _live_site(app: web.Application) -> AsyncIterator[None]:
    seen, clock = app[SEEN], app[CLOCK]
    live = LiveSite(app[CONFIG], clock())
    store = app.get(STORE)
    if store is not None and store.state.up:
        await _restore(store, live, app)  # before anything reads the live site
    metrics = Metrics.of(live)
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
    app[FEED] = SiteFeed(live, metrics, clock, record=store.record_observation if store else None)
    app[SIGNAL] = signal = ChangeSignal(live)
    writer = None
    if store is not None:
        writer = StoreWriter(store.pool, store.buffer, live, seen, clock, app[CONFIG].store, store.state)
        metrics.watch_store(lambda: _store_stats(store))
        app[TASKS].start(WRITER_TASK, writer.run())
    yield
    if writer is not None:
        await app[TASKS].stop(WRITER_TASK)
        await writer.flush_now()  # what the feeds and drivers gave until the very end
    signal.close()


async def _restore(store: Store, live: LiveSite, app: web.Application) -> None:
    try:
        async with store.pool.acquire() as conn:
            store.restored = await restore(conn, live, app[DRIVERS], app[SEEN], app[CLOCK]())
    except CONNECTION_ERRORS as exc:  # gone since start-up: the feeds alone will have to do
        logger.error("store: restore failed, starting from the feeds alone: %s", exc)


def _store_stats(store: Store) -> StoreStats:
    buffer = store.buffer
    state = store.state
    return StoreStats(state.up, state.historian, len(buffer), buffer.limit, buffer.dropped, buffer.written)


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
    app[DRIVER_GUIDANCE] = DriverGuidance(guidance, app[DRIVERS], outlook)
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


async def _forecast_refresh(app: web.Application) -> AsyncIterator[None]:
    app[TASKS].start(FORECAST_TASK, app[FORECASTS].run(app[STORE]))
    yield
    await app[TASKS].stop(FORECAST_TASK)
