"""A driver sent somewhere: a pending arrival, a counted answer, and a row for the store."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from parking.app.keys import METRICS, PENDING, STORE


def count_arrival(
    app: web.Application,
    lot: str,
    drive_s: float,
    now: datetime,
    origin: str,
    board: str | None,
    category: str,
) -> None:
    """An answer given is a driver on the way: a pending arrival at `lot`, counted, and recorded."""
    expires = app[PENDING].add(lot, now, drive_s, category=category)
    app[METRICS].answers_from[origin].inc()
    store = app.get(STORE)
    if store is not None:
        store.record_answer(now, lot, drive_s, origin, board, category, expires)
