"""Lot views and outlooks of the test site built as values, for the pure guidance and board specs."""

from __future__ import annotations

from types import MappingProxyType

from parking.availability.views import CategoryView, LotView
from parking.guidance.expected import Outlook
from parking.types import GENERAL, Status

CAPACITY = {"hospital": 104, "tower": 210, "street": 12, "mall": 500}


def view(lot: str, free: int | None, rate_per_h: float | None = None, status: Status = "open") -> LotView:
    capacity = CAPACITY[lot]
    return LotView(
        id=lot,
        status=status,
        free=free,
        capacity=capacity,
        trend="unknown",
        fill_rate_per_h=rate_per_h,
        categories={GENERAL: CategoryView(free, capacity, status)},
        accepts_visitors=True,
    )


def views(**free: int | None) -> dict[str, LotView]:
    return {
        lot: view(lot, free.get(lot, 0), status="open" if free.get(lot, 0) else "full") for lot in CAPACITY
    }


def outlook(pending: dict[str, float] | None = None) -> Outlook:
    return Outlook(MappingProxyType(pending or {}))
