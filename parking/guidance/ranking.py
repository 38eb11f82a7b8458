"""Rank lots for a driver: drive time plus walk time, over lots that can take them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from parking.availability.views import LotView
from parking.guidance.routes import Route


@dataclass(frozen=True, slots=True)
class Candidate:
    """A lot worth recommending, with the cost that ranked it."""

    route: Route
    view: LotView
    free: int
    cost_s: float


def rank(routes: Iterable[Route], views: Mapping[str, LotView], category: str = "general") -> list[Candidate]:
    """Recommendable lots with a free space in `category`, cheapest (drive + walk) first."""
    candidates: list[Candidate] = []
    for route in routes:
        view = views.get(route.lot)
        if view is None or not view.recommendable:
            continue
        cat = view.category(category)
        if cat is None or cat.free is None or cat.free <= 0 or cat.status not in ("open", "almost_full"):
            continue
        candidates.append(Candidate(route, view, cat.free, route.drive_s + route.walk_s))
    candidates.sort(key=lambda c: (c.cost_s, c.route.lot))
    return candidates
