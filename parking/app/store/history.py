"""Reading history: a lot's occupancy in time buckets, and per-site summaries for ops."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from parking.app.store import Connection

# Buckets of `step` from `start` (date_bin's origin), every one of them, empty ones included.
# free: the lot's free count at the end of the bucket (its last snapshot in it); min/max over the
# bucket's snapshots; all null in a bucket without snapshots (the engine was not running) or
# where the count was unknown.
_HISTORY = """
WITH samples AS (
    SELECT date_bin($4::interval, at, $2::timestamptz) AS bucket, at, free, capacity
    FROM lot_snapshots
    WHERE lot = $1 AND at >= $2 AND at < $3
), buckets AS (
    SELECT bucket,
           min(free) AS min_free,
           max(free) AS max_free,
           count(*) AS samples,
           (array_agg(free ORDER BY at DESC))[1] AS free,
           (array_agg(capacity ORDER BY at DESC))[1] AS capacity
    FROM samples GROUP BY bucket
)
SELECT s.bucket AS start, b.free, b.capacity, b.min_free, b.max_free, coalesce(b.samples, 0) AS samples
FROM generate_series($2::timestamptz, $3::timestamptz - interval '1 microsecond', $4::interval) AS s(bucket)
LEFT JOIN buckets b ON b.bucket = s.bucket
ORDER BY s.bucket
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
    """Every bucket of `step` from `start` to before `end`."""
    rows = await conn.fetch(_HISTORY, lot, start, end, step)
    return [
        Bucket(row["start"], row["free"], row["capacity"], row["min_free"], row["max_free"], row["samples"])
        for row in rows
    ]


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
