"""Ops overrides: close a lot, hold back spaces, a fixed message on a board; applied on top of views.

An override is a plain value with an optional end time. What it does is
expressed only in what readers see: a closed lot's view says `closed` (and so
does every category, so nothing recommends it); held-back spaces come off
general's free count and the lot's total (never below 0), and the statuses
follow; a board message replaces a board's lines. The availability state
underneath is untouched, so it keeps counting while an override stands and
shows the true counts again the moment it ends. Pure: the time is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from parking.availability.status import next_status
from parking.availability.views import LotView
from parking.config.models import Thresholds
from parking.types import GENERAL, Status

OverrideKind = Literal["close", "hold", "message"]
OVERRIDE_KINDS: tuple[OverrideKind, ...] = get_args(OverrideKind)
LOT_KINDS: frozenset[OverrideKind] = frozenset({"close", "hold"})

MAX_MESSAGE_CHARS = 64
MAX_REASON_CHARS = 500


@dataclass(frozen=True, slots=True)
class Override:
    """One standing override: of a lot (close, hold) or a board (message), by whom, why, until when."""

    kind: OverrideKind
    target: str  # a lot id (close, hold) or a board id (message)
    set_by: str
    set_at: datetime
    reason: str
    spaces: int = 0  # hold: spaces held back
    message: str = ""  # message: what the board shows instead of its lines
    until: datetime | None = None  # None: until cleared

    @property
    def key(self) -> tuple[OverrideKind, str]:
        """One override of each kind per target: setting another replaces it."""
        return self.kind, self.target

    def active(self, now: datetime) -> bool:
        """True until its end time (if it has one)."""
        return self.until is None or now < self.until


def overlay(view: LotView, closed: bool, held: int, thresholds: Thresholds) -> LotView:
    """The view readers see with a lot closed and/or `held` spaces held back."""
    if closed:
        closed_categories = {name: cat._replace(status="closed") for name, cat in view.categories.items()}
        return view._replace(status="closed", categories=closed_categories)
    if held <= 0:
        return view
    categories = dict(view.categories)
    general = categories.get(GENERAL)
    if general is not None and general.free is not None:
        free = max(0, general.free - held)
        status = _status(general.status, free, general.capacity, thresholds)
        categories[GENERAL] = general._replace(free=free, status=status)
    free_total = None if view.free is None else max(0, view.free - held)
    if general is not None:
        status = categories[GENERAL].status
    elif free_total is None:
        status = view.status
    else:
        status = _status(view.status, free_total, view.capacity, thresholds)
    return view._replace(free=free_total, status=status, categories=categories)


def _status(shown: Status, free: int, capacity: int, thresholds: Thresholds) -> Status:
    """The status for a count lowered by a hold-back; the true status stands as the hysteresis state."""
    if shown in ("closed", "unknown"):
        return shown
    return next_status(shown, free, capacity, thresholds)
