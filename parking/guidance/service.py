"""The guidance service: what to recommend from a board or any origin, with the cost broken down.

It decides; signage/ only turns its decisions into lines and bytes. Pure: it
reads lot views it is given and routes computed once at start-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from parking.availability.views import LotView
from parking.config.models import Board, Config
from parking.guidance.ranking import Cost, cost_of, rank
from parking.guidance.routes import Route, RouteTable
from parking.types import GENERAL


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One lot on a board or in an answer: pinned lots are shown whatever their state."""

    lot: str
    view: LotView
    route: Route | None  # None: the lot cannot be reached by road from here
    cost: Cost | None
    pinned: bool = False


@dataclass(frozen=True, slots=True)
class BoardDecision:
    """What a board should show now: its pinned lots, then the best lots, for one category."""

    board: str
    category: str
    lines: tuple[Recommendation, ...]


class GuidanceService:
    """Decides recommendations for boards and for any set of routes."""

    def __init__(self, config: Config, routes: RouteTable) -> None:
        self._routes = routes
        self._boards: dict[str, Board] = {board.id: board for board in config.boards}
        self._default_lines = config.defaults.board_lines
        # the lots whose state can change what each board shows
        self._board_lots: dict[str, frozenset[str]] = {
            board.id: frozenset(route.lot for route in routes.routes(board.id)) | frozenset(board.pinned)
            for board in config.boards
        }

    @property
    def board_ids(self) -> list[str]:
        """Every configured board id, in config order."""
        return list(self._boards)

    def has_board(self, board_id: str) -> bool:
        """True if the board is configured."""
        return board_id in self._boards

    def boards_affected(self, lots: Iterable[str]) -> frozenset[str]:
        """The boards whose answer may change when these lots change."""
        changed = frozenset(lots)
        return frozenset(board for board, watched in self._board_lots.items() if watched & changed)

    def for_board(self, board_id: str, views: Mapping[str, LotView]) -> BoardDecision:
        """Pinned lots first (whatever their state), then the best lots (KeyError if unknown board)."""
        board = self._boards[board_id]
        routes = self._routes.routes(board_id)
        category = board.needs[0] if board.needs else GENERAL
        by_lot = {route.lot: route for route in routes}
        wanted = max(board.lines or self._default_lines, len(board.pinned))
        lines: list[Recommendation] = []
        for lot in board.pinned:
            route = by_lot.get(lot)
            cost = cost_of(route) if route is not None else None
            lines.append(Recommendation(lot, views[lot], route, cost, pinned=True))
        for candidate in rank(routes, views, category):
            if len(lines) >= wanted:
                break
            if candidate.route.lot in board.pinned:
                continue
            lines.append(Recommendation(candidate.route.lot, candidate.view, candidate.route, candidate.cost))
        return BoardDecision(board_id, category, tuple(lines))

    def rank_routes(
        self, routes: Iterable[Route], views: Mapping[str, LotView], category: str = GENERAL, limit: int = 5
    ) -> list[Recommendation]:
        """The best lots over any routes (e.g. from a phone's position), cheapest first."""
        return [
            Recommendation(c.route.lot, c.view, c.route, c.cost)
            for c in rank(routes, views, category)[:limit]
        ]
