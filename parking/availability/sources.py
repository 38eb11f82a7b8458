"""Several sources per lot: each source's freshness, and how their counts are fused.

Precedence (docs/feeds.md, "Several sources per lot"):
- the lot's total is the lot system's, as sent, moved by the gates since (the
  truth), while the lot system or a gate has reported within the freshness
  window; otherwise the sum of the categories, once general is known;
- a category with bay sensors takes the bays' count; another category the lot
  system's split (moved by gate events that name it); general, when it has no
  bays but another category has, is the total minus the other categories.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from parking.availability.lots import LotState
from parking.availability.views import Freshness
from parking.types import GENERAL

Source = Literal["spot", "lot", "gate"]
SOURCES: tuple[Source, ...] = ("spot", "lot", "gate")


@dataclass(frozen=True, slots=True)
class SourceView:
    """One source of a lot, at a moment: when it last reported and whether that is recent enough."""

    source: Source
    seen_at: datetime | None
    age_s: float | None
    fresh: bool
    expected: bool  # listed in the lot's `feed`


def is_fresh(state: LotState, source: str, now: datetime) -> bool:
    """The source has reported within the lot's freshness window."""
    return seen_since(state, source, now - state.freshness)


def seen_since(state: LotState, source: str, oldest: datetime) -> bool:
    """The source has reported at `oldest` or later (`oldest`: now less the freshness window)."""
    seen = state.seen.get(source)
    return seen is not None and seen >= oldest


def split_current(state: LotState, oldest: datetime) -> bool:
    """The lot's split holds: no bays, or the lot system or a gate moving it reported at `oldest` or later."""
    return not state.needed or seen_since(state, "lot", oldest) or seen_since(state, "gate", oldest)


def freshness_of(state: LotState, fresh: bool, oldest: datetime) -> Freshness:
    """Stale without any fresh source; degraded when an expected source is not fresh or bays are unknown.

    `oldest` is now less the lot's freshness window: a source last seen before it is not fresh.
    """
    if not fresh:
        return "stale"
    for source in state.sources:
        if not seen_since(state, source, oldest):
            return "degraded"
    for category, live in state.reported.items():
        if live < state.capacities[category]:
            return "degraded"
    return "fresh"


def derived_general(state: LotState, truth_current: bool) -> tuple[int | None, bool]:
    """General as the total minus every other category; estimated where one is unknown (taken as free).

    `truth_current`: the lot system or a gate has reported within the freshness window.
    """
    if state.total is None or not truth_current:
        return None, False
    rest, estimated = 0, False
    for category, capacity in state.capacities.items():
        if category == GENERAL:
            continue
        count = state.free[category]
        if count is None:
            rest += capacity
            estimated = True
        else:
            rest += count
    return max(0, min(state.total - rest, state.capacities[GENERAL])), estimated


def lot_free(state: LotState, split_current: bool) -> int | None:
    """The lot's total: the truth while current, else the category sum once general is known.

    `split_current`: the lot has no bays, or the lot system or a gate has reported within
    the freshness window (the truth is current).
    """
    if state.total is not None and split_current:
        return state.total
    total, any_known = 0, False
    for category, count in state.free.items():
        if count is None:
            if category == GENERAL:
                return None
        else:
            total += count
            any_known = True
    return total if any_known else None


def source_views(state: LotState, now: datetime) -> list[SourceView]:
    """Every source the lot expects or has heard from, with its age at `now`."""
    out = []
    for source in SOURCES:
        seen = state.seen.get(source)
        expected = source in state.sources
        if seen is None and not expected:
            continue
        age_s = None if seen is None else (now - seen).total_seconds()
        out.append(SourceView(source, seen, age_s, is_fresh(state, source, now), expected))
    return out
