"""Status with hysteresis, and trend from recent samples: pure functions."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import deque
from datetime import datetime, timedelta

from parking.availability.views import CategoryView, Status, Trend
from parking.config.models import Thresholds

TREND_WINDOW = timedelta(minutes=15)
TREND_MIN_SPAN = timedelta(minutes=3)
SAMPLE_SPACING = timedelta(seconds=30)


def next_status(previous: Status, free: int, capacity: int, thresholds: Thresholds) -> Status:
    """Occupancy status of a known count; leaving full/almost_full needs the exit threshold."""
    if capacity <= 0:
        return "full"
    pct = 100.0 * free / capacity
    was_full = previous == "full"
    was_almost = previous in ("full", "almost_full")
    if free <= thresholds.full_enter_free or (was_full and free < thresholds.full_exit_free):
        return "full"
    if pct <= thresholds.almost_full_enter_pct or (was_almost and pct <= thresholds.almost_full_exit_pct):
        return "almost_full"
    return "open"


def open_from(capacity: int, thresholds: Thresholds) -> float:
    """The least free count that next_status calls "open" whatever the previous status (inf: none).

    A fast path's bound: a count at or above it needs no next_status. next_status only
    rises with the count, and "full" is the previous status hardest to leave, so the bound
    is where "full" gives way to "open"; found with next_status itself, so it cannot drift.
    """
    if capacity <= 0:
        return math.inf  # no spaces: always full
    # the percentages are at most 100: a count above both the capacity and full_exit_free is open
    top = max(capacity, thresholds.full_exit_free) + 1
    return bisect_left(
        range(top), True, key=lambda free: next_status("full", free, capacity, thresholds) == "open"
    )


_COUNTED: frozenset[Status] = frozenset({"open", "almost_full", "full"})  # statuses of a known count


def counted_status(
    previous: CategoryView | None, free: int, capacity: int, thresholds: Thresholds, open_at: float
) -> Status:
    """next_status of a known count after the category's previous view (None: as if open), cheaply.

    `open_at` is open_from(capacity, thresholds): a count at or above it is open whatever
    came before (most counts, most of the day). An unchanged count keeps a counted status:
    next_status is idempotent for one count.
    """
    if free >= open_at:
        return "open"
    if previous is None:
        return next_status("open", free, capacity, thresholds)
    if previous.free == free and previous.status in _COUNTED:
        return previous.status
    return next_status(previous.status, free, capacity, thresholds)


class Samples:
    """Free-count samples over the trend window, at most one per SAMPLE_SPACING."""

    __slots__ = ("_items", "_slot_end")

    def __init__(self) -> None:
        self._items: deque[tuple[datetime, int]] = deque()
        # before this, a sample replaces the last one: SAMPLE_SPACING after the one before it
        self._slot_end: datetime | None = None

    def add(self, at: datetime, free: int) -> bool:
        """Record the free count at a time; True if it opened a new slot (one per SAMPLE_SPACING)."""
        items = self._items
        slot_end = self._slot_end
        if slot_end is not None and at < slot_end:
            items[-1] = (at, free)
            return False
        items.append((at, free))
        horizon = at - TREND_WINDOW - SAMPLE_SPACING
        while len(items) > 2 and items[1][0] < horizon:
            items.popleft()
        if len(items) >= 2:
            self._slot_end = items[-2][0] + SAMPLE_SPACING
        return True

    def clear(self) -> None:
        """Forget all samples (after a gap in data)."""
        self._items.clear()
        self._slot_end = None

    def rate_per_h(self, now: datetime) -> float | None:
        """Change of free spaces per hour over the window, None if the span is too short."""
        items = self._items
        if len(items) < 2:
            return None
        start = now - TREND_WINDOW
        first = items[0]
        for item in items:
            if item[0] >= start:
                break
            first = item
        last = items[-1]
        if now - first[0] < TREND_MIN_SPAN:
            return None
        return (last[1] - first[1]) * 3600.0 / (now - first[0]).total_seconds()  # over 3 minutes: not 0


def trend_of(rate_per_h: float | None, capacity: int) -> Trend:
    """Filling/emptying when the free count moves by more than 8% of capacity an hour."""
    if rate_per_h is None:
        return "unknown"
    threshold = max(4.0, 0.08 * capacity)
    if rate_per_h <= -threshold:
        return "filling"
    if rate_per_h >= threshold:
        return "emptying"
    return "stable"
