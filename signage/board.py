"""The board view: what each line of a guidance board says, as JSON and as plain text."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import orjson

from parking.availability.views import LotView
from parking.config.models import Board
from parking.guidance.ranking import rank
from parking.guidance.routes import Route
from parking.types import Arrow

ARROW_GLYPHS: dict[Arrow, str] = {
    "ahead": "↑",
    "ahead_right": "↗",
    "right": "→",
    "back": "↓",
    "left": "←",
    "ahead_left": "↖",
}
ARROW_ASCII: dict[Arrow, str] = {
    "ahead": "^",
    "ahead_right": "/>",
    "right": "->",
    "back": "v",
    "left": "<-",
    "ahead_left": "<\\",
}


@dataclass(frozen=True, slots=True)
class BoardLine:
    """One line on a board: a lot, its free count (or FULL / --), arrow and minutes."""

    lot: str
    label: str
    free: int | None
    display: str
    arrow: Arrow | None
    minutes: int | None


def display_for(view: LotView, category: str) -> tuple[int | None, str]:
    """The free count and the text a board shows for a lot: a number, FULL, CLOSED or --."""
    cat = view.category(category)
    if view.status == "closed":
        return None, "CLOSED"
    if cat is None or cat.free is None or cat.status == "unknown":
        return None, "--"
    if cat.status == "full":
        return cat.free, "FULL"
    return cat.free, str(cat.free)


def compose_lines(
    board: Board,
    routes: list[Route],
    views: Mapping[str, LotView],
    labels: Mapping[str, str],
    lines: int,
) -> tuple[BoardLine, ...]:
    """Pinned lots first (whatever their state), then the best recommendations."""
    category = board.needs[0] if board.needs else "general"
    by_lot = {route.lot: route for route in routes}
    out: list[BoardLine] = []
    for lot_id in board.pinned:
        view = views[lot_id]
        free, display = display_for(view, category)
        out.append(_line(lot_id, labels[lot_id], free, display, by_lot.get(lot_id)))
    for candidate in rank(routes, views, category):
        if len(out) >= max(lines, len(board.pinned)):
            break
        if candidate.route.lot in board.pinned:
            continue
        free, display = display_for(candidate.view, category)
        out.append(_line(candidate.route.lot, labels[candidate.route.lot], free, display, candidate.route))
    return tuple(out)


def _line(lot: str, label: str, free: int | None, display: str, route: Route | None) -> BoardLine:
    if route is None:
        return BoardLine(lot, label, free, display, None, None)
    minutes = max(1, math.ceil(route.drive_s / 60.0))
    return BoardLine(lot, label, free, display, route.arrow, minutes)


def render_json(board_id: str, version: int, lines: tuple[BoardLine, ...], ttl_s: int) -> bytes:
    """The JSON body of GET /api/v1/boards/{id}."""
    return orjson.dumps(
        {
            "board": board_id,
            "version": version,
            "lines": [
                {
                    "lot": line.lot,
                    "label": line.label,
                    "free": line.free,
                    "display": line.display,
                    "arrow": line.arrow,
                    "minutes": line.minutes,
                }
                for line in lines
            ],
            "ttl_s": ttl_s,
        }
    )


def render_text(lines: tuple[BoardLine, ...], ascii_only: bool = False, width: int = 16) -> bytes:
    """Plain text for LED controllers: one line per lot, label padded, then count, arrow, minutes."""
    glyphs = ARROW_ASCII if ascii_only else ARROW_GLYPHS
    rows: list[str] = []
    for line in lines:
        label = line.label[:width].ljust(width)
        arrow = glyphs[line.arrow] if line.arrow else ""
        minutes = f"{line.minutes}min" if line.minutes is not None else ""
        rows.append(f"{label} {line.display:>6} {arrow:<2} {minutes}".rstrip())
    if not rows:
        rows.append("NO PARKING DATA")
    text = "\n".join(rows) + "\n"
    return text.encode("ascii", "replace") if ascii_only else text.encode("utf-8")
