"""The live availability state: apply observations, derive free counts, status and trend.

Pure and synchronous: every method takes the current time; nothing here reads a
clock or does I/O. The `version` changes whenever anything a board or the API
shows changes, so callers can cache rendered answers per version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from parking.availability.hours import within
from parking.availability.status import Samples, next_status, trend_of
from parking.availability.views import CategoryView, LotView, Status
from parking.config.models import Config, Lot, Thresholds
from parking.observations import (
    GateCounterObservation,
    GateEventObservation,
    LotObservation,
    Observation,
    SpotObservation,
)

GENERAL = "general"
MAX_CLOCK_SKEW = timedelta(minutes=5)
# A sequence number this far below the last one is a device restart, not a late message.
SEQ_RESTART_GAP = 1000
# Gate counters that fall by more than this without timestamps were reset, not reordered.
COUNTER_REORDER_WINDOW = 100
Result = Literal["applied", "duplicate", "stale", "unknown_lot", "unknown_spot", "unknown_gate", "wrong_feed"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What applying one observation did: a result label and any anomalies noticed."""

    result: Result
    anomalies: tuple[str, ...] = ()
    changed: bool = False

    @property
    def accepted(self) -> bool:
        """True if the observation was used (even if nothing visible changed)."""
        return self.result == "applied"


# Outcomes without anomalies are shared: one is made per message otherwise.
_PLAIN: dict[str, Outcome] = {r: Outcome(r) for r in get_args(Result)}
_APPLIED_CHANGED = Outcome("applied", changed=True)


@dataclass(slots=True)
class _Spot:
    category: str
    occupied: bool | None = None
    seq: int | None = None
    ts: datetime | None = None


@dataclass(slots=True)
class _Gate:
    entries: int | None = None
    exits: int | None = None
    ts: datetime | None = None
    seq: int | None = None


@dataclass(slots=True)
class _LotState:
    spec: Lot
    capacities: dict[str, int]
    freshness: timedelta
    thresholds: Thresholds
    free: dict[str, int | None]
    capacity: int
    spots: dict[str, _Spot] = field(default_factory=dict)
    gates: dict[str, _Gate] = field(default_factory=dict)
    last_seen: datetime | None = None
    last_ts: datetime | None = None
    statuses: dict[str, Status] = field(default_factory=dict)
    lot_status: Status = "unknown"
    samples: Samples = field(default_factory=Samples)
    view: LotView | None = None
    categories: dict[str, CategoryView] = field(default_factory=dict)
    rate: float | None = None
    flags: tuple[bool, bool] | None = None  # (fresh, open) at the last refresh
    hours_at: int | None = None
    hours: tuple[bool, bool] = (True, True)


class Availability:
    """Live availability of every configured lot."""

    def __init__(self, config: Config, now: datetime, initial_version: int = 1) -> None:
        self.version = initial_version
        self._tz = ZoneInfo(config.site.timezone)
        self._lots: dict[str, _LotState] = {}
        for spec in config.lots:
            capacities = spec.capacities()
            state = _LotState(
                spec=spec,
                capacities=capacities,
                freshness=timedelta(seconds=spec.freshness_s or config.defaults.freshness_s),
                thresholds=spec.thresholds or config.defaults.thresholds,
                free=dict.fromkeys(capacities, None),
                capacity=sum(capacities.values()),
            )
            for category, ids in spec.spot_ids().items():
                for spot in ids:
                    state.spots[spot] = _Spot(category)
            for gate in spec.gates:
                state.gates[gate] = _Gate()
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

    # -- writing -----------------------------------------------------------------

    def apply(self, obs: Observation, now: datetime) -> Outcome:
        """Apply one observation received at `now`; duplicates and stale data change nothing."""
        state = self._lots.get(obs.lot)
        if state is None:
            return Outcome("unknown_lot")
        anomalies: list[str] = []
        ts = obs.ts
        if ts is not None and ts - now > MAX_CLOCK_SKEW:
            # A device clock far ahead would make every later, correct message look old.
            anomalies.append("future_timestamp")
            ts = None
        if isinstance(obs, SpotObservation):
            result = self._apply_spot(state, obs, ts)
        elif isinstance(obs, LotObservation):
            result = self._apply_lot(state, obs, ts, anomalies)
        elif isinstance(obs, GateCounterObservation):
            result = self._apply_gate_counters(state, obs, ts, anomalies)
        else:
            result = self._apply_gate_event(state, obs, anomalies)
        if result != "applied":
            return Outcome(result, tuple(anomalies)) if anomalies else _PLAIN[result]
        state.last_seen = now
        touched: tuple[str, ...] | None = None  # None: every category
        if isinstance(obs, SpotObservation):
            touched = (state.spots[obs.spot].category,)
        elif not isinstance(obs, LotObservation):
            touched = (GENERAL,) if GENERAL in state.capacities else ()
        changed = self._refresh(state, now, touched)
        if anomalies:
            return Outcome("applied", tuple(anomalies), changed)
        return _APPLIED_CHANGED if changed else _PLAIN["applied"]

    def tick(self, now: datetime) -> list[str]:
        """Re-evaluate time-dependent state (freshness, hours, trend); return the changed lot ids."""
        return [lot_id for lot_id, state in self._lots.items() if self._refresh(state, now)]

    # -- per feed ----------------------------------------------------------------

    def _apply_spot(self, state: _LotState, obs: SpotObservation, ts: datetime | None) -> Result:
        spot = state.spots.get(obs.spot)
        if spot is None:
            return "unknown_spot" if state.spec.feed == "spot" else "wrong_feed"
        if obs.seq is not None and spot.seq is not None:
            order = _seq_order(obs.seq, spot.seq)
            if order != "new":
                return order
        elif ts is not None and spot.ts is not None and ts < spot.ts:
            return "stale"
        free = state.free
        if spot.occupied is None:
            free[spot.category] = (free[spot.category] or 0) + (0 if obs.occupied else 1)
        elif spot.occupied != obs.occupied:
            free[spot.category] = (free[spot.category] or 0) + (-1 if obs.occupied else 1)
        spot.occupied = obs.occupied
        spot.seq = obs.seq if obs.seq is not None else spot.seq
        spot.ts = ts if ts is not None else spot.ts
        return "applied"

    def _apply_lot(
        self, state: _LotState, obs: LotObservation, ts: datetime | None, anomalies: list[str]
    ) -> Result:
        if ts is not None and state.last_ts is not None and ts < state.last_ts:
            return "stale"
        if state.spec.feed == "spot":
            return "wrong_feed"
        total_capacity = sum(state.capacities.values())
        if obs.capacity is not None and obs.capacity != total_capacity:
            anomalies.append("capacity_mismatch")
        special = {c: n for c, n in obs.categories.items() if c != GENERAL}
        if any(category not in state.capacities for category in special):
            anomalies.append("unknown_category")
        general = obs.categories.get(GENERAL, obs.free - sum(special.values()))
        for category, capacity in state.capacities.items():
            count = general if category == GENERAL else special.get(category)
            # a category the message leaves out is not known from it: never keep an old count
            state.free[category] = None if count is None else self._clamp(count, capacity, anomalies)
        if ts is not None:
            state.last_ts = ts
        return "applied"

    def _apply_gate_counters(
        self, state: _LotState, obs: GateCounterObservation, ts: datetime | None, anomalies: list[str]
    ) -> Result:
        gate = self._gate(state, obs.gate)
        if gate is None:
            return "unknown_gate" if state.spec.feed == "gate" else "wrong_feed"
        if ts is not None and gate.ts is not None and ts < gate.ts:
            return "stale"
        delta: int | None
        if gate.entries is None or gate.exits is None:
            delta = None  # the first reading is the baseline
        elif obs.entries < gate.entries or obs.exits < gate.exits:
            newer = ts is not None and gate.ts is not None
            dropped = gate.entries - obs.entries > COUNTER_REORDER_WINDOW
            if not (newer or dropped):
                return "stale"  # an older reading delivered late
            anomalies.append("counter_reset")
            delta = None
        else:
            # equal counters are a heartbeat: nothing moves, but the lot stays fresh
            delta = (obs.entries - gate.entries) - (obs.exits - gate.exits)
        gate.entries, gate.exits = obs.entries, obs.exits
        gate.ts = ts if ts is not None else gate.ts
        self._move_general(state, delta or 0, anomalies)
        return "applied"

    def _apply_gate_event(self, state: _LotState, obs: GateEventObservation, anomalies: list[str]) -> Result:
        gate = self._gate(state, obs.gate)
        if gate is None:
            return "unknown_gate" if state.spec.feed == "gate" else "wrong_feed"
        if obs.seq is not None and gate.seq is not None:
            order = _seq_order(obs.seq, gate.seq)
            if order != "new":
                return order
        gate.seq = obs.seq if obs.seq is not None else gate.seq
        self._move_general(state, 1 if obs.event == "entry" else -1, anomalies)
        return "applied"

    def _gate(self, state: _LotState, gate_id: str) -> _Gate | None:
        if state.spec.feed != "gate":
            return None
        gate = state.gates.get(gate_id)
        if gate is None and not state.spec.gates:
            gate = state.gates[gate_id] = _Gate()  # any gate id when none are configured
        return gate

    def _move_general(self, state: _LotState, cars_in: int, anomalies: list[str]) -> None:
        """Gate counts move the general category; a lot that was never counted starts empty."""
        capacity = state.capacities.get(GENERAL)
        if capacity is None:
            return
        current = state.free[GENERAL]
        free = capacity if current is None else current
        state.free[GENERAL] = self._clamp(free - cars_in, capacity, anomalies)

    @staticmethod
    def _clamp(free: int, capacity: int, anomalies: list[str]) -> int:
        if free < 0:
            anomalies.append("clamped_below_zero")
            return 0
        if free > capacity:
            anomalies.append("clamped_above_capacity")
            return capacity
        return free

    # -- derived view ------------------------------------------------------------

    def _hours(self, state: _LotState, now: datetime) -> tuple[bool, bool]:
        """(open, accepts visitors) at `now`; windows have whole-second precision, so cache per second."""
        second = int(now.timestamp())
        if state.hours_at != second:
            local = now.astimezone(self._tz)
            state.hours = (
                within(state.spec.opening_hours, local),
                within(state.spec.guidance_windows, local),
            )
            state.hours_at = second
        return state.hours

    def _refresh(self, state: _LotState, now: datetime, touched: tuple[str, ...] | None = None) -> bool:
        """Re-derive the lot's view at `now`; bump the version if anything visible changed.

        Runs on every message, so it reuses what did not change: categories the
        message did not touch (status is idempotent for an unchanged count),
        category views whose count and status are the same, and the view itself.
        """
        is_open, accepts_visitors = self._hours(state, now)
        fresh = state.last_seen is not None and now - state.last_seen <= state.freshness
        if not fresh:
            state.samples.clear()
        if (fresh, is_open) != state.flags:
            state.flags = (fresh, is_open)
            touched = None
        changed = False
        for category in state.capacities if touched is None else touched:
            capacity = state.capacities[category]
            count = state.free[category] if fresh else None
            status: Status
            if not is_open:
                status = "closed"
            elif count is None:
                status = "unknown"
            else:
                status = next_status(state.statuses.get(category, "open"), count, capacity, state.thresholds)
            state.statuses[category] = status
            old = state.categories.get(category)
            if old is None or old.free != count or old.status != status:
                state.categories[category] = CategoryView(count, capacity, status)
                changed = True
        total, any_known, general_known = 0, False, True
        for category, cat in state.categories.items():
            if cat.free is None:
                general_known = general_known and category != GENERAL
            else:
                total += cat.free
                any_known = True
        free = total if any_known and general_known else None
        lot_status: Status
        if not is_open:
            lot_status = "closed"
        elif free is None:
            lot_status = "unknown"
        else:
            lot_status = next_status(state.lot_status, free, state.capacity, state.thresholds)
        state.lot_status = lot_status
        if free is None:
            state.rate = None
        elif state.last_seen != now or state.samples.add(now, free):
            # the rate moves only when time passes or a new sample slot opens
            state.rate = state.samples.rate_per_h(now)
        rate = state.rate
        trend = trend_of(rate, state.capacity)
        fill_rate = None if rate is None else round(rate, 1)
        view = state.view
        if (
            not changed
            and view is not None
            and view.status == lot_status
            and view.free == free
            and view.trend == trend
            and view.fill_rate_per_h == fill_rate
            and view.accepts_visitors == accepts_visitors
        ):
            return False
        state.view = LotView(
            id=state.spec.id,
            status=lot_status,
            free=free,
            capacity=state.capacity,
            trend=trend,
            fill_rate_per_h=fill_rate,
            categories=dict(state.categories),
            accepts_visitors=accepts_visitors,
        )
        self.version += 1
        return True


def _seq_order(new: int, last: int) -> Literal["duplicate", "stale", "new"]:
    """Order of a sequence number against the last one, allowing for device restarts."""
    if new == last:
        return "duplicate"
    if last - SEQ_RESTART_GAP < new < last:
        return "stale"
    return "new"
