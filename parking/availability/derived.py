"""What a lot's view is derived from its measurements, kept between messages: each cache beside its rule.

A `LotState` holds what was measured (counts, when each source was last heard,
bays, gates, samples); its `LotCache` holds what the refresh derived from them
and the time, so that a message re-derives only what it can have changed. Every
field here can be recomputed from the measurements; none is read by the rules
that apply an observation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from parking.availability.hours import within
from parking.availability.status import Samples, counted_status, next_status, trend_of
from parking.availability.views import CategoryView, Freshness, LotView, Status, Trend
from parking.config.models import TimeWindow
from parking.types import GENERAL

if TYPE_CHECKING:
    from parking.availability.lots import LotState

_SECOND = timedelta(seconds=1)

# What the last refresh found: (fresh, open, split current, freshness). A change of any
# of them can change every category's view, so the refresh then re-derives them all.
Conditions = tuple[bool, bool, bool, Freshness]


@dataclass(slots=True)
class HoursCache:
    """A lot's (open, accepts visitors), kept for the whole second it was evaluated in."""

    tz: ZoneInfo
    opening_hours: list[TimeWindow]
    guidance_windows: list[TimeWindow]
    since: datetime | None = None  # `answer` holds from this whole second ...
    until: datetime | None = None  # ... to the next
    answer: tuple[bool, bool] = (True, True)

    def at(self, now: datetime) -> tuple[bool, bool]:
        """(open, accepts visitors) at `now`; windows have whole-second precision, so one answer a second."""
        since, until = self.since, self.until
        if since is not None and until is not None and since <= now < until:
            return self.answer
        local = now.astimezone(self.tz)
        self.answer = (within(self.opening_hours, local), within(self.guidance_windows, local))
        self.since = since = now.replace(microsecond=0)
        self.until = since + _SECOND
        return self.answer


@dataclass(slots=True)
class TrendCache:
    """The free count's change an hour, with the trend and the fill rate a view shows of it."""

    rate: float | None = None
    trend: Trend = "unknown"
    fill_rate: float | None = None

    def follow(
        self, samples: Samples, now: datetime, free: int | None, heard_now: bool, capacity: int
    ) -> None:
        """Sample the free count at `now` (a lot heard from now) and follow its rate.

        The rate moves only when time passes or a new sample slot opens; the trend and fill
        rate are re-derived only when it moved.
        """
        rate = self.rate
        if free is None:
            rate = None
        elif not heard_now or samples.add(now, free):
            rate = samples.rate_per_h(now)
        if rate != self.rate:
            self.rate, self.trend = rate, trend_of(rate, capacity)
            self.fill_rate = None if rate is None else round(rate, 1)


@dataclass(slots=True)
class LotCache:
    """Everything the refresh derives for one lot and keeps until a message or the clock changes it."""

    hours: HoursCache
    open_from: dict[str, float]  # per category: status.open_from of its capacity, fixed by config
    conditions: Conditions | None = None  # what the last refresh found (see Conditions)
    categories: dict[str, CategoryView] = field(default_factory=dict)  # by refresh_categories
    lot_status: Status = "unknown"  # by lot_status_of
    trend: TrendCache = field(default_factory=TrendCache)
    view: LotView | None = None  # by publish


def refresh_categories(
    state: LotState, touched: Iterable[str] | None, is_open: bool, fresh: bool, split_current: bool
) -> bool:
    """Re-derive the views of the `touched` categories (None: all); True if any changed.

    A category's count shows while the lot is fresh and its split current, or, for one
    with bays, while the lot is fresh; its status keeps its hysteresis (counted_status).
    """
    cache = state.cache
    changed = False
    capacities, categories, counts = state.capacities, cache.categories, state.free
    needed, reported, general_estimated = state.needed, state.reported, state.general_estimated
    opens, thresholds = cache.open_from, state.thresholds
    all_counted = fresh and split_current  # else only fresh categories with bays are
    for category in capacities if touched is None else touched:
        capacity = capacities[category]
        count = counts[category] if all_counted or (fresh and category in needed) else None
        estimated = general_estimated and category == GENERAL and count is not None
        live = reported.get(category)
        unknown = None if live is None else capacity - live
        old = categories.get(category)
        status: Status
        if not is_open:
            status = "closed"
        elif count is None:
            status = "unknown"
        else:
            status = counted_status(old, count, capacity, thresholds, opens[category])
        fields = (count, capacity, status, estimated, unknown)
        if fields != old:  # a named tuple equals the plain tuple of its fields; None equals neither
            categories[category] = CategoryView(*fields)
            changed = True
    return changed


def lot_status_of(state: LotState, is_open: bool, free: int | None) -> Status:
    """What a general visitor finds: general's status, else the total's, with its own hysteresis."""
    cache = state.cache
    general = cache.categories.get(GENERAL)
    if general is not None:
        return general.status
    if not is_open:
        return "closed"
    if free is None:
        return "unknown"
    return next_status(cache.lot_status, free, state.capacity, state.thresholds)


def publish(
    state: LotState, changed: bool, free: int | None, accepts_visitors: bool, freshness: Freshness
) -> bool:
    """Make a new view of the lot if anything it shows changed; True if it did."""
    cache = state.cache
    lot_status, trend = cache.lot_status, cache.trend
    view = cache.view
    if (
        not changed
        and view is not None
        and view.status == lot_status
        and view.free == free
        and view.trend == trend.trend
        and view.fill_rate_per_h == trend.fill_rate
        and view.accepts_visitors == accepts_visitors
        and view.freshness == freshness
    ):
        return False
    # positional, in LotView's field order: keywords cost its __new__ twice as much
    cache.view = LotView(
        state.spec.id,
        lot_status,
        free,
        state.capacity,
        trend.trend,
        trend.fill_rate,  # fill_rate_per_h
        dict(cache.categories),
        accepts_visitors,
        freshness,
    )
    return True
