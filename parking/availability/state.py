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
from parking.availability.derived import HoursCache, LotCache, lot_status_of, publish, refresh_categories
from parking.availability.lots import (
    GateState,
    LotState,
    Result,
    SpotState,
    apply_gate_counters,
    apply_gate_event,
    apply_lot,
    general_follows_total,
)
from parking.availability.sources import (
    Source,
    SourceView,
    derived_general,
    freshness_of,
    lot_free,
    source_views,
    split_current,
)
from parking.availability.status import open_from
from parking.availability.views import LotView
from parking.config.models import Config, Lot
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
_GENERAL = (GENERAL,)


class Availability:
    """Live availability of every configured lot."""

    def __init__(self, config: Config, now: datetime, initial_version: int = 1) -> None:
        self.version = initial_version
        tz = ZoneInfo(config.site.timezone)
        self._ts_ahead = timedelta(seconds=config.defaults.max_ts_ahead_s)
        self._lots: dict[str, LotState] = {}
        for spec in config.lots:
            self._lots[spec.id] = state = _lot_state(spec, config, tz)
            self._refresh(state, now)

    # -- reading -----------------------------------------------------------------

    def view(self, lot_id: str) -> LotView:
        """The current view of one lot (KeyError if unknown)."""
        view = self._lots[lot_id].cache.view
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

    def _refresh(self, state: LotState, now: datetime, touched: Sequence[str] | None = None) -> bool:
        """Re-derive the lot's view at `now`; bump the version if anything visible changed.

        Runs on every message, so it reuses what did not change (state.cache): categories
        the message did not touch, category views whose count and status are the same, and
        the view itself.
        """
        cache = state.cache
        is_open, accepts_visitors = cache.hours.at(now)
        oldest = now - state.freshness  # last seen before this: not fresh
        last_seen = state.last_seen
        fresh = last_seen is not None and last_seen >= oldest
        if not fresh:
            state.samples.clear()  # a gap in data: the trend starts again
        # with bays, the lot system's split holds only while it (or a gate moving it) is current
        current = split_current(state, oldest)
        freshness = freshness_of(state, fresh, oldest)
        if (fresh, is_open, current, freshness) != cache.conditions:
            cache.conditions = (fresh, is_open, current, freshness)
            touched = None
        if general_follows_total(state):
            # general_from_total implies bays: split_current then says whether the truth is current
            state.free[GENERAL], state.general_estimated = derived_general(state, current)
        changed = refresh_categories(state, touched, is_open, fresh, current)
        free = lot_free(state, current) if fresh else None
        cache.lot_status = lot_status_of(state, is_open, free)
        cache.trend.follow(state.samples, now, free, state.last_seen == now, state.capacity)
        if not publish(state, changed, free, accepts_visitors, freshness):
            return False
        self.version += 1
        return True


def _lot_state(spec: Lot, config: Config, tz: ZoneInfo) -> LotState:
    """A lot as the engine starts it: its config's rules, nothing measured, empty caches."""
    capacities = spec.capacities()
    thresholds = spec.thresholds or config.defaults.thresholds
    cache = LotCache(
        hours=HoursCache(tz, spec.opening_hours, spec.guidance_windows),
        open_from={category: open_from(capacity, thresholds) for category, capacity in capacities.items()},
    )
    state = LotState(
        spec=spec,
        capacities=capacities,
        category_names=frozenset(capacities),
        freshness=timedelta(seconds=spec.freshness_s or config.defaults.freshness_s),
        thresholds=thresholds,
        free=dict.fromkeys(capacities, None),
        capacity=sum(capacities.values()),
        max_seq_jump=config.defaults.max_seq_jump,
        cache=cache,
        sources=spec.sources,
        silence=timedelta(seconds=spec.sensor_silence_s or config.defaults.sensor_silence_s),
    )
    share = spec.min_reported_share or config.defaults.min_reported_share
    for category, ids in spec.spot_ids().items():
        for spot in ids:
            state.spots[spot] = SpotState(category)
        state.needed[category] = _bays_needed(share, len(ids))
        state.reported[category] = state.reported_free[category] = 0
    state.general_from_total = GENERAL in capacities and GENERAL not in state.needed and bool(state.needed)
    for gate in spec.gates:
        state.gates[gate] = GateState()
    return state


def _bays_needed(share: float, bays: int) -> int:
    """Bays that must have reported before a category's count is known: at least one."""
    # rounded first, so that 0.7 * 10 == 7.000000000000001 needs 7 bays, not 8
    return max(1, math.ceil(round(share * bays, 9)))
