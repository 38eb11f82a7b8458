"""A lot's free spaces 15, 30 and 60 minutes ahead, from its own history: pure functions.

The weekday profile (the method Helsinki's park-and-ride API uses): the current count plus
the mean change over the same weekday and time of day in the last weeks, clamped to
0..capacity. While a slot has fewer than MIN_WEEKS weeks of history, the 15-minute trend
(the lot's fill rate) carries the count forward instead; with neither, the count is held.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import pairwise
from typing import Literal, NamedTuple

HORIZONS_MIN = (15, 30, 60)
DEFAULT_WEEKS = 8  # how far back the profile looks
MIN_WEEKS = 2  # fewer weeks with data for a slot: the trend instead
# A past week's count at an instant is its latest sample at most this old (the five-minute
# summaries give one sample per five minutes; a gap longer than this is no data).
SAMPLE_TOLERANCE = timedelta(minutes=10)

Method = Literal["weekday-profile", "trend", "none"]
Sample = tuple[datetime, int]  # (time, free)


class SlotChange(NamedTuple):
    """What the same weekday and time of day did in the past weeks, for one horizon."""

    minutes: int
    mean_change: float  # free spaces, from the slot's start to `minutes` later
    mean_free: float  # the plain profile: the mean free count `minutes` after the slot's start
    weeks: int  # weeks with a count at both ends


class WeekdayProfile(NamedTuple):
    """A lot's slot changes for each horizon, as measured at `made_at`."""

    made_at: datetime
    slots: tuple[SlotChange, ...]

    def slot(self, minutes: int) -> SlotChange | None:
        """The change for one horizon, None if no week had data for it."""
        return next((s for s in self.slots if s.minutes == minutes), None)


class Horizon(NamedTuple):
    """The forecast for one horizon."""

    minutes: int
    at: datetime
    free: int | None
    method: Method
    weeks: int  # weeks of history behind it (0 for the trend or none)
    unclamped: float | None = None  # before clamping to 0..capacity: where a crossing of 0 falls


class Forecast(NamedTuple):
    """A lot's free spaces now and at each horizon."""

    made_at: datetime
    free: int | None
    capacity: int
    horizons: tuple[Horizon, ...]


def past_instants(now: datetime, tz: tzinfo, weeks: int = DEFAULT_WEEKS) -> list[datetime]:
    """The same weekday and local time of day in each of the last `weeks` weeks, in UTC, oldest first."""
    local = now.astimezone(tz)
    # aware arithmetic keeps the wall clock: 08:00 local is 08:00 local a week before, over DST too
    return [(local - timedelta(weeks=k)).astimezone(UTC) for k in range(weeks, 0, -1)]


def count_at(samples: Sequence[Sample], at: datetime) -> int | None:
    """The latest sample's free count at or before `at`, if it is at most SAMPLE_TOLERANCE old."""
    i = bisect_right(samples, at, key=lambda s: s[0])
    if i == 0 or at - samples[i - 1][0] > SAMPLE_TOLERANCE:
        return None
    return samples[i - 1][1]


def profile_of(samples: Sequence[Sample], starts: Sequence[datetime], made_at: datetime) -> WeekdayProfile:
    """The mean change and level per horizon over the weeks starting at `starts` (samples sorted by time)."""
    slots = []
    for minutes in HORIZONS_MIN:
        ahead = timedelta(minutes=minutes)
        changes: list[int] = []
        levels: list[int] = []
        for start in starts:
            base, later = count_at(samples, start), count_at(samples, start + ahead)
            if base is not None and later is not None:
                changes.append(later - base)
                levels.append(later)
        if changes:
            n = len(changes)
            slots.append(SlotChange(minutes, sum(changes) / n, sum(levels) / n, n))
    return WeekdayProfile(made_at, tuple(slots))


def _clamp(free: float, capacity: int) -> int:
    return max(0, min(capacity, round(free)))


def forecast(
    now: datetime,
    free: int | None,
    capacity: int,
    rate_per_h: float | None,
    profile: WeekdayProfile | None,
) -> Forecast:
    """Free spaces at each horizon: the weekday profile where it has MIN_WEEKS weeks, else the trend."""
    horizons = []
    for minutes in HORIZONS_MIN:
        at = now + timedelta(minutes=minutes)
        slot = profile.slot(minutes) if profile is not None else None
        if free is None:
            horizons.append(Horizon(minutes, at, None, "none", 0))
        elif slot is not None and slot.weeks >= MIN_WEEKS:
            expected = free + slot.mean_change
            clamped = _clamp(expected, capacity)
            horizons.append(Horizon(minutes, at, clamped, "weekday-profile", slot.weeks, expected))
        elif rate_per_h is not None:
            expected = free + rate_per_h * minutes / 60
            horizons.append(Horizon(minutes, at, _clamp(expected, capacity), "trend", 0, expected))
        else:  # nothing to go on: the count held
            horizons.append(Horizon(minutes, at, free, "none", 0, float(free)))
    return Forecast(now, free, capacity, tuple(horizons))


def _path(fc: Forecast, *, clamped: bool = True) -> list[tuple[float, float]]:
    """(minutes from now, free) from now through each horizon; empty when the count is unknown."""
    if fc.free is None:
        return []
    values = ((h.minutes, h.free if clamped else h.unclamped) for h in fc.horizons)
    return [(0.0, float(fc.free)), *((float(m), float(v)) for m, v in values if v is not None)]


def expected_free_on_arrival(fc: Forecast, drive_s: float) -> float | None:
    """Free spaces a driver `drive_s` away can expect on arrival: the forecast interpolated linearly.

    For the guidance to call (it does not yet): beyond the last horizon, that horizon's count.
    """
    path = _path(fc)
    if not path:
        return None
    minutes = max(0.0, drive_s / 60)
    for (m0, f0), (m1, f1) in pairwise(path):
        if m0 <= minutes <= m1:
            return f0 + (f1 - f0) * (minutes - m0) / (m1 - m0)
    return float(path[-1][1])


def full_at(fc: Forecast) -> datetime | None:
    """When the forecast reaches 0 free within its last horizon, interpolated between horizons; else None.

    Linear between the last horizon above 0 and the first at or below it, on the counts before
    clamping (a clamped 0 would put every crossing on a horizon), so "full by about" is never
    later than the earliest horizon that says full. None for a lot full now.
    """
    path = _path(fc, clamped=False)
    for (m0, f0), (m1, f1) in pairwise(path):
        if f0 <= 0:
            return None
        if f1 <= 0:
            return fc.made_at + timedelta(minutes=m0 + (m1 - m0) * f0 / (f0 - f1))
    return None
