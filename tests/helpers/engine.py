"""The engine against a real broker: the test site on its own topic prefix, publishing to it, waiting
for what the engine shows, and what it shows (board line, readiness, feed counters)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiomqtt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from parking.app.keys import METRICS
from parking.config import Config
from parking.config.models import FeedEntry
from tests.helpers.site import site_config

Client = TestClient[web.Request, web.Application]
StartEngine = Callable[[Config], Awaitable[Client]]
WAIT_S = 10.0


def mqtt_site(prefix: str, host: str, port: int) -> Config:
    """The test site, listening on its own topic prefix and client id."""
    config = site_config()
    feeds = [FeedEntry(format=entry.format, topic=f"{prefix}/{entry.topic}") for entry in config.feeds]
    mqtt = config.mqtt.model_copy(
        update={"host": host, "port": port, "client_id": f"{prefix}-engine", "reconnect_max_s": 1.0}
    )
    return config.model_copy(update={"feeds": feeds, "mqtt": mqtt})


async def publish(host: str, port: int, *messages: tuple[str, bytes], retain: bool = False) -> None:
    async with aiomqtt.Client(host, port) as client:
        for topic, payload in messages:
            await client.publish(topic, payload, qos=1, retain=retain)


async def eventually(probe: Callable[[], Any], expected: Any = True) -> Any:
    """Poll until probe() == expected (real I/O has no clock to inject), failing after WAIT_S.

    `probe` may be a coroutine function or a plain one; the value it matched is returned."""
    deadline = time.monotonic() + WAIT_S
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if isinstance(last, Awaitable):
            last = await last
        if last == expected:
            return last
        await asyncio.sleep(0.02)
    pytest.fail(f"waited {WAIT_S}s for {expected!r}, last saw {last!r}")


async def board_first_line(client: Client) -> tuple[str, Any]:
    body = await (await client.get("/api/v1/boards/north")).json()
    line = body["lines"][0]
    return line["lot"], line["display"]


async def ready(client: Client) -> int:
    return (await client.get("/readyz")).status


async def counted(client: Client, feed: str, result: str) -> float:
    value = client.app[METRICS].registry.get_sample_value(
        "parking_feed_messages_total", {"feed": feed, "result": result}
    )
    return value or 0.0
