"""Recovery after a restart: the live state rebuilt from PostgreSQL before anything reads it.

By replay, not by dumping availability internals: the observations needed to
rebuild the state go through `LiveSite.apply(obs, received_at)` in receipt
order, then the live site ticks at `now`, so the availability rules (ordering,
a gate lot unknown until a lot-level count, a spot lot unknown until enough of
its bays reported, freshness) apply exactly as they did live. Replayed: the
newest observation of every bay and of every lot system, and each gate lot's
gate readings since its newest lot-level count. Overrides, pending arrivals and
board last-seen times come from their own tables.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from parking.guidance.drivers import DriversOnTheirWay
from parking.guidance.seen import BoardsSeen
from parking.live import LiveSite
from parking.overrides import OVERRIDE_KINDS, Override
from parking.store import Connection
from parking.store.rows import observation_of
from parking.store.writer import fold_latest

logger = logging.getLogger(__name__)

_OBSERVATIONS = """
SELECT observation_id AS id, received_at, lot, kind, source, occupied, free, capacity, categories,
       entries, exits, event, ts, seq, uplink, battery, rssi, snr, category
FROM latest_observations WHERE kind IN ('spot', 'lot')
UNION ALL
SELECT o.id, o.received_at, o.lot, o.kind, o.source, o.occupied, o.free, o.capacity, o.categories,
       o.entries, o.exits, o.event, o.ts, o.seq, o.uplink, o.battery, o.rssi, o.snr, o.category
FROM latest_observations t
JOIN observations o ON o.lot = t.lot AND o.id > t.observation_id
WHERE t.kind = 'lot' AND o.kind IN ('gate_counters', 'gate_event')
ORDER BY id
"""


@dataclass(frozen=True, slots=True)
class Restored:
    """What a restore brought back, and how long it took."""

    observations: int
    applied: int
    overrides: int
    pending: int
    boards: int
    seconds: float


async def restore(
    conn: Connection, live: LiveSite, drivers: DriversOnTheirWay, seen: BoardsSeen, now: datetime
) -> Restored:
    """Rebuild the live state, pending arrivals and board last-seen times from the store."""
    started = time.perf_counter()
    applied = replayed = 0
    await fold_latest(conn)  # what the writer wrote since its last fold
    async with conn.transaction(readonly=True, isolation="repeatable_read"):
        # a cursor keeps memory flat for a city's worth of bays
        async for record in conn.cursor(_OBSERVATIONS, prefetch=10_000):
            replayed += 1
            try:
                obs = observation_of(record)
            except ValueError:
                continue
            if live.apply(obs, record["received_at"]).accepted:
                applied += 1
        overrides = await conn.fetch("SELECT * FROM overrides ORDER BY set_at")
        answers = await conn.fetch(
            "SELECT lot, at, drive_s, category FROM guidance_answers WHERE expires_at > $1 ORDER BY at", now
        )
        boards = await conn.fetch("SELECT board, last_seen_at FROM board_seen")
    live.tick(now)
    standing = 0
    for row in overrides:
        if row["kind"] not in OVERRIDE_KINDS:
            continue
        override = Override(
            kind=row["kind"],
            target=row["target"],
            set_by=row["set_by"],
            set_at=row["set_at"],
            reason=row["reason"],
            spaces=row["spaces"],
            message=row["message"],
            until=row["until"],
        )
        try:
            live.set_override(override, now)
            standing += 1
        except ValueError as exc:  # ended while the engine was down, or its lot or board left the config
            logger.info("store: override %s %s not restored: %s", override.kind, override.target, exc)
    for row in answers:
        drivers.restored(row["lot"], row["at"], float(row["drive_s"]), row["category"])
    for row in boards:
        seen.touch(row["board"], row["last_seen_at"])
    result = Restored(replayed, applied, standing, len(answers), len(boards), time.perf_counter() - started)
    logger.info(
        "store: restored %d observations (%d applied), %d overrides, %d pending arrivals, "
        "%d boards in %.2f s",
        result.observations,
        result.applied,
        result.overrides,
        result.pending,
        result.boards,
        result.seconds,
    )
    return result
