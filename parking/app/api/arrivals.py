"""A driver sent somewhere: the answer counted, and a row for the store."""

from __future__ import annotations

from aiohttp import web

from parking.app.keys import METRICS, STORE
from parking.guidance.drivers import Sent


def count_answer(app: web.Application, sent: Sent, origin: str, board: str | None) -> None:
    """An answer that sent a driver (its pending arrival already recorded): counted, and recorded."""
    app[METRICS].answers_from[origin].inc()
    store = app.get(STORE)
    if store is not None:
        store.record_answer(sent.at, sent.lot, sent.eta_s, origin, board, sent.category, sent.expires)
