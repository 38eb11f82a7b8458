"""(f) The store: write rate against a bare COPY, recovery of a city, a month of history for one lot.

In-process against PostgreSQL (the machine's on 127.0.0.1:5432 by default, a fresh
database per run, dropped after; else a private one started here):

1. writes: N observation rows queued in the write buffer, then drained by the real
   writer (COPY in batches of store.batch_rows, the latest of each source upserted, one
   transaction a batch), against the same rows copied into an empty observations table
   in the same batches and nothing else. Alternating, best of the rounds.
2. recovery: 1,000 spot lots of 100 bays each (100,000 spots), every bay's latest
   observation stored, then a new live site restored from it (`restore`), timed.
3. history: 30 days of snapshots (one a minute, and one on each of ~1,400 changes a day)
   for each of 10 lots; GET-equivalent bucket queries for one lot over the 30 days at
   5-minute steps, p50 and p99 over the repeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench.report import Figure
from parking.config import Config, load_config_text
from parking.config.models import StoreConfig
from parking.guidance.drivers import DriversOnTheirWay
from parking.guidance.pending import PendingArrivals
from parking.guidance.seen import BoardsSeen
from parking.live import LiveSite
from parking.observations import SpotObservation
from parking.store import STORE_ERRORS, Connection
from parking.store.buffer import WriteBuffer
from parking.store.embedded import EmbeddedPostgres
from parking.store.history import lot_history
from parking.store.restore import restore
from parking.store.rows import COLUMNS, observation_row
from parking.store.schema import migrate
from parking.store.writer import StoreState, StoreWriter

WRITE_TARGET = 0.70
RECOVERY_TARGET_S = 5.0
HISTORY_TARGET_MS = 100.0
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """How much to measure."""

    rows: int
    rounds: int
    lots: int
    bays_per_lot: int
    history_days: int
    history_repeats: int
    admin_dsn: str = DEFAULT_DSN


def city(lots: int, bays: int) -> Config:
    """A site of `lots` spot lots with `bays` bays each, one hospital, two road nodes."""
    lines = [
        "site: {name: Bench city, timezone: UTC}",
        "hospitals: [{id: h, name: H, destinations: [{id: main, name: Main, lat: 30.0, lon: 120.0}]}]",
        "roads: {nodes: {a: [30.0, 120.0], b: [30.001, 120.0]}, ways: [{nodes: [a, b]}]}",
        "lots:",
    ]
    for n in range(lots):
        lines.append(
            f"  - {{id: l{n}, name: Lot {n}, feed: spot, lat: 30.0, lon: 120.0, "
            f"spots: {{general: 'B0001-B{bays:04d}'}}, entrances: [{{lat: 30.0, lon: 120.0}}]}}"
        )
    return load_config_text("\n".join(lines) + "\n", source="<bench city>", env={})


@contextlib.asynccontextmanager
async def database(admin_dsn: str) -> AsyncIterator[str]:
    """A fresh database (on the given server, or a private one), dropped after."""
    try:
        admin = await asyncpg.connect(admin_dsn, timeout=5)
    except STORE_ERRORS:
        with tempfile.TemporaryDirectory(prefix="parking-bench-pg-") as scratch:
            os.chmod(scratch, 0o755)
            server = EmbeddedPostgres(Path(scratch) / "pg")
            try:
                yield await server.start()
            finally:
                await server.stop()
        return
    name = f"parking_bench_{uuid.uuid4().hex[:10]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_dsn.rsplit("/", 1)[0] + "/" + name
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


def spot_rows(n: int, spots: int) -> list[tuple[Any, ...]]:
    """n spot observations over `spots` bays, one a millisecond."""
    return [
        observation_row(
            SpotObservation(f"l{(i % spots) // 100}", f"B{i % 100 + 1:04d}", i % 3 == 0, seq=i // spots + 1),
            T0 + timedelta(milliseconds=i),
        )
        for i in range(n)
    ]


async def _reset(conn: Connection) -> None:
    await conn.execute(
        "TRUNCATE observations, latest_observations, lot_snapshots, lot_history_5m RESTART IDENTITY"
    )
    await conn.execute("CHECKPOINT")


async def writes(dsn: str, settings: StoreSettings) -> tuple[Figure, dict[str, Any]]:
    """Rows/s through the real writer, against a bare COPY of the same rows in the same batches."""
    store = StoreConfig(dsn=dsn)
    rows = spot_rows(settings.rows, 20_000)
    config = city(200, 100)  # the snapshots of 200 lots ride along, as they would
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    rounds: list[dict[str, float]] = []
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        for number in range(settings.rounds):
            result: dict[str, float] = {}
            for who in ("copy", "writer") if number % 2 == 0 else ("writer", "copy"):
                async with pool.acquire() as conn:
                    await _reset(conn)
                started = time.perf_counter()
                if who == "copy":
                    async with pool.acquire() as conn:
                        for i in range(0, len(rows), store.batch_rows):
                            async with conn.transaction():
                                batch = rows[i : i + store.batch_rows]
                                await conn.copy_records_to_table(
                                    "observations", records=batch, columns=COLUMNS["observations"]
                                )
                else:
                    buffer = WriteBuffer(len(rows) + 10_000)
                    live = LiveSite(config, T0)
                    writer = StoreWriter(pool, buffer, live, BoardsSeen([]), lambda: T0, store, StoreState())
                    for row in rows:
                        buffer.add("observations", row)
                    started = time.perf_counter()
                    await writer.flush_now(timeout_s=600)
                result[who] = len(rows) / (time.perf_counter() - started)
            rounds.append(result)
    finally:
        await pool.close()
    best_writer = max(r["writer"] for r in rounds)
    best_copy = max(r["copy"] for r in rounds)
    note = f"{len(rows):,} spot rows over 20,000 bays, batches of {store.batch_rows:,}; "
    note += "every round, writer / copy: "
    note += ", ".join(f"{r['writer']:,.0f} / {r['copy']:,.0f}" for r in rounds)
    figure = Figure(
        section="store",
        name="observations written: the writer (COPY, latest of each source folded) vs a bare COPY",
        value=best_writer,
        unit="rows/s",
        baseline=best_copy,
        target=f">= {WRITE_TARGET:.0%} of baseline",
        met=best_writer >= WRITE_TARGET * best_copy,
        note=note,
    )
    return figure, {"rounds": rounds, "rows": len(rows)}


async def recovery(dsn: str, settings: StoreSettings) -> tuple[Figure, dict[str, Any]]:
    """Seconds to restore a city's live state from its latest observations."""
    config = city(settings.lots, settings.bays_per_lot)
    spots = settings.lots * settings.bays_per_lot
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        await _reset(conn)
        columns = ("lot", "kind", "source", "observation_id", "received_at", *COLUMNS["observations"][4:])
        records = []
        for i in range(spots):
            lot, bay = f"l{i // settings.bays_per_lot}", f"B{i % settings.bays_per_lot + 1:04d}"
            at = T0 + timedelta(milliseconds=i)
            row = observation_row(SpotObservation(lot, bay, i % 3 != 0, at, 7), at)
            records.append((lot, "spot", bay, i + 1, at, *row[4:]))
        await conn.copy_records_to_table("latest_observations", records=records, columns=columns)
        await conn.execute("ANALYZE latest_observations")
        built = time.perf_counter()
        live = LiveSite(config, T0)
        built_s = time.perf_counter() - built
        started = time.perf_counter()
        restored = await restore(
            conn, live, DriversOnTheirWay(PendingArrivals(300)), BoardsSeen([]), T0 + timedelta(minutes=5)
        )
        seconds = time.perf_counter() - started
    finally:
        await conn.close()
    known = sum(1 for view in live.views().values() if view.free is not None)
    note = (
        f"{settings.lots:,} lots, {spots:,} bays: {restored.applied:,} observations replayed, "
        f"{known:,} lots known after; building the empty live site took {built_s:.2f} s more"
    )
    figure = Figure(
        section="store",
        name=f"restore after a restart: {spots:,} spots in {settings.lots:,} lots",
        value=seconds,
        unit="s",
        target=f"< {RECOVERY_TARGET_S:g} s",
        met=seconds < RECOVERY_TARGET_S and restored.applied == spots,
        note=note,
    )
    return figure, {"seconds": seconds, "applied": restored.applied, "build_s": built_s}


async def history(dsn: str, settings: StoreSettings) -> tuple[Figure, dict[str, Any]]:
    """p99 of one lot's history over 30 days at 5-minute steps, among 10 lots' snapshots."""
    rng = random.Random(7)
    days = settings.history_days
    end = T0
    start = end - timedelta(days=days)
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        await _reset(conn)
        total = 0
        for lot in range(10):
            records = []
            minute = start
            while minute < end:
                free = 100 + int(80 * rng.random())
                records.append((minute, f"l{lot}", free, 500, "open", 0))
                if rng.random() < 0.97:  # ~1,400 changes a day between the minute rows
                    records.append((minute + timedelta(seconds=30), f"l{lot}", free - 1, 500, "open", 0))
                minute += timedelta(minutes=1)
            await conn.copy_records_to_table(
                "lot_snapshots", records=records, columns=COLUMNS["lot_snapshots"]
            )
            total += len(records)
        await conn.execute("VACUUM ANALYZE lot_snapshots, lot_history_5m")
        del records
        gc.collect()  # the month of rows made here is garbage: not the query's to collect
        for _ in range(3):  # warm: the server's caches and the client's statement cache
            await lot_history(conn, "l3", start, end, timedelta(minutes=5))
        timings = []
        for _ in range(settings.history_repeats):
            started = time.perf_counter()
            buckets = await lot_history(conn, "l3", start, end, timedelta(minutes=5))
            timings.append((time.perf_counter() - started) * 1000)
    finally:
        await conn.close()
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(0.99 * len(timings)))]
    note = (
        f"{len(buckets):,} buckets from {total // 10:,} snapshot rows of one lot ({total:,} in the table); "
        f"p50 {statistics.median(timings):.1f} ms, max {timings[-1]:.1f} ms over {len(timings)} queries "
        f"(the slowest five: {', '.join(f'{t:.0f}' for t in timings[-5:])} ms)"
    )
    figure = Figure(
        section="store",
        name=f"history of one lot: {days} days at 5-minute steps, p99",
        value=p99,
        unit="ms",
        target=f"p99 < {HISTORY_TARGET_MS:g} ms",
        met=p99 < HISTORY_TARGET_MS,
        note=note,
    )
    return figure, {"timings_ms": timings}


async def measure(settings: StoreSettings) -> tuple[list[Figure], dict[str, Any]]:
    """All three, each in a fresh database."""
    figures, raw = [], {}
    for name, part in (("writes", writes), ("recovery", recovery), ("history", history)):
        async with database(settings.admin_dsn) as dsn:
            figure, data = await part(dsn, settings)
        figures.append(figure)
        raw[name] = data
    return figures, raw


def run_store(settings: StoreSettings) -> tuple[list[Figure], dict[str, Any]]:
    """Measure, and return the table rows plus the raw data."""
    return asyncio.run(measure(settings))
