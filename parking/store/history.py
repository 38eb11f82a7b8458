"""Reading history: a lot's occupancy in time buckets, and per-site summaries for ops."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from parking.store import Connection
from parking.store.rows import ROLLUP_ORIGIN, ROLLUP_STEP

# One row per bucket with snapshots in it (date_bin from `start`). The last free count of a bucket
# is the one packed with the greatest time: floor(epoch) * 10^6 + free + 1, exact in a float8, which
# a hash aggregate finds in one pass without sorting a month of rows (free below 999,999; 0 packs
# an unknown count).
_LAST = "(max(floor(date_part('epoch', {at})) * 1000000 + coalesce({free}, -1) + 1)::bigint % 1000000 - 1)"
_FROM_SNAPSHOTS = f"""
SELECT date_bin($4::interval, at, $2::timestamptz) AS bucket, min(free) AS min_free, max(free) AS max_free,
       count(*) AS samples, {_LAST.format(at="at", free="free")} AS last_free, max(capacity) AS capacity
FROM lot_snapshots WHERE lot = $1 AND at >= $2 AND at < $3
GROUP BY 1
"""
# The same from the five-minute summaries, for a start and step on whole five minutes.
_FROM_ROLLUP = f"""
SELECT date_bin($4::interval, bucket, $2::timestamptz) AS bucket, min(min_free) AS min_free,
       max(max_free) AS max_free, sum(samples)::integer AS samples,
       {_LAST.format(at="last_at", free="nullif(last_free, -1)")} AS last_free, max(capacity) AS capacity
FROM lot_history_5m WHERE lot = $1 AND bucket >= $2 AND bucket < $3
GROUP BY 1
"""


@dataclass(frozen=True, slots=True)
class Bucket:
    """One step of a lot's history."""

    start: datetime
    free: int | None
    capacity: int | None
    min_free: int | None
    max_free: int | None
    samples: int

    @property
    def occupied(self) -> int | None:
        """Occupied spaces at the end of the bucket."""
        if self.free is None or self.capacity is None:
            return None
        return self.capacity - self.free


async def lot_history(
    conn: Connection, lot: str, start: datetime, end: datetime, step: timedelta
) -> list[Bucket]:
    """Every bucket of `step` from `start` to before `end`: free at its end, min, max; empty ones too.

    free is the lot's free count at the end of the bucket (its last snapshot in it); min and
    max over the bucket's snapshots; all None in a bucket without snapshots (the engine was
    not running) or where the count was unknown.
    """
    aligned = (start - ROLLUP_ORIGIN) % ROLLUP_STEP == timedelta(0) and step % ROLLUP_STEP == timedelta(0)
    query = _FROM_ROLLUP if aligned else _FROM_SNAPSHOTS
    found = {row["bucket"]: row for row in await conn.fetch(query, lot, start, end, step)}
    buckets = []
    at = start
    while at < end:
        row = found.get(at)
        if row is None:
            buckets.append(Bucket(at, None, None, None, None, 0))
        else:
            free = None if row["last_free"] < 0 else row["last_free"]
            buckets.append(
                Bucket(at, free, row["capacity"], row["min_free"], row["max_free"], row["samples"])
            )
        at += step
    return buckets


# A lot is full from one snapshot saying so to the next, but at most this long past a snapshot:
# beyond it the engine was not running and nobody knows.
FULL_SPAN_CAP = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class Summary:
    """One site's activity over a period."""

    start: datetime
    end: datetime
    guided_per_hour: list[tuple[datetime, int]]
    page_views_by_board: dict[str, int]
    full_minutes_by_lot: dict[str, float]


async def summary(conn: Connection, start: datetime, end: datetime) -> Summary:
    """Guided drivers per hour, page views per board, and the minutes each lot spent full."""
    hours = await conn.fetch(
        "SELECT date_bin('1 hour', at, $1::timestamptz) AS hour, count(*) AS n FROM guidance_answers "
        "WHERE at >= $1 AND at < $2 GROUP BY hour ORDER BY hour",
        start,
        end,
    )
    views = await conn.fetch(
        "SELECT board, count(*) AS n FROM page_views WHERE at >= $1 AND at < $2 "
        "GROUP BY board ORDER BY board",
        start,
        end,
    )
    full = await conn.fetch(
        """
        SELECT lot, sum(extract(epoch FROM least(coalesce(next_at, $2), at + $3::interval, $2) - at)) / 60.0
               AS minutes
        FROM (SELECT lot, at, status, lead(at) OVER (PARTITION BY lot ORDER BY at) AS next_at
              FROM lot_snapshots WHERE at >= $1 AND at < $2) s
        WHERE status = 'full' GROUP BY lot ORDER BY lot
        """,
        start,
        end,
        FULL_SPAN_CAP,
    )
    return Summary(
        start,
        end,
        [(row["hour"], row["n"]) for row in hours],
        {row["board"]: row["n"] for row in views},
        {row["lot"]: round(float(row["minutes"]), 1) for row in full},
    )


async def today_curves(
    conn: Connection, lot: str, day_start: datetime, now: datetime, step: timedelta, days: int
) -> tuple[list[tuple[datetime, int | None]], list[tuple[float, float]]]:
    """Today's free count per step, and the mean free count at the same time of day over the `days` before."""
    today = await conn.fetch(
        "SELECT date_bin($4::interval, at, $2::timestamptz) AS bucket, "
        "(array_agg(free ORDER BY at DESC))[1] AS free FROM lot_snapshots "
        "WHERE lot = $1 AND at >= $2 AND at < $3 GROUP BY bucket ORDER BY bucket",
        lot,
        day_start,
        now,
        step,
    )
    usual = await conn.fetch(
        "SELECT mod(extract(epoch FROM date_bin($4::interval, at, $2::timestamptz) - $2::timestamptz)"
        "::bigint, 86400) AS offset_s, avg(free) AS free FROM lot_snapshots "
        "WHERE lot = $1 AND at >= $2 AND at < $3 AND free IS NOT NULL GROUP BY offset_s ORDER BY offset_s",
        lot,
        day_start - timedelta(days=days),
        day_start,
        step,
    )
    return (
        [(row["bucket"], row["free"]) for row in today],
        [(float(row["offset_s"]), float(row["free"])) for row in usual],
    )


# The five-minute summaries around each past instant: from SAMPLE_TOLERANCE before it to just past
# the last horizon. Each range is a scan of the primary key (lot, bucket): ~15 rows a week.
_SAME_SLOTS = """
SELECT h.last_at, h.last_free
FROM unnest($2::timestamptz[]) AS w(start)
JOIN lot_history_5m h
  ON h.lot = $1 AND h.bucket >= w.start - $3::interval AND h.bucket < w.start + $4::interval
WHERE h.last_free >= 0
ORDER BY h.last_at
"""


async def same_slot_samples(
    conn: Connection, lot: str, starts: list[datetime], before: timedelta, after: timedelta
) -> list[tuple[datetime, int]]:
    """(time, free) of a lot's five-minute summaries from `before` each start to `after` it, by time.

    The forecast's weekday profile reads the same weekday's slot of the last weeks with this:
    one indexed range per week, cheap enough per lot every few minutes.
    """
    rows = await conn.fetch(_SAME_SLOTS, lot, starts, before, after)
    return [(row["last_at"], row["last_free"]) for row in rows]
