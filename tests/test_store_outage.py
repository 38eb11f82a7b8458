"""A database outage: guidance serves from memory, writes queue within the bound, then land in order."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from parking.app.factory import create_app
from parking.app.keys import FEED, STORE
from parking.observations import LotObservation
from parking.store.embedded import EmbeddedPostgres
from tests.helpers.site import T0, site_config

Client = TestClient[web.Request, web.Application]
WAIT_S = 20.0
pytestmark = pytest.mark.slow


async def until(probe: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not probe():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {WAIT_S}s for {what}")
        await asyncio.sleep(0.05)


async def metric(client: Client, name: str) -> float:
    text = await (await client.get("/metrics")).text()
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name} in /metrics")


async def test_an_outage_is_ridden_out_and_nothing_within_the_bound_is_lost(
    private_postgres: EmbeddedPostgres,
    aiohttp_client: Callable[[web.Application], Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = {"now": T0}
    config = site_config()
    store = config.store.model_copy(
        update={
            "dsn": private_postgres.dsn,
            "buffer_rows": 60,
            "reconnect_min_s": 0.05,
            "reconnect_max_s": 0.2,
        }
    )
    client: Client = await aiohttp_client(
        create_app(config.model_copy(update={"store": store}), ingest=False, clock=lambda: clock["now"])
    )
    app = client.app
    feed, writer = app[FEED], app[STORE]
    free = iter(range(200, 0, -1))
    sent: list[int] = []

    def observe(n: int) -> None:
        for _ in range(n):
            clock["now"] += timedelta(seconds=1)
            sent.append(next(free))
            feed.observe("lot", LotObservation("tower", free=sent[-1]))

    observe(10)
    await until(lambda: len(writer.buffer) == 0, "the first rows written")

    await private_postgres.stop()
    observe(30)
    await until(lambda: not writer.state.up, "the writer to notice the outage")
    assert (await client.get("/api/v1/boards/north")).status == 200  # guidance serves from memory
    assert (await (await client.get("/api/v1/lots/tower")).json())["free"] == sent[-1]
    assert await metric(client, "parking_store_up") == 0
    caplog.set_level(logging.WARNING)
    observe(60)  # past the bound of 60 rows: the oldest queued go, counted and logged
    dropped = writer.buffer.dropped["observations"]
    assert dropped > 0
    assert await metric(client, 'parking_store_dropped_rows_total{table="observations"}') == dropped
    assert "the write buffer is full" in caplog.text

    await private_postgres.start()
    await until(lambda: writer.state.up and len(writer.buffer) == 0, "the backlog written")
    assert await metric(client, "parking_store_up") == 1
    conn = await asyncpg.connect(private_postgres.dsn)
    try:
        stored = [r["free"] for r in await conn.fetch("SELECT free FROM observations ORDER BY id")]
    finally:
        await conn.close()
    # the first ten, then what the bound kept of the outage: its newest, in order, none missing after
    assert stored == sent[:10] + sent[10 + dropped :]
