"""The guidance service: what to recommend from a board or any origin, with the cost broken down.

It decides; signage/ only turns its decisions into lines and bytes. Pure: it
reads lot views it is given and routes computed once at start-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from parking.availability.views import LotView
from parking.config.models import Board, Config, Lot
from parking.guidance.expected import NO_OUTLOOK, Expectation, Outlook
from parking.guidance.graph import RoadGraph
from parking.guidance.ranking import Candidate, Cost, RankingModel, cost_of, rank
from parking.guidance.routes import Reach, Route, RouteTable
from parking.types import GENERAL


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One lot on a board or in an answer: pinned lots are shown whatever their state."""

    lot: str
    view: LotView
    route: Route | None  # None: the lot cannot be reached by road from here
    cost: Cost | None
    pinned: bool = False
    expectation: Expectation | None = None  # what a driver sent now can expect there (ranked lots)
    # a pinned lot the model expects below its reserve on arrival while the board sends drivers
    # to another lot: the board shows it FULL (no arrow, no minutes), not a count that invites them
    expected_full: bool = False
    # every lot is predicted full: wait at this lot's gate, where a space is expected soonest
    queue: bool = False

    @property
    def door_minutes(self) -> int | None:
        """Minutes to the destination's door, a queue answer's wait counted (None: not reachable)."""
        return None if self.cost is None else self.cost.door_minutes

    @property
    def arrival_s(self) -> float | None:
        """Until a driver sent here now has a space: drive and a queue's wait (None: not reachable)."""
        return None if self.cost is None else self.cost.arrival_s

    @property
    def queue_minutes(self) -> int | None:
        """A queue answer: minutes until a space is expected at the gate; None for any other answer."""
        return self.cost.arrival_minutes if self.queue and self.cost is not None else None


@dataclass(frozen=True, slots=True)
class Needs:
    """What a driver's vehicle needs: a category of space and, optionally, headroom."""

    category: str = GENERAL
    height_m: float | None = None


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a driver starts: a road node, how far the given position was from it, a heading if known."""

    node: str
    snap_m: float
    heading_deg: float | None = None


@dataclass(frozen=True, slots=True)
class BoardDecision:
    """What a board should show now: its pinned lots, then the best lots, for one category."""

    board: str
    category: str
    lines: tuple[Recommendation, ...]
    best: Recommendation | None = None  # what the guidance endpoint answers first for a driver here


class GuidanceService:
    """Decides recommendations for boards and for any origin, with the expected-space model."""

    def __init__(self, config: Config, routes: RouteTable, roads: RoadGraph) -> None:
        self._routes = routes
        self._roads = roads
        self._lots: dict[str, Lot] = {lot.id: lot for lot in config.lots}
        self.categories: frozenset[str] = frozenset(c for lot in config.lots for c in lot.capacities())
        self.destinations = config.destination_ids()
        self._boards: dict[str, Board] = {board.id: board for board in config.boards}
        self._default_lines = config.defaults.board_lines
        lots, between_s = routes.between_lots()
        self._model = RankingModel(
            params=config.guidance,
            search_s={lot.id: config.guidance.street_search_s for lot in config.lots if lot.kind == "street"},
            lots=lots,
            between_s=between_s,
            queue_lots=frozenset(lot.id for lot in config.lots if lot.kind != "street"),
        )
        # the lots whose state can change what each board shows
        self._board_lots: dict[str, frozenset[str]] = {
            board.id: frozenset(reach.lot for reach in routes.reaches(board.id)) | frozenset(board.pinned)
            for board in config.boards
        }

    @property
    def board_ids(self) -> list[str]:
        """Every configured board id, in config order."""
        return list(self._boards)

    @property
    def lots(self) -> Mapping[str, Lot]:
        """Every lot by id."""
        return self._lots

    @property
    def model(self) -> RankingModel:
        """The fixed part of the expected-space model."""
        return self._model

    @property
    def routes(self) -> RouteTable:
        """The route table every answer reads."""
        return self._routes

    def has_board(self, board_id: str) -> bool:
        """True if the board is configured."""
        return board_id in self._boards

    def boards_affected(self, lots: Iterable[str]) -> frozenset[str]:
        """The boards whose answer may change when these lots change."""
        changed = frozenset(lots)
        return frozenset(board for board, watched in self._board_lots.items() if watched & changed)

    def board_category(self, board_id: str) -> str:
        """The category of space a board guides to (KeyError if unknown)."""
        board = self._boards[board_id]
        return board.needs[0] if board.needs else GENERAL

    def for_board(
        self, board_id: str, views: Mapping[str, LotView], outlook: Outlook = NO_OUTLOOK
    ) -> BoardDecision:
        """Pinned lots first (whatever their state), then the best lots (KeyError if unknown board)."""
        board = self._boards[board_id]
        reaches = self._routes.reaches(board_id)
        category = self.board_category(board_id)
        by_lot = {reach.lot: reach for reach in reaches}
        wanted = max(board.lines or self._default_lines, len(board.pinned))
        ranked = rank(reaches, views, category, model=self._model, outlook=outlook)
        first = ranked[0].route.lot if ranked else None
        expectations = {c.route.lot: c.expectation for c in ranked}
        lines: list[Recommendation] = []
        for lot in board.pinned:
            reach = by_lot.get(lot)
            route = self._routes.route(reach) if reach is not None else None
            cost = cost_of(route) if route is not None else None
            expectation = expectations.get(lot)
            full = pinned_expected_full(lot, expectation, first)
            if ranked and ranked[0].queue and first == lot:  # the queue answer is the pinned lot
                lines.append(replace(self._recommendation(ranked[0]), pinned=True))
                continue
            lines.append(Recommendation(lot, views[lot], route, cost, True, expectation, full))
        for candidate in ranked:
            if len(lines) >= wanted:
                break
            if candidate.route.lot in board.pinned:
                continue
            lines.append(self._recommendation(candidate))
        best = self._recommendation(ranked[0]) if ranked else None
        return BoardDecision(board_id, category, tuple(lines), best)

    def board_origin(self, board_id: str) -> Origin:
        """Where a board stands on the road graph, facing its way (KeyError if unknown)."""
        board = self._boards[board_id]
        if board.node is not None:
            return Origin(board.node, 0.0, board.facing_deg)
        node, snap_m = self._roads.snap(board.lat, board.lon)
        return Origin(node, snap_m, board.facing_deg)

    def board_destination(self, board_id: str) -> str:
        """The destination a board guides to (KeyError if unknown)."""
        return self._boards[board_id].destination

    def snap(self, lat: float, lon: float) -> Origin:
        """The road node nearest a position, with the distance to it; no heading."""
        node, snap_m = self._roads.snap(lat, lon)
        return Origin(node, snap_m)

    def position(self, node: str) -> tuple[float, float]:
        """(lat, lon) of a road node."""
        return self._roads.coords[node]

    def recommend(
        self,
        origin: Origin,
        destination_id: str,
        views: Mapping[str, LotView],
        needs: Needs = Needs(),
        limit: int = 5,
        outlook: Outlook = NO_OUTLOOK,
    ) -> list[Recommendation]:
        """The best lots from an origin to a destination for a vehicle's needs, cheapest first.

        Lots whose height limit is below the vehicle's are left out. KeyError for an
        unknown destination.
        """
        reaches = self._routes.reaches_from(origin.node, origin.heading_deg, destination_id)
        return self._ranked(reaches, views, needs, limit, outlook)

    def recommend_from_board(
        self,
        board_id: str,
        destination_id: str,
        views: Mapping[str, LotView],
        needs: Needs = Needs(),
        limit: int = 5,
        outlook: Outlook = NO_OUTLOOK,
    ) -> list[Recommendation]:
        """As `recommend`, from where a board stands; its own destination uses the precomputed reaches."""
        if destination_id == self._boards[board_id].destination:
            return self._ranked(self._routes.reaches(board_id), views, needs, limit, outlook)
        return self.recommend(self.board_origin(board_id), destination_id, views, needs, limit, outlook)

    def _ranked(
        self, reaches: list[Reach], views: Mapping[str, LotView], needs: Needs, limit: int, outlook: Outlook
    ) -> list[Recommendation]:
        if needs.height_m is not None:
            height = needs.height_m
            reaches = [r for r in reaches if not _too_low(self._lots[r.lot], height)]
        ranked = rank(reaches, views, needs.category, model=self._model, outlook=outlook)
        return [self._recommendation(c) for c in ranked[:limit]]

    def _recommendation(self, candidate: Candidate[Reach]) -> Recommendation:
        reach = candidate.route
        return Recommendation(
            reach.lot,
            candidate.view,
            self._routes.route(reach),
            candidate.cost,
            expectation=candidate.expectation,
            queue=candidate.queue,
        )


def pinned_expected_full(lot: str, expectation: Expectation | None, first: str | None) -> bool:
    """A pinned lot shows FULL if expected below its reserve on arrival while its board sends drivers on.

    Its free count is still true now, but the drivers already sent there will take
    it; a number on the board would draw more. When no other lot is better (the
    board's first choice is this lot, or there is none), the count stays.
    """
    return expectation is not None and expectation.below_reserve and first is not None and first != lot


def _too_low(lot: Lot, height_m: float) -> bool:
    return lot.height_limit_m is not None and lot.height_limit_m < height_m
