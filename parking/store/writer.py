"""The store writer: a background task that empties the write buffer into PostgreSQL, off the hot path.

It wakes when rows are queued or the live site changes, gathers for
`flush_interval_s`, and writes a batch per table with COPY in one transaction,
together with lot snapshots, board last-seen times and queued ops statements;
every FOLD_EVERY_S it folds the new observations into the latest observation
of each source. When the database goes away the
batch goes back to the front of the buffer, the task reconnects with a
jittered, capped backoff, and the backlog is written in order when it returns.

In a deployment of several replicas, each subscribed to every feed, only the
replica holding the history advisory lock writes what they all see
(observations and snapshots); answers, page views, board last-seen and ops
changes are each replica's own and every replica writes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from parking.backoff import Backoff
from parking.clock import Clock
from parking.config.models import StoreConfig
from parking.guidance.seen import BoardsSeen
from parking.live import LiveSite
from parking.store import CONNECTION_ERRORS, STORE_ERRORS, Connection
from parking.store.buffer import WriteBuffer
from parking.store.rows import COLUMNS, ROLLUP_ORIGIN, ROLLUP_STEP, Row

logger = logging.getLogger(__name__)

HISTORY_LOCK = 7_273_002  # advisory lock: the replica holding it writes observations and snapshots
SHARED_HISTORY = ("observations", "lot_snapshots")  # what every replica sees alike
WAKE_AT_LEAST_S = 1.0  # for snapshots and the history lock, even when nothing is queued
RETENTION_EVERY = timedelta(hours=1)
RETENTION_BATCH = 50_000
SHUTDOWN_FLUSH_S = 5.0
FOLD_EVERY_S = 2.0  # latest_observations trails the observations by at most this (a restore folds the rest)

# The newest observation of each source among those after the watermark; a newer one already there
# (from a concurrent fold) wins.
_FOLD = """
INSERT INTO latest_observations AS l
    (lot, kind, source, observation_id, received_at, occupied, free, capacity, categories,
     entries, exits, event, ts, seq, uplink, battery, rssi, snr, category)
SELECT DISTINCT ON (lot, kind, source)
    lot, kind, source, id, received_at, occupied, free, capacity, categories,
    entries, exits, event, ts, seq, uplink, battery, rssi, snr, category
FROM observations WHERE id > $1 AND id <= $2
ORDER BY lot, kind, source, id DESC
ON CONFLICT (lot, kind, source) DO UPDATE SET
    observation_id = EXCLUDED.observation_id, received_at = EXCLUDED.received_at,
    occupied = EXCLUDED.occupied, free = EXCLUDED.free, capacity = EXCLUDED.capacity,
    categories = EXCLUDED.categories, entries = EXCLUDED.entries, exits = EXCLUDED.exits,
    event = EXCLUDED.event, ts = EXCLUDED.ts, seq = EXCLUDED.seq, uplink = EXCLUDED.uplink,
    battery = EXCLUDED.battery, rssi = EXCLUDED.rssi, snr = EXCLUDED.snr, category = EXCLUDED.category
WHERE EXCLUDED.observation_id > l.observation_id
"""


async def fold_latest(conn: Connection) -> int:
    """Fold the observations written since the watermark into latest_observations; return how many."""
    async with conn.transaction():
        upto = await conn.fetchval(
            "SELECT observation_id FROM store_watermarks WHERE name = 'latest_observations' FOR UPDATE"
        )
        top = await conn.fetchval("SELECT coalesce(max(id), 0) FROM observations")
        if top <= upto:
            return 0
        await conn.execute(_FOLD, upto, top)
        await conn.execute(
            "UPDATE store_watermarks SET observation_id = $1 WHERE name = 'latest_observations'", top
        )
        return int(top - upto)


_ROLLUP = """
INSERT INTO lot_history_5m AS h (lot, bucket, min_free, max_free, last_free, last_at, capacity, samples)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (lot, bucket) DO UPDATE SET
    min_free = least(h.min_free, EXCLUDED.min_free),
    max_free = greatest(h.max_free, EXCLUDED.max_free),
    last_free = CASE WHEN EXCLUDED.last_at >= h.last_at THEN EXCLUDED.last_free ELSE h.last_free END,
    capacity = CASE WHEN EXCLUDED.last_at >= h.last_at THEN EXCLUDED.capacity ELSE h.capacity END,
    last_at = greatest(h.last_at, EXCLUDED.last_at),
    samples = h.samples + EXCLUDED.samples
"""
_SEEN = """
INSERT INTO board_seen AS b (board, last_seen_at) VALUES ($1, $2)
ON CONFLICT (board) DO UPDATE SET last_seen_at = greatest(b.last_seen_at, EXCLUDED.last_seen_at)
"""


@dataclass
class StoreState:
    """What /readyz and the metrics say about the store."""

    up: bool = False
    historian: bool = False  # this replica holds the history lock
    failures: int = 0


class StoreWriter:
    """Writes the buffer into PostgreSQL in batches; reconnects with backoff; one replica writes history."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        buffer: WriteBuffer,
        live: LiveSite,
        seen: BoardsSeen,
        clock: Clock,
        config: StoreConfig,
        state: StoreState,
    ) -> None:
        self._pool = pool
        self._buffer = buffer
        self._live = live
        self._seen = seen
        self._clock = clock
        self._config = config
        self.state = state
        self._wake = asyncio.Event()
        buffer.wake = self._wake.set
        self._unsubscribe = live.subscribe(lambda _version: self._wake.set())
        self._backoff = Backoff(config.reconnect_min_s, config.reconnect_max_s)
        self._snapshot_version = live.version
        self._dirty: set[str] = set()
        self._snapped_at: dict[str, datetime] = {}
        self._full_snapshot_at: datetime | None = None
        self._seen_written: dict[str, datetime] = {}
        self._pruned_at: datetime | None = None
        self._unfolded = False  # observations written since the last fold
        self._folded_at = time.monotonic()

    async def run(self) -> None:
        """Write until cancelled; on cancel, try once more to write what is queued."""
        try:
            while True:
                try:
                    async with self._connection() as conn:
                        await self._write_while_connected(conn)
                except CONNECTION_ERRORS as exc:
                    self._lost(exc)
                await asyncio.sleep(self._backoff.next_delay())
        finally:
            self._unsubscribe()

    async def flush_now(self, timeout_s: float = SHUTDOWN_FLUSH_S) -> bool:
        """Write everything queued now (at shutdown, in tests); False if the database would not take it."""
        try:
            async with asyncio.timeout(timeout_s), self._connection() as conn:
                await self._flush(conn)  # board last-seen and snapshots are not in the buffer
                while len(self._buffer):
                    await self._flush(conn)
                await self._fold(conn)
                return True
        except STORE_ERRORS as exc:
            logger.warning("store: %d rows not written at shutdown: %s", len(self._buffer), exc)
            return False

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Connection]:
        async with self._pool.acquire() as conn:
            if not self.state.up:
                logger.info("store: connected")
            self.state.up = True
            self._backoff.reset()
            try:
                yield conn
            finally:
                self.state.historian = False  # the pool's reset releases the lock with the connection

    def _lost(self, exc: BaseException) -> None:
        self.state.failures += 1
        level = logging.WARNING if self.state.up or self.state.failures == 1 else logging.DEBUG
        self.state.up = False
        logger.log(
            level,
            "store: database unavailable (%s: %s); %d rows queued, retrying",
            type(exc).__name__,
            exc,
            len(self._buffer),
        )

    async def _write_while_connected(self, conn: Connection) -> None:
        backlog = False
        while True:
            if not backlog:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(WAKE_AT_LEAST_S):
                        await self._wake.wait()
            self._wake.clear()
            await self._flush(conn)
            self.state.failures = 0
            # Rows gather for flush_interval_s, which caps the writer at batch_rows per interval
            # (25k rows/s by default). A long backlog can arrive faster (30k+ msg/s after a
            # restart): once the buffer is half full the next batch goes at once, before rows
            # would have to be dropped; short of that, the pacing spares the ingest the writes.
            backlog = self._buffer.rows() >= max(self._config.batch_rows, self._buffer.limit // 2)
            await asyncio.sleep(0 if backlog else self._config.flush_interval_s)

    async def _flush(self, conn: Connection) -> None:
        now = self._clock()
        if not self.state.historian:
            self.state.historian = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", HISTORY_LOCK))
            if not self.state.historian:
                for table in SHARED_HISTORY:
                    self._buffer.discard(table)
        if self.state.historian:
            for row in self._snapshots(now):
                self._buffer.add("lot_snapshots", row)
        batch, statements = self._buffer.take(self._config.batch_rows)
        seen = self._seen_changes()
        try:
            async with conn.transaction():
                await self._write(conn, batch, statements, seen)
        except BaseException:
            self._buffer.give_back(batch, statements)
            raise
        self._buffer.done(batch)
        self._seen_written.update(seen)
        self._buffer.log_drops()
        if "observations" in batch:
            self._unfolded = True
        if self.state.historian:
            if time.monotonic() - self._folded_at >= FOLD_EVERY_S:
                await self._fold(conn)
            await self._prune(conn, now)

    async def _fold(self, conn: Connection) -> None:
        """Bring latest_observations up to the observations written."""
        if self._unfolded:
            await fold_latest(conn)
            self._unfolded = False
        self._folded_at = time.monotonic()

    async def _write(
        self,
        conn: Connection,
        batch: dict[str, list[Row]],
        statements: list[tuple[str, tuple[object, ...]]],
        seen: dict[str, datetime],
    ) -> None:
        for table, rows in batch.items():
            await conn.copy_records_to_table(table, records=rows, columns=COLUMNS[table])
        snapshots = batch.get("lot_snapshots")
        if snapshots:
            await write_rollup(conn, snapshots)
        for sql, args in statements:
            await conn.execute(sql, *args)
        if seen:
            await conn.executemany(_SEEN, list(seen.items()))

    def _snapshots(self, now: datetime) -> list[Row]:
        """Lots changed since the last snapshot (at most one per lot per spacing), or all lots when due."""
        live = self._live
        self._dirty |= live.changed_since(self._snapshot_version)
        self._snapshot_version = live.version
        interval = timedelta(seconds=self._config.snapshot_interval_s)
        spacing = timedelta(seconds=self._config.snapshot_min_spacing_s)
        if self._full_snapshot_at is None or now - self._full_snapshot_at >= interval:
            due = list(live.views())
            self._full_snapshot_at = now
        else:
            due = [lot for lot in self._dirty if now - self._snapped_at.get(lot, now - spacing) >= spacing]
        if not due:
            return []
        held: dict[str, int] = {}
        for override in live.overrides():
            if override.kind == "hold":
                held[override.target] = override.spaces
        views = live.views()
        rows = []
        for lot in due:
            measured = live.measured_view(lot)
            rows.append((now, lot, measured.free, measured.capacity, views[lot].status, held.get(lot, 0)))
            self._snapped_at[lot] = now
            self._dirty.discard(lot)
        return rows

    def _seen_changes(self) -> dict[str, datetime]:
        written = self._seen_written
        return {board: at for board, at in self._seen.last_seen_all().items() if written.get(board) != at}

    async def _prune(self, conn: Connection, now: datetime) -> None:
        days = self._config.retention_days
        if days is None or (self._pruned_at is not None and now - self._pruned_at < RETENTION_EVERY):
            return
        self._pruned_at = now
        cutoff = now - timedelta(days=days)
        for table, column in (
            ("observations", "received_at"),
            ("guidance_answers", "at"),
            ("page_views", "at"),
        ):
            deleted = await conn.execute(
                f"DELETE FROM {table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {table} "
                f"WHERE {column} < $1 LIMIT {RETENTION_BATCH}))",
                cutoff,
            )
            logger.debug("store: retention: %s from %s", deleted, table)


@dataclass(slots=True)
class _Summary:
    lot: str
    bucket: datetime
    min_free: int | None
    max_free: int | None
    last_free: int
    last_at: datetime
    capacity: int
    samples: int = 1


async def write_rollup(conn: Connection, snapshots: list[Row]) -> None:
    """Merge the five-minute summaries of lot snapshot rows into lot_history_5m."""
    await conn.executemany(_ROLLUP, rollup(snapshots))


def rollup(snapshots: list[Row]) -> list[tuple[object, ...]]:
    """Five-minute summaries of lot snapshot rows (at, lot, free, capacity, ...), to merge into the table."""
    out: dict[tuple[str, datetime], _Summary] = {}
    for at, lot, free, capacity, *_ in snapshots:
        bucket = at - (at - ROLLUP_ORIGIN) % ROLLUP_STEP
        shown = -1 if free is None else free
        entry = out.get((lot, bucket))
        if entry is None:
            out[(lot, bucket)] = _Summary(lot, bucket, free, free, shown, at, capacity)
            continue
        if free is not None:
            entry.min_free = free if entry.min_free is None else min(entry.min_free, free)
            entry.max_free = free if entry.max_free is None else max(entry.max_free, free)
        if at >= entry.last_at:
            entry.last_free, entry.last_at, entry.capacity = shown, at, capacity
        entry.samples += 1
    return [
        (e.lot, e.bucket, e.min_free, e.max_free, e.last_free, e.last_at, e.capacity, e.samples)
        for e in out.values()
    ]
