"""GET /api/v1/lots/{id}/history: a lot's occupancy in time buckets, as JSON or CSV, from the store."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from aiohttp import web

from parking.app.keys import CLOCK, CONFIG, STORE
from parking.app.web.observe import json_error
from parking.app.web.queries import QueryError, text
from parking.config.models import Lot
from parking.store import STORE_ERRORS
from parking.store.history import Bucket, lot_history
from parking.store.rows import ROLLUP_ORIGIN

routes = web.RouteTableDef()

DEFAULT_SPAN = timedelta(hours=24)
DEFAULT_STEP = timedelta(minutes=5)
MIN_STEP = timedelta(minutes=1)
MAX_STEP = timedelta(days=7)
MAX_SPAN = timedelta(days=400)
MAX_BUCKETS = 20_000
QUERY_TIMEOUT_S = 10.0
_STEP = re.compile(r"^(?P<n>\d{1,7})(?P<unit>[smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def instant(name: str, value: str) -> datetime:
    """An ISO 8601 time with a zone (`2026-11-25T08:00:00Z`, `...+08:00`)."""
    text(name, value)
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "+"))  # a '+' sent unescaped arrives as ' '
    except ValueError:
        raise QueryError(400, f"{name} must be an ISO 8601 time such as 2026-11-25T08:00:00Z") from None
    if parsed.tzinfo is None:
        raise QueryError(400, f"{name} needs a time zone (Z or +08:00)")
    return parsed.astimezone(UTC)


def step_of(value: str) -> timedelta:
    """`step=`: seconds, or a number with s, m, h or d (`300`, `5m`, `1h`)."""
    text("step", value)
    match = _STEP.match(value.strip())
    if not match:
        raise QueryError(400, f"step must look like 300, 5m, 1h or 1d, not {value[:40]!r}")
    step = timedelta(seconds=int(match["n"]) * _UNITS[match["unit"]])
    if not MIN_STEP <= step <= MAX_STEP:
        raise QueryError(400, f"step must be from {MIN_STEP} to {MAX_STEP.days} days")
    return step


def history_query(query: Any, now: datetime) -> tuple[datetime, datetime, timedelta, str]:
    """Check from, to, step and format (QueryError on any bad value)."""
    end = instant("to", query["to"]) if "to" in query else now
    step = step_of(query["step"]) if "step" in query else DEFAULT_STEP
    if "from" in query:
        start = instant("from", query["from"])
    else:  # the day before `to`, from a whole step (and so on the five-minute summaries)
        start = end - DEFAULT_SPAN
        start -= (start - ROLLUP_ORIGIN) % step
    fmt = query.get("format", "json")
    if fmt not in ("json", "csv"):
        raise QueryError(400, f"format must be 'json' or 'csv', not {fmt[:40]!r}")
    if end <= start:
        raise QueryError(400, "from must be before to")
    if end - start > MAX_SPAN:
        raise QueryError(400, f"at most {MAX_SPAN.days} days at a time")
    if (end - start) / step > MAX_BUCKETS:
        raise QueryError(400, f"at most {MAX_BUCKETS} buckets at a time: a longer step, or a shorter span")
    return start, end, step, fmt


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def bucket_json(bucket: Bucket) -> dict[str, Any]:
    """One bucket in the JSON answer."""
    return {
        "start": _iso(bucket.start),
        "free": bucket.free,
        "occupied": bucket.occupied,
        "min": bucket.min_free,
        "max": bucket.max_free,
        "samples": bucket.samples,
    }


def buckets_csv(buckets: list[Bucket]) -> bytes:
    """The buckets as CSV, one row each, empty cells where unknown."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["start", "free", "occupied", "min", "max", "samples"])
    for b in buckets:
        row = [b.free, b.occupied, b.min_free, b.max_free]
        writer.writerow([_iso(b.start), *("" if v is None else v for v in row), b.samples])
    return out.getvalue().encode("utf-8")


def lot_of(request: web.Request) -> Lot:
    """The configured lot the path names (a JSON 404 if none)."""
    lot_id = request.match_info["lot_id"]
    try:
        return request.app[CONFIG].lot(lot_id)
    except KeyError:
        raise web.HTTPNotFound(text=f"no lot {lot_id[:64]!r}") from None


@routes.get("/api/v1/lots/{lot_id}/history", name="lot_history")
async def get_history(request: web.Request) -> web.Response:
    """A lot's free and occupied spaces per step, with the least and most free in each step."""
    app = request.app
    spec = lot_of(request)
    lot_id = spec.id
    try:
        start, end, step, fmt = history_query(request.query, app[CLOCK]())
    except QueryError as exc:
        return json_error(exc.status, exc.message)
    store = app.get(STORE)
    if store is None:
        return json_error(503, "history needs the store (store.dsn, or the embedded default)")
    try:
        async with store.pool.acquire(timeout=QUERY_TIMEOUT_S) as conn:
            buckets = await lot_history(conn, lot_id, start, end, step)
    except STORE_ERRORS:
        return json_error(503, "the history database is not available now; live data is")
    if fmt == "csv":
        filename = f"{lot_id}-{start:%Y%m%dT%H%M}-{end:%Y%m%dT%H%M}.csv"
        return web.Response(
            body=buckets_csv(buckets),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    body = {
        "lot": lot_id,
        "capacity": sum(spec.capacities().values()),
        "from": _iso(start),
        "to": _iso(end),
        "step_s": int(step.total_seconds()),
        "buckets": [bucket_json(b) for b in buckets],
    }
    return web.Response(body=orjson.dumps(body), content_type="application/json")
