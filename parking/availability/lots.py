"""Per-feed rules: how a spot, lot or gate observation changes a lot's counts.

Pure functions on a LotState; each returns a result label (applied, duplicate,
stale, or why it was rejected) and appends any anomaly it noticed; those that
read sequence numbers also return how many numbers the message skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from parking.availability.sequence import Order, seq_order
from parking.availability.status import Samples
from parking.availability.views import CategoryView, LotView, Status
from parking.config.models import Lot, Thresholds
from parking.observations import (
    GateCounterObservation,
    GateEventObservation,
    LotObservation,
    SpotObservation,
)
from parking.types import GENERAL

# Gate counters that fall by more than this without timestamps were reset, not reordered.
COUNTER_REORDER_WINDOW = 100
# A gate lot without a `gates:` list takes this many gate ids, the first seen; others are unknown_gate.
MAX_DISCOVERED_GATES = 16
Result = Literal["applied", "duplicate", "stale", "unknown_lot", "unknown_spot", "unknown_gate", "wrong_feed"]


@dataclass(slots=True)
class SpotState:
    """What the engine knows of one bay."""

    category: str
    occupied: bool | None = None
    seq: int | None = None  # the adopted sequence number
    pending: int | None = None  # a jump not yet confirmed by the next message
    ts: datetime | None = None


@dataclass(slots=True)
class GateState:
    """What the engine knows of one gate."""

    entries: int | None = None
    exits: int | None = None
    ts: datetime | None = None
    truth: int = 0  # the lot's truth count when these counters were read: older ones are no baseline
    seq: int | None = None  # of events: the adopted sequence number
    pending: int | None = None  # a jump not yet confirmed by the next event


@dataclass(slots=True)
class LotState:
    """Everything the engine keeps about one lot; mutated only by this package."""

    spec: Lot
    capacities: dict[str, int]
    freshness: timedelta
    thresholds: Thresholds
    free: dict[str, int | None]
    capacity: int
    max_seq_jump: int
    # spot lots, per category: bays needed before the count is known, bays heard from, of them free
    needed: dict[str, int] = field(default_factory=dict)
    reported: dict[str, int] = field(default_factory=dict)
    reported_free: dict[str, int] = field(default_factory=dict)
    spots: dict[str, SpotState] = field(default_factory=dict)
    gates: dict[str, GateState] = field(default_factory=dict)
    last_seen: datetime | None = None
    last_ts: datetime | None = None
    statuses: dict[str, Status] = field(default_factory=dict)
    lot_status: Status = "unknown"
    samples: Samples = field(default_factory=Samples)
    view: LotView | None = None
    categories: dict[str, CategoryView] = field(default_factory=dict)
    # the lot's own total free count (lot and gate lots): as a lot system sent it, moved by gates since
    total: int | None = None
    general_estimated: bool = False  # general was derived from `total` without the split
    truths: int = 0  # lot-level counts applied since the start: a gate lot is unknown until one
    rate: float | None = None
    flags: tuple[bool, bool] | None = None  # (fresh, open) at the last refresh
    hours_at: int | None = None
    hours: tuple[bool, bool] = (True, True)


def apply_spot(
    state: LotState, obs: SpotObservation, ts: datetime | None, anomalies: list[str]
) -> tuple[Result, int]:
    """A bay sensor's report: move the category's free count when the bay changes."""
    spot = state.spots.get(obs.spot)
    if spot is None:
        return ("unknown_spot" if state.spec.feed == "spot" else "wrong_feed"), 0
    order: Order = "jump"  # a first number is not adopted until the next one follows it
    gaps = 0
    if obs.seq is not None and (spot.seq is not None or spot.pending is not None):
        order, gaps = seq_order(obs.seq, spot.seq, spot.pending, state.max_seq_jump)
        if order == "duplicate" or order == "stale":
            return order, 0
        if order == "jump":
            anomalies.append("seq_jump")
    elif ts is not None and spot.ts is not None and ts < spot.ts:
        return "stale", 0
    category = spot.category
    reported_free = state.reported_free
    if spot.occupied is None:
        state.reported[category] += 1
        reported_free[category] += 0 if obs.occupied else 1
    elif spot.occupied != obs.occupied:
        reported_free[category] += -1 if obs.occupied else 1
    # a bay not heard from is not free; too few heard from and the count says nothing yet
    known = state.reported[category] >= state.needed[category]
    state.free[category] = reported_free[category] if known else None
    spot.occupied = obs.occupied
    if obs.seq is not None:
        if order == "next":
            spot.seq, spot.pending = obs.seq, None
        else:
            spot.pending = obs.seq
    spot.ts = ts if ts is not None else spot.ts
    return "applied", gaps


def apply_lot(state: LotState, obs: LotObservation, ts: datetime | None, anomalies: list[str]) -> Result:
    """A lot system's count: its total as sent, and the truth for every category it names."""
    if ts is not None and state.last_ts is not None and ts < state.last_ts:
        return "stale"
    if state.spec.feed == "spot":
        return "wrong_feed"
    if obs.capacity is not None and obs.capacity != state.capacity:
        anomalies.append("capacity_mismatch")
    named = obs.categories
    if any(category not in state.capacities for category in named):
        anomalies.append("unknown_category")
    state.total = total = _clamp(obs.free, state.capacity, anomalies)
    for category, capacity in state.capacities.items():
        if category != GENERAL:
            count = named.get(category)
            # a category the message leaves out is not known from it: never keep an old count
            state.free[category] = None if count is None else _clamp(count, capacity, anomalies)
    if GENERAL in state.capacities:
        state.free[GENERAL], state.general_estimated = _general_of(state, named, total, anomalies)
    if ts is not None:
        state.last_ts = ts
    state.truths += 1  # every gate's next reading is a baseline: this count includes the cars before it
    return "applied"


def _general_of(state: LotState, named: dict[str, int], total: int, anomalies: list[str]) -> tuple[int, bool]:
    """General's count from a lot message, and whether it is an estimate."""
    capacity = state.capacities[GENERAL]
    if GENERAL in named:
        return _clamp(named[GENERAL], capacity, anomalies), False
    rest = total - sum(count for category, count in named.items() if category != GENERAL)
    unsplit = [category for category in state.capacities if category != GENERAL and category not in named]
    if not unsplit:
        return _clamp(rest, capacity, anomalies), False
    # Some special bays were not reported: assume every one of them is free, so general is
    # never inflated by them. Running out of general this way is valid data, not an anomaly.
    estimate = rest - sum(state.capacities[category] for category in unsplit)
    return _clamp(max(estimate, 0), capacity, anomalies), True


def apply_gate_counters(
    state: LotState, obs: GateCounterObservation, ts: datetime | None, anomalies: list[str]
) -> Result:
    """Gate counters: a gate's first reading after a truth is a baseline, then deltas move general."""
    gate = _gate(state, obs.gate)
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
    if gate.truth != state.truths:
        # Read before the lot's last truth, the old counters are no baseline: whether the cars
        # since are in the truth is unknown, and a replica started later never saw them.
        delta = None
        gate.truth = state.truths
    gate.entries, gate.exits = obs.entries, obs.exits
    gate.ts = ts if ts is not None else gate.ts
    _move_by_gates(state, delta or 0, anomalies)
    return "applied"


def apply_gate_event(state: LotState, obs: GateEventObservation, anomalies: list[str]) -> tuple[Result, int]:
    """One car through a gate."""
    gate = _gate(state, obs.gate)
    if gate is None:
        return ("unknown_gate" if state.spec.feed == "gate" else "wrong_feed"), 0
    gaps = 0
    if obs.seq is not None:
        order: Order = "jump"  # a first number is not adopted until the next one follows it
        if gate.seq is not None or gate.pending is not None:
            order, gaps = seq_order(obs.seq, gate.seq, gate.pending, state.max_seq_jump)
            if order == "duplicate" or order == "stale":
                return order, 0
            if order == "jump":
                anomalies.append("seq_jump")
        if order == "next":
            gate.seq, gate.pending = obs.seq, None
        else:
            gate.pending = obs.seq
    _move_by_gates(state, 1 if obs.event == "entry" else -1, anomalies)
    return "applied", gaps


def _gate(state: LotState, gate_id: str) -> GateState | None:
    if state.spec.feed != "gate":
        return None
    gate = state.gates.get(gate_id)
    if gate is None and not state.spec.gates and len(state.gates) < MAX_DISCOVERED_GATES:
        # no list: the first gate ids seen, so that any topic level cannot each add state
        gate = state.gates[gate_id] = GateState()
    return gate


def _move_by_gates(state: LotState, cars_in: int, anomalies: list[str]) -> None:
    """Gate counts move general and the lot total, once a lot-level count (a truth) has set them."""
    if state.total is None:
        return  # never counted since the start: cars in or out of an unknown count leave it unknown
    before = len(anomalies)
    capacity = state.capacities.get(GENERAL)
    current = state.free.get(GENERAL)
    if capacity is not None and current is not None:
        state.free[GENERAL] = _clamp(current - cars_in, capacity, anomalies)
    # one car clamped in general and in the total is one anomaly, not two
    state.total = _clamp(state.total - cars_in, state.capacity, anomalies if len(anomalies) == before else [])


def _clamp(free: int, capacity: int, anomalies: list[str]) -> int:
    if free < 0:
        anomalies.append("clamped_below_zero")
        return 0
    if free > capacity:
        anomalies.append("clamped_above_capacity")
        return capacity
    return free
