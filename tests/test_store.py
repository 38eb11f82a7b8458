"""The store against a real PostgreSQL: migrations, the write-behind, and a restart that restores."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from parking.app.factory import create_app
from parking.app.keys import FEED, LIVE, PENDING, SEEN, STORE
from parking.clock import Clock
from parking.config import Config
from parking.observations import (
    GateCounterObservation,
    GateEventObservation,
    LotObservation,
    SpotObservation,
)
from parking.overrides import Override
from parking.store.rows import OBSERVATION_COLUMNS, observation_of, observation_row
from parking.store.schema import migrate, migrations, schema_version
from tests.helpers.engine import eventually
from tests.helpers.site import T0, site_config

Client = TestClient[web.Request, web.Application]
WAIT_S = 10.0


class FakeClock:
    """Time that tests move by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> Any:
        return self.now


def store_site(dsn: str, **store: Any) -> Config:
    config = site_config()
    settings = config.store.model_copy(update={"dsn": dsn, "startup_wait_s": 5.0, **store})
    return config.model_copy(update={"store": settings})


@pytest.fixture
async def engine(
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
) -> AsyncIterator[Callable[[Config, Clock], Awaitable[Client]]]:
    """Start the app without MQTT (observations go straight to its feed sink); close what was started."""
    started: list[Client] = []

    async def start(config: Config, clock: Clock) -> Client:
        client = await aiohttp_client(create_app(config, ingest=False, clock=clock))
        started.append(client)
        return client

    yield start
    for client in started:
        await client.close()


def written(client: Client) -> Callable[[], bool]:
    store = client.app[STORE]
    return lambda: len(store.buffer) == 0


def observe_tower(client: Client, clock: FakeClock, frees: Iterable[int]) -> None:
    """Lot totals for the tower, one a second of the clock, straight into the feed sink."""
    feed = client.app[FEED]
    for free in frees:
        clock.now += timedelta(seconds=1)
        feed.observe("lot", LotObservation("tower", free=free))


class TestMigrations:
    async def test_from_empty_then_again_changes_nothing(self, pg_dsn: str) -> None:
        conn = await asyncpg.connect(pg_dsn)
        try:
            assert await schema_version(conn) == 0
            applied = await migrate(conn)
            assert [m.version for m in applied] == [m.version for m in migrations()]
            assert await schema_version(conn) == migrations()[-1].version
            tables = {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables")}
            expected = {"observations", "latest_observations", "lot_snapshots", "guidance_answers"}
            assert expected | {"page_views", "board_seen", "overrides", "audit_log"} <= tables
            assert await migrate(conn) == []
            assert await conn.fetchval("SELECT count(*) FROM schema_version") == len(migrations())
        finally:
            await conn.close()


class TestRestart:
    async def test_counts_overrides_pending_arrivals_and_last_seen_come_back(
        self, pg_dsn: str, engine: Callable[[Config, Clock], Awaitable[Client]]
    ) -> None:
        clock = FakeClock()
        config = store_site(pg_dsn)
        first = await engine(config, clock)
        app = first.app
        feed, live = app[FEED], app[LIVE]
        feed.observe("lot", LotObservation("tower", free=120, categories={"ev": 3}))
        feed.observe("lot", LotObservation("hospital", free=40))  # the gate lot's truth
        clock.now += timedelta(seconds=5)
        feed.observe("gate", GateCounterObservation("hospital", "north", entries=100, exits=90))  # baseline
        feed.observe("gate", GateCounterObservation("hospital", "north", entries=107, exits=91))  # 6 in
        feed.observe("gate", GateEventObservation("hospital", "south", "exit"))  # 1 out
        for n in range(1, 11):
            feed.observe("spot", SpotObservation("street", f"S{n:02d}", occupied=n <= 3, seq=n))
        feed.observe("spot", SpotObservation("street", "S01", occupied=False, seq=20))  # S01 leaves
        assert live.view("hospital").free == 35
        live.set_override(Override("hold", "tower", "ops", clock.now, "VIP", spaces=20), clock.now)
        app[STORE].record_override(live.overrides()[0])
        await first.get("/api/v1/guidance?board=north")  # a driver sent: a pending arrival
        await first.get("/api/v1/boards/north")
        expected = {lot: (view.free, view.status) for lot, view in live.views().items()}
        pending = app[PENDING].counts(clock.now)
        assert pending
        await eventually(written(first))
        await first.close()

        clock.now += timedelta(seconds=30)
        second = await engine(config, clock)
        app = second.app
        restored = {lot: (view.free, view.status) for lot, view in app[LIVE].views().items()}
        assert restored == expected
        assert restored["tower"] == (100, "open")  # 120 as sent, less the 20 held back
        assert restored["street"][0] == 8
        assert [o.kind for o in app[LIVE].overrides()] == ["hold"]
        assert app[PENDING].counts(clock.now) == pending
        assert app[SEEN].last_seen("north") == T0 + timedelta(seconds=5)
        assert app[STORE].restored is not None
        ready = await (await second.get("/readyz")).json()
        assert ready["checks"]["store"] == "connected"
        assert ready["checks"]["store_restore"] == "restored"

        # the feeds take over from there, with the restored baselines
        app[FEED].observe("gate", GateCounterObservation("hospital", "north", entries=109, exits=91))
        assert app[LIVE].view("hospital").free == 33


class TestWriteBehind:
    async def test_rows_land_in_order_with_the_latest_of_each_source(
        self, pg_dsn: str, engine: Callable[[Config, Clock], Awaitable[Client]]
    ) -> None:
        clock = FakeClock()
        client = await engine(store_site(pg_dsn), clock)
        feed = client.app[FEED]
        for free in range(100, 50, -1):
            clock.now += timedelta(seconds=1)
            feed.observe("lot", LotObservation("tower", free=free))
        feed.observe("lot", LotObservation("tower", free=10**6))  # clamped, still applied
        feed.observe("lot", LotObservation("nowhere", free=1))  # not applied: not stored
        await eventually(written(client))
        await client.close()  # the last flush folds the latest observation of each source
        conn = await asyncpg.connect(pg_dsn)
        try:
            rows = await conn.fetch("SELECT free, received_at FROM observations ORDER BY id")
            assert [r["free"] for r in rows] == [*range(100, 50, -1), 10**6]
            assert [r["received_at"] for r in rows] == sorted(r["received_at"] for r in rows)
            latest = await conn.fetch("SELECT lot, free FROM latest_observations")
            assert [(r["lot"], r["free"]) for r in latest] == [("tower", 10**6)]
            snapshots = await conn.fetch("SELECT free FROM lot_snapshots WHERE lot = 'tower' ORDER BY at")
            assert snapshots[-1]["free"] == 210  # clamped to the capacity, as the live site had it
        finally:
            await conn.close()

    async def test_a_buffer_half_full_is_written_batch_after_batch_without_dropping_rows(
        self, pg_dsn: str, engine: Callable[[Config, Clock], Awaitable[Client]]
    ) -> None:
        clock = FakeClock()
        # paced, 90 rows in batches of 10 would take a 5 s interval each: 20 s to get below half
        config = store_site(pg_dsn, buffer_rows=100, batch_rows=10, flush_interval_s=5.0)
        client = await engine(config, clock)
        store = client.app[STORE]
        observe_tower(client, clock, range(90))
        await eventually(lambda: store.buffer.rows() < 50)
        assert store.buffer.dropped["observations"] == 0

    async def test_short_of_half_full_rows_gather_for_the_flush_interval(
        self, pg_dsn: str, engine: Callable[[Config, Clock], Awaitable[Client]]
    ) -> None:
        clock = FakeClock()
        config = store_site(pg_dsn, buffer_rows=100, batch_rows=10, flush_interval_s=30.0)
        client = await engine(config, clock)
        store = client.app[STORE]
        observe_tower(client, clock, [100])
        await eventually(lambda: store.buffer.written["observations"] == 1)  # and now in its interval
        observe_tower(client, clock, range(30))
        await asyncio.sleep(0.5)  # time the writer would need to write them, were it not pacing
        assert store.buffer.rows() >= 30


@pytest.mark.parametrize(
    "obs",
    [
        SpotObservation("street", "S01", None, T0, 3, "fcnt-9", 3.1, -90.0, 7.5),  # a LoRaWAN heartbeat
        SpotObservation("street", "S02", True),
        LotObservation("tower", 5, 210, {"ev": 2}, T0),
        GateCounterObservation("hospital", "north", 5, 3, T0),
        GateEventObservation("hospital", "south", "entry", T0, 4, "disabled"),
    ],
)
def test_a_stored_row_gives_back_the_observation_it_was_made_from(obs: Any) -> None:
    row = observation_row(obs, T0)
    assert len(row) == len(OBSERVATION_COLUMNS)
    assert observation_of(dict(zip(OBSERVATION_COLUMNS, row, strict=True))) == obs
