"""A driver sent somewhere: a pending arrival, a counted answer, and a row for the store."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from parking.app.keys import METRICS, PENDING, STORE

First = tuple[str, float] | None  # the lot recommended first and the drive there, in seconds


def count_arrival(app: web.Application, first: First, now: datetime, origin: str, board: str | None) -> None:
    """An answer given is a driver on the way: a pending arrival at the lot recommended first."""
    if first is None:
        return
    lot, drive_s = first
    expires = app[PENDING].add(lot, now, drive_s)
    app[METRICS].answers_from[origin].inc()
    store = app.get(STORE)
    if store is not None:
        store.record_answer(now, lot, drive_s, origin, board, expires)
