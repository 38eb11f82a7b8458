"""The application factory: resources live in cleanup_ctx, background tasks are named."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from importlib import resources

import orjson
import yaml
from aiohttp import web

from parking.clock import Clock, utc_now
from parking.config.models import Config
from parking.engine import Engine
from parking.web import api, ops
from parking.web.errors import observe_requests
from parking.web.keys import CONFIG, ENGINE, INGEST, OPENAPI
from sensors.ingest import Dispatcher, MqttIngest

logger = logging.getLogger(__name__)

TICK_S = 1.0


def create_app(config: Config, *, ingest: bool = True, clock: Clock = utc_now) -> web.Application:
    """Build the web application; with `ingest`, it also consumes the MQTT feeds."""
    app = web.Application(middlewares=[observe_requests])
    app[CONFIG] = config
    app[OPENAPI] = _openapi_json()
    # The engine exists before startup so handlers and tests can reach it; the road
    # graph is built here, once, never in a request.
    app[ENGINE] = Engine(config, clock=clock)
    app.cleanup_ctx.append(_ticker)
    if ingest:
        app.cleanup_ctx.append(_mqtt_ingest)
    app.add_routes(api.routes)
    app.add_routes(ops.routes)
    return app


def _openapi_json() -> bytes:
    text = resources.files("parking.web").joinpath("openapi.yaml").read_text(encoding="utf-8")
    return orjson.dumps(yaml.safe_load(text))


async def _ticker(app: web.Application) -> AsyncIterator[None]:
    engine = app[ENGINE]

    async def tick_forever() -> None:
        while True:
            engine.tick()
            await asyncio.sleep(TICK_S)

    task = asyncio.create_task(tick_forever(), name="availability-ticker")
    task.add_done_callback(_log_crash)
    yield
    await _stop(task)


async def _mqtt_ingest(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    engine = app[ENGINE]
    dispatcher = Dispatcher(config.feeds, engine, config.mqtt.max_payload_bytes)
    ingest = MqttIngest(config.mqtt, dispatcher, engine)
    app[INGEST] = ingest
    task = asyncio.create_task(ingest.run(), name="mqtt-ingest")
    task.add_done_callback(_log_crash)
    yield
    await _stop(task)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("background task %s crashed", task.get_name(), exc_info=task.exception())
