"""Rank lots for a driver: drive, walk, search, and the expected cost of finding the lot full.

Without a model this is the plain ranking (drive + walk over lots with a free
space now), which the evaluation keeps as the baseline. With one, one expected
time to the door decides: drive + walk + search + P(full) x what finding the lot
full costs (the way on to the best lot with its reserve free, or the wait at this
lot's gate if that is shorter; `no_alternative_s` with neither). There are no tiers:
a lot short of its reserve has a high P(full), and that is what keeps drivers off it.
When every lot is predicted full, or a line costs less than the best lot, the answer
is a queue: the lot where a driver sent now is expected to get a space soonest,
waiting at its gate counted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from parking.availability.views import LotView
from parking.config.models import GuidanceConfig
from parking.guidance.expected import (
    NO_OUTLOOK,
    Expectation,
    Outlook,
    expect,
    expect_from,
    usable_free,
    wait_s,
)

NEGLIGIBLE_RISK = 1e-4  # below this chance of a full lot, its detour is not worth computing


def told_minutes(seconds: float) -> int:
    """Seconds as drivers are told them, in whole minutes: rounded up, at least 1."""
    return max(1, math.ceil(seconds / 60.0))


class Leg(Protocol):
    """What ranking needs of a way to a lot: which lot, and the drive and walk times."""

    @property
    def lot(self) -> str: ...
    @property
    def drive_s(self) -> float: ...
    @property
    def walk_s(self) -> float: ...


L = TypeVar("L", bound=Leg)


@dataclass(frozen=True, slots=True)
class Cost:
    """What a recommendation costs a driver, in seconds, broken down."""

    drive_s: float
    walk_s: float
    full_risk_s: float = 0.0  # P(full) x the cost of finding the lot full on arrival
    search_s: float = 0.0  # finding the free bay once there (street bays)
    wait_s: float = 0.0  # a queue answer: waiting at the gate for a space after arriving

    @property
    def total_s(self) -> float:
        """Drive, walk, search, risk and wait together: what the ranking orders by."""
        return self.drive_s + self.walk_s + self.search_s + self.full_risk_s + self.wait_s

    @property
    def arrival_s(self) -> float:
        """Until a driver sent now has a space: the drive, and a queue answer's wait at the gate."""
        return self.drive_s + self.wait_s

    @property
    def arrival_minutes(self) -> int:
        """`arrival_s` as drivers are told it: whole minutes, rounded up, at least 1."""
        return told_minutes(self.arrival_s)

    @property
    def door_minutes(self) -> int:
        """Minutes to the destination's door: drive, walk and a queue's wait, rounded up, at least 1."""
        return told_minutes(self.drive_s + self.walk_s + self.wait_s)


@dataclass(frozen=True, slots=True)
class Candidate(Generic[L]):
    """A lot worth recommending, with the cost that ranked it and, with a model, what to expect there."""

    route: L
    view: LotView
    free: int
    cost: Cost
    expectation: Expectation | None = None
    queue: bool = False  # every lot is predicted full: wait here, where a space is expected soonest

    @property
    def cost_s(self) -> float:
        """The total cost in seconds."""
        return self.cost.total_s

    @property
    def arrival_s(self) -> float:
        """Until a driver sent here now has a space (see `Cost.arrival_s`)."""
        return self.cost.arrival_s

    @property
    def door_minutes(self) -> int:
        """Minutes to the destination's door (see `Cost.door_minutes`)."""
        return self.cost.door_minutes


@dataclass(frozen=True, slots=True)
class RankingModel:
    """The fixed part of the expected-space model: parameters, search times, drives between lots."""

    params: GuidanceConfig
    search_s: Mapping[str, float]  # lot -> seconds to find the free bay once there
    lots: Mapping[str, int]  # lot -> its row and column in between_s
    between_s: npt.NDArray[np.float64]  # drive from lot i's entrance to lot j (inf: none, or i == j)
    queue_lots: frozenset[str] = frozenset()  # lots a driver can wait at (a gate), not street bays


def cost_of(route: Leg) -> Cost:
    """The cost of driving a route and walking on to the destination."""
    return Cost(drive_s=route.drive_s, walk_s=route.walk_s)


def rank(
    routes: Iterable[L],
    views: Mapping[str, LotView],
    category: str = "general",
    *,
    model: RankingModel | None = None,
    outlook: Outlook = NO_OUTLOOK,
) -> list[Candidate[L]]:
    """Lots in their guidance window with a free space in `category`, cheapest first.

    A lot full for general visitors is still a candidate for a category with room
    (a disabled bay at a full hospital car park). With a model, by one expected time
    to the door (`full_cost_s` for the risk); when every lot is predicted full, or a
    line costs less than the best lot, a queue answer comes first (`soonest_space`).
    """
    if model is None:
        return _plain(routes, views, category)
    routes = list(routes)
    usable: list[tuple[L, LotView, int, Expectation]] = []
    for route in routes:
        view = views.get(route.lot)
        if view is None or not view.recommendable_for(category):
            continue
        expectation = expect(view, category, route.drive_s, outlook, model.params)
        if expectation is None:
            continue
        free = view.categories[category].free
        assert free is not None  # recommendable_for says so
        usable.append((route, view, free, expectation))
    onward = _onward_s(usable, category, model, outlook)
    candidates: list[Candidate[L]] = []
    for route, view, free, expectation in usable:
        risk_s = 0.0
        if expectation.full_probability > NEGLIGIBLE_RISK:
            risk_s = expectation.full_probability * full_cost_s(
                route, view, category, expectation, _detour_s(route, onward, model), model
            )
        search_s = model.search_s.get(route.lot, 0.0)
        cost = Cost(route.drive_s, route.walk_s, risk_s, search_s)
        candidates.append(Candidate(route, view, free, cost, expectation))
    candidates.sort(key=_order)
    if not candidates or candidates[0].cost.full_risk_s > 0.0:
        # the best lot may be full on arrival: a place in line may be worth more than that chance
        queue = soonest_space(routes, views, category, model, outlook)
        if queue is not None and (
            not candidates or _all_full(candidates) or queue.cost_s < candidates[0].cost_s
        ):
            candidates = [queue, *(c for c in candidates if c.route.lot != queue.route.lot)]
    return candidates


def full_cost_s(
    route: Leg, view: LotView, category: str, expectation: Expectation, detour_s: float, model: RankingModel
) -> float:
    """What finding a lot full on arrival costs: the detour on, or the wait at its gate if shorter.

    The wait is for the spaces the driver needs once there, at least one (drivers
    already sent are ahead of them), freeing at one a `mean_stay_s` per occupied
    space, the lot being full. A street bay has no gate: the detour it is.
    """
    if route.lot not in model.queue_lots:
        return detour_s
    capacity = view.categories[category].capacity
    needed = max(1.0, 1.0 - expectation.expected_free)
    return min(detour_s, needed * model.params.mean_stay_s / max(1, capacity))


def _all_full(candidates: list[Candidate[L]]) -> bool:
    return all(c.expectation is not None and c.expectation.predicted_full for c in candidates)


def soonest_space(
    routes: Iterable[L], views: Mapping[str, LotView], category: str, model: RankingModel, outlook: Outlook
) -> Candidate[L] | None:
    """The queue answer: the lot with a gate where a driver sent now gets to the door soonest.

    Full lots count (that is the point): each costs drive + the expected wait for a
    space on arrival (drivers already sent are ahead) + walk. Only lots taking
    visitors, with a known count, not closed, with a gate to wait at, and predicted full (a lot
    where a space is expected is ranked as one, not offered as a line). None while
    any lot taking visitors has no count: it may have space, so "all full" is not known.
    """
    routes = list(routes)
    for route in routes:
        view = views.get(route.lot)
        cat = None if view is None else view.categories.get(category)
        if view is not None and view.accepts_visitors and cat is not None and cat.status == "unknown":
            return None
    best: Candidate[L] | None = None
    for route in routes:
        view = views.get(route.lot)
        if route.lot not in model.queue_lots or view is None or not view.accepts_visitors:
            continue
        cat = view.categories.get(category)
        if cat is None or cat.status not in ("open", "almost_full", "full"):
            continue
        free = usable_free(view, category)
        if free is None:
            continue
        expectation = expect_from(view, category, free, route.drive_s, outlook, model.params)
        if not expectation.predicted_full:  # a space is expected there: a lot to go to, not a line
            continue
        wait = wait_s(view, category, route.drive_s, expectation, model.params)
        cost = Cost(route.drive_s, route.walk_s, wait_s=wait)
        candidate = Candidate(route, view, free, cost, expectation, queue=True)
        if best is None or (cost.total_s, route.lot) < (best.cost_s, best.route.lot):
            best = candidate
    return best


def _order(candidate: Candidate[L]) -> tuple[float, str]:
    """By expected cost, then lot id."""
    return candidate.cost_s, candidate.route.lot


def _plain(routes: Iterable[L], views: Mapping[str, LotView], category: str) -> list[Candidate[L]]:
    candidates: list[Candidate[L]] = []
    for route in routes:
        view = views.get(route.lot)
        if view is None or not view.recommendable_for(category):
            continue
        free = view.categories[category].free
        assert free is not None  # recommendable_for says so
        candidates.append(Candidate(route, view, free, cost_of(route)))
    candidates.sort(key=lambda c: (c.cost_s, c.route.lot))
    return candidates


def _onward_s(
    usable: list[tuple[L, LotView, int, Expectation]],
    category: str,
    model: RankingModel,
    outlook: Outlook,
) -> npt.NDArray[np.float64] | None:
    """For every lot, the quickest way on from it to another lot a driver who found it full could take.

    Drive from its entrance, plus that lot's walk and search. The lots counted
    are those with at least their reserve free now once drivers already sent are
    counted (their fill over the detour is left out: it is short and second
    order). None when no lot may be found full (nothing to compute).
    """
    if not any(e.full_probability > NEGLIGIBLE_RISK for _, _, _, e in usable):
        return None
    then = np.full(len(model.lots), np.inf)
    for route, view, _, expectation in usable:
        free = usable_free(view, category)
        column = model.lots.get(route.lot)
        if (
            column is not None
            and free is not None
            and free - outlook.pending.get(route.lot, 0.0) >= expectation.reserve
        ):
            then[column] = route.walk_s + model.search_s.get(route.lot, 0.0)
    best: npt.NDArray[np.float64] = np.min(model.between_s + then[None, :], axis=1)
    return best


def _detour_s(route: Leg, onward: npt.NDArray[np.float64] | None, model: RankingModel) -> float:
    """What finding this lot full adds: on to the best other lot and its walk, less this lot's walk."""
    row = model.lots.get(route.lot)
    best = math.inf if onward is None or row is None else float(onward[row])
    if best == math.inf:
        return model.params.no_alternative_s
    return max(0.0, best - route.walk_s)
