"""Rank lots for a driver: drive time plus walk time, over lots that can take them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from parking.availability.views import LotView
from parking.guidance.routes import Route


@dataclass(frozen=True, slots=True)
class Cost:
    """What a recommendation costs a driver, in seconds, broken down."""

    drive_s: float
    walk_s: float
    full_risk_s: float = 0.0  # expected cost of finding the lot full on arrival (not modelled yet)

    @property
    def total_s(self) -> float:
        """Drive, walk and risk together: what the ranking orders by."""
        return self.drive_s + self.walk_s + self.full_risk_s


@dataclass(frozen=True, slots=True)
class Candidate:
    """A lot worth recommending, with the cost that ranked it."""

    route: Route
    view: LotView
    free: int
    cost: Cost

    @property
    def cost_s(self) -> float:
        """The total cost in seconds."""
        return self.cost.total_s


def cost_of(route: Route) -> Cost:
    """The cost of driving a route and walking on to the destination."""
    return Cost(drive_s=route.drive_s, walk_s=route.walk_s)


def rank(routes: Iterable[Route], views: Mapping[str, LotView], category: str = "general") -> list[Candidate]:
    """Lots in their guidance window with a free space in `category`, cheapest (drive + walk) first.

    A lot full for general visitors is still a candidate for a category with room
    (a disabled bay at a full hospital car park).
    """
    candidates: list[Candidate] = []
    for route in routes:
        view = views.get(route.lot)
        if view is None or not view.recommendable_for(category):
            continue
        free = view.categories[category].free
        assert free is not None  # recommendable_for says so
        candidates.append(Candidate(route, view, free, cost_of(route)))
    candidates.sort(key=lambda c: (c.cost_s, c.route.lot))
    return candidates
