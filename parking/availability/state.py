"""The live availability state: apply observations, derive free counts, status and trend.

Pure and synchronous: every method takes the current time; nothing here reads a
clock or does I/O. The `version` changes whenever anything a board or the API
shows changes, so callers can cache rendered answers per version.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import get_args
from zoneinfo import ZoneInfo

from parking.availability.bays import BayView, apply_spot, bay_views, expire_silent
from parking.availability.hours import within
from parking.availability.lots import (
    GateState,
    LotState,
    Result,
    SpotState,
    apply_gate_counters,
    apply_gate_event,
    apply_lot,
)
from parking.availability.sources import (
    Source,
    SourceView,
    derived_general,
    freshness_of,
    lot_free,
    seen_since,
    source_views,
)
from parking.availability.status import next_status, open_from, trend_of
from parking.availability.views import CategoryView, LotView, Status
from parking.config.models import Config
from parking.observations import (
    GateCounterObservation,
    LotObservation,
    Observation,
    SpotObservation,
)
from parking.types import GENERAL


@dataclass(frozen=True, slots=True)
class Outcome:
    """What applying one observation did: a result label, any anomalies noticed, numbers found missing."""

    result: Result
    anomalies: tuple[str, ...] = ()
    changed: bool = False
    gaps: int = 0  # sequence numbers this message showed to be missing (spot and gate event seq)
    # applied, with no anomaly or gap: nothing to note beyond the count (most messages; the
    # feed sink reads it once per message, so it is set here rather than derived each time)
    plain: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "plain", self.result == "applied" and not self.anomalies and not self.gaps)

    @property
    def accepted(self) -> bool:
        """True if the observation was used (even if nothing visible changed)."""
        return self.result == "applied"


# Outcomes without anomalies are shared: one is made per message otherwise.
_PLAIN: dict[str, Outcome] = {r: Outcome(r) for r in get_args(Result)}
_APPLIED_CHANGED = Outcome("applied", changed=True)
_COUNTED: frozenset[Status] = frozenset({"open", "almost_full", "full"})  # statuses of a known count
_SECOND = timedelta(seconds=1)
_GENERAL = (GENERAL,)


class Availability:
    """Live availability of every configured lot."""

    def __init__(self, config: Config, now: datetime, initial_version: int = 1) -> None:
        self.version = initial_version
        self._tz = ZoneInfo(config.site.timezone)
        self._ts_ahead = timedelta(seconds=config.defaults.max_ts_ahead_s)
        self._lots: dict[str, LotState] = {}
        for spec in config.lots:
            capacities = spec.capacities()
            state = LotState(
                spec=spec,
                capacities=capacities,
                category_names=frozenset(capacities),
                freshness=timedelta(seconds=spec.freshness_s or config.defaults.freshness_s),
                thresholds=spec.thresholds or config.defaults.thresholds,
                free=dict.fromkeys(capacities, None),
                capacity=sum(capacities.values()),
                max_seq_jump=config.defaults.max_seq_jump,
                sources=spec.sources,
                silence=timedelta(seconds=spec.sensor_silence_s or config.defaults.sensor_silence_s),
            )
            share = spec.min_reported_share or config.defaults.min_reported_share
            for category, ids in spec.spot_ids().items():
                for spot in ids:
                    state.spots[spot] = SpotState(category)
                state.needed[category] = _bays_needed(share, len(ids))
                state.reported[category] = state.reported_free[category] = 0
            state.general_from_total = (
                GENERAL in capacities and GENERAL not in state.needed and bool(state.needed)
            )
            for gate in spec.gates:
                state.gates[gate] = GateState()
            state.open_from = {
                category: open_from(capacity, state.thresholds) for category, capacity in capacities.items()
            }
            self._lots[spec.id] = state
            self._refresh(state, now)

    # -- reading -----------------------------------------------------------------

    def view(self, lot_id: str) -> LotView:
        """The current view of one lot (KeyError if unknown)."""
        view = self._lots[lot_id].view
        assert view is not None
        return view

    def views(self) -> list[LotView]:
        """Views of every lot, in config order."""
        return [self.view(lot_id) for lot_id in self._lots]

    def updated_at(self, lot_id: str) -> datetime | None:
        """When data for the lot last arrived (KeyError if unknown)."""
        return self._lots[lot_id].last_seen

    def sources(self, lot_id: str, now: datetime) -> list[SourceView]:
        """Each source of the lot (expected or heard from) and its age at `now` (KeyError if unknown)."""
        return source_views(self._lots[lot_id], now)

    def bays(self, lot_id: str) -> list[BayView]:
        """Each bay of the lot with its sensor's state, battery and signal (KeyError if unknown)."""
        return bay_views(self._lots[lot_id])

    # -- writing -----------------------------------------------------------------

    def apply(self, obs: Observation, now: datetime) -> Outcome:
        """Apply one observation received at `now`; duplicates and stale data change nothing."""
        state = self._lots.get(obs.lot)
        if state is None:
            return Outcome("unknown_lot")
        anomalies: list[str] = []
        ts = obs.ts
        if ts is not None and ts - now > self._ts_ahead:
            # Nothing received now was seen later than now: a ts believed far ahead would make
            # every later, correct message look old, so it is clamped (see docs/feeds.md).
            anomalies.append("future_timestamp")
            ts = now + self._ts_ahead
        gaps = 0
        expired = expire_silent(state, now) if state.live_order else ()
        # each kind of source, and the categories its message may move (None: every category)
        source: Source
        touched: Sequence[str] | None
        if isinstance(obs, SpotObservation):
            result, gaps = apply_spot(state, obs, ts, now, anomalies)
            source, spot = "spot", state.spots.get(obs.spot)
            touched = None if spot is None else (spot.category,)
        elif isinstance(obs, LotObservation):
            moved: list[str] = []  # the categories whose count the message changed
            result = apply_lot(state, obs, ts, anomalies, moved)
            source, touched = "lot", moved
        elif isinstance(obs, GateCounterObservation):
            result = apply_gate_counters(state, obs, ts, anomalies)
            source, touched = "gate", _GENERAL if GENERAL in state.capacities else ()
        else:
            result, gaps = apply_gate_event(state, obs, anomalies)
            general = _GENERAL if GENERAL in state.capacities else ()
            source, touched = "gate", general if obs.category is None else None  # a named category: any
        if result != "applied":
            if expired and self._refresh(state, now, None):
                return Outcome(result, tuple(anomalies), changed=True)
            return Outcome(result, tuple(anomalies)) if anomalies else _PLAIN[result]
        state.last_seen = now
        state.seen[source] = now
        if expired or state.general_from_total:
            touched = None  # silent bays went unknown, or general follows every other count
        changed = self._refresh(state, now, touched)
        if anomalies or gaps:
            return Outcome("applied", tuple(anomalies), changed, gaps)
        return _APPLIED_CHANGED if changed else _PLAIN["applied"]

    def tick(self, now: datetime) -> list[str]:
        """Re-evaluate what depends on time (freshness, silent bays, hours, trend); return changed lots."""
        changed = []
        for lot_id, state in self._lots.items():
            if state.live_order:
                expire_silent(state, now)
            if self._refresh(state, now):
                changed.append(lot_id)
        return changed

    # -- derived view ------------------------------------------------------------

    def _hours(self, state: LotState, now: datetime) -> tuple[bool, bool]:
        """(open, accepts visitors) at `now`, kept for the rest of its second.

        Windows have whole-second precision, so the answer holds until the next second.
        """
        since, until = state.hours_from, state.hours_until
        if since is not None and until is not None and since <= now < until:
            return state.hours
        local = now.astimezone(self._tz)
        state.hours = (
            within(state.spec.opening_hours, local),
            within(state.spec.guidance_windows, local),
        )
        state.hours_from = since = now.replace(microsecond=0)
        state.hours_until = since + _SECOND
        return state.hours

    def _refresh(self, state: LotState, now: datetime, touched: Sequence[str] | None = None) -> bool:
        """Re-derive the lot's view at `now`; bump the version if anything visible changed.

        Runs on every message, so it reuses what did not change: categories the
        message did not touch (status is idempotent for an unchanged count),
        category views whose count and status are the same, and the view itself.
        """
        is_open, accepts_visitors = self._hours(state, now)
        oldest = now - state.freshness  # last seen before this: not fresh
        last_seen = state.last_seen
        fresh = last_seen is not None and last_seen >= oldest
        if not fresh:
            state.samples.clear()
        # with bays, the lot system's split holds only while it (or a gate moving it) is current
        split_current = (
            not state.needed or seen_since(state, "lot", oldest) or seen_since(state, "gate", oldest)
        )
        freshness = freshness_of(state, fresh, oldest)
        if (fresh, is_open, split_current, freshness) != state.flags:
            state.flags = (fresh, is_open, split_current, freshness)
            touched = None
        if state.general_from_total and not state.general_named:
            # general_from_total implies bays: split_current then says whether the truth is current
            state.free[GENERAL], state.general_estimated = derived_general(state, split_current)
        changed = False
        capacities, categories, counts = state.capacities, state.categories, state.free
        needed, reported, general_estimated = state.needed, state.reported, state.general_estimated
        opens = state.open_from
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
            elif count >= opens[category]:
                # clear of every threshold (most counts, most of the day): open whatever it was
                status = "open"
            elif old is None:
                status = next_status("open", count, capacity, state.thresholds)
            elif old.free == count and old.status in _COUNTED:
                status = old.status  # an unchanged count keeps its status (next_status is idempotent)
            else:
                status = next_status(old.status, count, capacity, state.thresholds)
            fields = (count, capacity, status, estimated, unknown)
            if fields != old:  # a named tuple equals the plain tuple of its fields; None equals neither
                categories[category] = CategoryView(*fields)
                changed = True
        free = lot_free(state, split_current) if fresh else None
        lot_status: Status
        general = categories.get(GENERAL)
        if general is not None:
            lot_status = general.status  # what a general visitor finds, with general's hysteresis
        elif not is_open:
            lot_status = "closed"
        elif free is None:
            lot_status = "unknown"
        else:
            lot_status = next_status(state.lot_status, free, state.capacity, state.thresholds)
        state.lot_status = lot_status
        rate = state.rate
        if free is None:
            rate = None
        elif state.last_seen != now or state.samples.add(now, free):
            rate = state.samples.rate_per_h(now)  # it moves only when time passes or a new sample slot opens
        if rate != state.rate:
            state.rate, state.trend = rate, trend_of(rate, state.capacity)
            state.fill_rate = None if rate is None else round(rate, 1)
        trend, fill_rate = state.trend, state.fill_rate
        view = state.view
        if (
            not changed
            and view is not None
            and view.status == lot_status
            and view.free == free
            and view.trend == trend
            and view.fill_rate_per_h == fill_rate
            and view.accepts_visitors == accepts_visitors
            and view.freshness == freshness
        ):
            return False
        # positional, in LotView's field order: keywords cost its __new__ twice as much
        state.view = LotView(
            state.spec.id,
            lot_status,
            free,
            state.capacity,
            trend,
            fill_rate,  # fill_rate_per_h
            dict(categories),
            accepts_visitors,
            freshness,
        )
        self.version += 1
        return True


def _bays_needed(share: float, bays: int) -> int:
    """Bays that must have reported before a category's count is known: at least one."""
    # rounded first, so that 0.7 * 10 == 7.000000000000001 needs 7 bays, not 8
    return max(1, math.ceil(round(share * bays, 9)))
