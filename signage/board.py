"""Board lines: what each line of a guidance board says, as JSON and as plain LED text.

Presentation only: the guidance service decides which lots a board shows; this
module turns those decisions into lines and bytes.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import orjson

from parking.availability.views import LotView
from parking.guidance.service import BoardDecision, Recommendation
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


WALK_SHOWN_FROM_M = 300  # a line names the walk when it is at least this long


@dataclass(frozen=True, slots=True)
class BoardLine:
    """One line on a board: a lot, its free count (or FULL / QUEUE / CLOSED / --), arrow and minutes.

    `minutes` is drive plus walk to the hospital door; `walk_m` is set when the
    walk is long enough to matter. A FULL or CLOSED line has no arrow and no
    minutes: nobody should drive there. A QUEUE line (every lot is expected full,
    this is where a space comes soonest) has both, its minutes counting the wait.
    """

    lot: str
    label: str
    free: int | None
    display: str
    arrow: Arrow | None
    minutes: int | None
    walk_m: int | None = None


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


def compose_lines(decision: BoardDecision, labels: Mapping[str, str]) -> tuple[BoardLine, ...]:
    """Turn a board decision into the lines the board shows."""
    return tuple(_line(rec, labels[rec.lot], decision.category) for rec in decision.lines)


def _line(rec: Recommendation, label: str, category: str) -> BoardLine:
    free, display = display_for(rec.view, category)
    if rec.expected_full and display not in ("CLOSED", "--"):
        display = "FULL"  # free now, but expected gone on arrival: the count is kept in `free`
    if rec.queue and display not in ("CLOSED", "--"):
        display = "QUEUE"  # every lot is expected full: wait here; the minutes count the wait
    if rec.route is None or rec.cost is None or display in ("FULL", "CLOSED"):
        return BoardLine(rec.lot, label, free, display, None, None)
    minutes = rec.cost.door_minutes
    walk_m = round(rec.route.walk_m) if rec.route.walk_m >= WALK_SHOWN_FROM_M else None
    return BoardLine(rec.lot, label, free, display, rec.route.arrow, minutes, walk_m)


def board_version(lines: tuple[BoardLine, ...], message: str | None = None) -> int:
    """A number that changes when the lines (or the message) change, equal for equal ones on every replica."""
    shown: object = [_line_json(line) for line in lines]
    if message is not None:
        shown = {"message": message}
    digest = hashlib.blake2b(orjson.dumps(shown), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 11  # 53 bits: exact in every JSON parser


def _line_json(line: BoardLine) -> dict[str, object]:
    return {
        "lot": line.lot,
        "label": line.label,
        "free": line.free,
        "display": line.display,
        "arrow": line.arrow,
        "minutes": line.minutes,
        "walk_m": line.walk_m,
    }


def render_json(board_id: str, lines: tuple[BoardLine, ...], ttl_s: int, message: str | None = None) -> bytes:
    """The JSON body of GET /api/v1/boards/{id}; its version is derived from what it shows.

    An ops message (`message`, else null) replaces the lines: `lines` is then empty.
    """
    version = board_version(lines, message)
    return orjson.dumps(
        {
            "board": board_id,
            "version": version,
            "lines": [] if message is not None else [_line_json(line) for line in lines],
            "message": message,
            "ttl_s": ttl_s,
        }
    )


Charset = Literal["utf-8", "ascii", "gb2312"]
ARROW_GB2312: dict[Arrow, str] = {  # GB2312 has no diagonal arrows: a half turn shows as the full turn
    "ahead": "↑",
    "ahead_right": "→",
    "right": "→",
    "back": "↓",
    "left": "←",
    "ahead_left": "←",
}
_GLYPHS: dict[Charset, dict[Arrow, str]] = {
    "utf-8": ARROW_GLYPHS,
    "ascii": ARROW_ASCII,
    "gb2312": ARROW_GB2312,
}
FALLBACK_TEXT = "NO PARKING DATA"


def columns(text: str) -> int:
    """Display width on a fixed-pitch LED sign: East Asian wide and full-width characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def fit(text: str, width: int) -> str:
    """Cut `text` to at most `width` columns and pad it to exactly `width`."""
    out, used = [], 0
    for ch in text:
        w = columns(ch)
        if used + w > width:
            break
        out.append(ch)
        used += w
    return "".join(out) + " " * (width - used)


def has_data(lines: tuple[BoardLine, ...]) -> bool:
    """True if any line shows a known state (a count, FULL or CLOSED), not only `--`."""
    return any(line.display != "--" for line in lines)


def render_text(
    lines: tuple[BoardLine, ...],
    charset: Charset = "utf-8",
    width: int = 16,
    fallback: str = FALLBACK_TEXT,
    message: str | None = None,
) -> bytes:
    """Fixed-width LED text, one row per line: label, count, arrow, minutes, walk; `fallback` without data.

    An ops message replaces the rows: it is the one row sent.

    Columns: the label cut or padded to `width` display columns (a Chinese
    character takes two), a space, the display right-aligned in 6, a space, the
    arrow in 2, the minutes right-aligned in 5 (`12min`), then ` 650m` for a long
    walk; trailing blanks are trimmed. Characters the charset cannot encode
    become `?`.
    """
    if message is not None:
        return (message + "\n").encode(charset, "replace")
    glyphs = _GLYPHS[charset]
    rows: list[str] = []
    for line in lines if has_data(lines) else ():
        arrow = glyphs[line.arrow] if line.arrow else ""
        minutes = f"{line.minutes}min" if line.minutes is not None else ""
        walk = f" {line.walk_m}m" if line.walk_m is not None else ""
        rows.append(f"{fit(line.label, width)} {line.display:>6} {fit(arrow, 2)} {minutes:>5}{walk}".rstrip())
    if not rows:
        rows.append(fallback)
    text = "\n".join(rows) + "\n"
    return text.encode(charset, "replace")
