"""Per-source rules: how a lot system's count or a gate's changes a lot's counts (bays: bays.py).

Pure functions on a LotState; each returns a result label (applied, duplicate,
stale, or why it was rejected) and appends any anomaly it noticed; those that
read sequence numbers also return how many numbers the message skipped.

A lot may be counted by several sources (docs/feeds.md, "Several sources per
lot"): the lot system's total is the truth, gates move it between truths, and
categories with bay sensors take their counts from the bays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from parking.availability.derived import LotCache
from parking.availability.sequence import Order, seq_order
from parking.availability.status import Samples
from parking.config.models import Lot, Thresholds
from parking.observations import GateCounterObservation, GateEventObservation, LotObservation
from parking.types import GENERAL

# Gate counters that fall by more than this without timestamps were reset, not reordered.
COUNTER_REORDER_WINDOW = 100
# A gate lot without a `gates:` list takes this many gate ids, the first seen; others are unknown_gate.
MAX_DISCOVERED_GATES = 16
Result = Literal["applied", "duplicate", "stale", "unknown_lot", "unknown_spot", "unknown_gate", "wrong_feed"]


@dataclass(slots=True)
class SpotState:
    """What the engine knows of one bay and its sensor; `live` while it is counted (not silent)."""

    category: str
    occupied: bool | None = None
    seq: int | None = None  # the adopted sequence number
    pending: int | None = None  # a jump not yet confirmed by the next message
    ts: datetime | None = None
    seen_at: datetime | None = None  # receipt time of its last applied message
    live: bool = False  # its state counts: reported, and not silent for longer than the lot's window
    uplink: str | None = None  # LoRaWAN: the last uplink's frame counter or deduplication id
    battery: float | None = None
    rssi: float | None = None
    snr: float | None = None


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
    """What the engine measured of one lot, its config, and the caches derived from them; mutated only here.

    The measurements are the counts (`free`, `total`, the bays' `reported`), when each source
    was last heard, the bays and gates, and the trend's samples; `cache` holds what the
    refresh derived from them (see derived.py), which no rule of this module reads.
    """

    # -- config: fixed for the lot's life
    spec: Lot
    capacities: dict[str, int]
    freshness: timedelta
    thresholds: Thresholds
    free: dict[str, int | None]  # measured: each category's count (None: not known)
    capacity: int
    max_seq_jump: int
    cache: LotCache
    sources: frozenset[str] = frozenset()  # the lot's `feed`: spot (bays), lot, gate
    category_names: frozenset[str] = frozenset()  # the keys of `capacities`, as a set
    silence: timedelta = timedelta(minutes=30)  # a bay silent for longer is unknown
    needed: dict[str, int] = field(default_factory=dict)  # per category with bays: bays needed before known
    general_from_total: bool = False  # general has no bays but another category has: general = total - rest
    # -- measured
    # per category with bays: live bays, of them free
    reported: dict[str, int] = field(default_factory=dict)
    reported_free: dict[str, int] = field(default_factory=dict)
    spots: dict[str, SpotState] = field(default_factory=dict)
    live_order: dict[str, None] = field(default_factory=dict)  # live bays, least recently heard first
    gates: dict[str, GateState] = field(default_factory=dict)
    seen: dict[str, datetime] = field(default_factory=dict)  # source (spot, lot, gate) -> last applied
    gate_moved: int = 0  # net cars the gates counted in since the last truth
    general_named: bool = False  # the last truth named general itself
    last_seen: datetime | None = None
    last_ts: datetime | None = None
    samples: Samples = field(default_factory=Samples)
    # the lot's own total free count (lot and gate lots): as a lot system sent it, moved by gates since
    total: int | None = None
    general_estimated: bool = False  # general was derived from `total` without the split
    truths: int = 0  # lot-level counts applied since the start: a gate lot is unknown until one


def general_follows_total(state: LotState) -> bool:
    """General is the total less the other categories now: it has no bays, and the last truth left it out."""
    return state.general_from_total and not state.general_named


def apply_lot(
    state: LotState, obs: LotObservation, ts: datetime | None, anomalies: list[str], changed: list[str]
) -> Result:
    """A lot system's count: its total as sent, and the truth for every category it names.

    Categories with bay sensors keep the bays' counts (the bays refine the split); the
    message's value for one only counts, as `sources_disagree`, when the two differ.
    `changed` gets each category whose count (or, for general, whether it is estimated)
    changed: the only category views the message can change.
    """
    if ts is not None and state.last_ts is not None and ts < state.last_ts:
        return "stale"
    if "lot" not in state.sources and "gate" not in state.sources:
        return "wrong_feed"
    if obs.capacity is not None and obs.capacity != state.capacity:
        anomalies.append("capacity_mismatch")
    named = obs.categories
    if named and not state.category_names.issuperset(named):
        anomalies.append("unknown_category")
    before = state.total
    state.total = total = _clamp(obs.free, state.capacity, anomalies)
    if state.gate_moved and before is not None and before != total:
        anomalies.append("drift_corrected")  # the gates' count since the last truth was off
    state.gate_moved = 0
    _take_split(state, named, anomalies, changed)
    _take_general(state, named, total, anomalies, changed)
    if ts is not None:
        state.last_ts = ts
    state.truths += 1  # every gate's next reading is a baseline: this count includes the cars before it
    return "applied"


def _take_split(state: LotState, named: dict[str, int], anomalies: list[str], changed: list[str]) -> None:
    """The message's count of each category but general: taken where no bays count it, else compared."""
    bays, free = state.needed, state.free
    for category, capacity in state.capacities.items():
        if category in bays:
            count = named.get(category)
            if count is not None and free[category] is not None and count != free[category]:
                anomalies.append("sources_disagree")
        elif category != GENERAL:
            count = named.get(category)
            if count is not None:
                count = _clamp(count, capacity, anomalies)
            if count != free[category]:
                free[category] = count  # a category the message leaves out is not known from it
                changed.append(category)


def _take_general(
    state: LotState, named: dict[str, int], total: int, anomalies: list[str], changed: list[str]
) -> None:
    """General's count from the message, unless its bays or the total (general_from_total) give it."""
    state.general_named = GENERAL in named
    if GENERAL in state.capacities and GENERAL not in state.needed and not state.general_from_total:
        general, estimated = _general_of(state, named, total, anomalies)
        if general != state.free[GENERAL] or estimated != state.general_estimated:
            state.free[GENERAL], state.general_estimated = general, estimated
            changed.append(GENERAL)
    elif state.general_named and state.general_from_total:
        state.free[GENERAL] = _clamp(named[GENERAL], state.capacities[GENERAL], anomalies)


def _general_of(state: LotState, named: dict[str, int], total: int, anomalies: list[str]) -> tuple[int, bool]:
    """General's count from a lot message, and whether it is an estimate."""
    capacity = state.capacities[GENERAL]
    general = named.get(GENERAL)
    if general is not None:
        return _clamp(general, capacity, anomalies), False
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
        return "unknown_gate" if "gate" in state.sources else "wrong_feed"
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
    _move_by_gates(state, delta or 0, None, anomalies)
    return "applied"


def apply_gate_event(state: LotState, obs: GateEventObservation, anomalies: list[str]) -> tuple[Result, int]:
    """One car through a gate."""
    gate = _gate(state, obs.gate)
    if gate is None:
        return ("unknown_gate" if "gate" in state.sources else "wrong_feed"), 0
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
    category = obs.category
    if category is not None and category not in state.capacities:
        anomalies.append("unknown_category")
        category = None
    _move_by_gates(state, 1 if obs.event == "entry" else -1, category, anomalies)
    return "applied", gaps


def _gate(state: LotState, gate_id: str) -> GateState | None:
    if "gate" not in state.sources:
        return None
    gate = state.gates.get(gate_id)
    if gate is None and not state.spec.gates and len(state.gates) < MAX_DISCOVERED_GATES:
        # no list: the first gate ids seen, so that any topic level cannot each add state
        gate = state.gates[gate_id] = GateState()
    return gate


def _move_by_gates(state: LotState, cars_in: int, category: str | None, anomalies: list[str]) -> None:
    """Gate counts move the lot total and one category, once a lot-level count (a truth) has set them.

    The category is the car's, when the gate said it, else general. A category with bay
    sensors is not moved (its bays see the car), nor a general derived from the total.
    """
    if state.total is None:
        return  # never counted since the start: cars in or out of an unknown count leave it unknown
    state.gate_moved += cars_in
    before = len(anomalies)
    category = category or GENERAL
    capacity = state.capacities.get(category)
    current = state.free.get(category)
    moved_by_total = category == GENERAL and general_follows_total(state)
    if capacity is not None and current is not None and category not in state.needed and not moved_by_total:
        state.free[category] = _clamp(current - cars_in, capacity, anomalies)
    # one car clamped in its category and in the total is one anomaly, not two
    state.total = _clamp(state.total - cars_in, state.capacity, anomalies if len(anomalies) == before else [])


def _clamp(free: int, capacity: int, anomalies: list[str]) -> int:
    if free < 0:
        anomalies.append("clamped_below_zero")
        return 0
    if free > capacity:
        anomalies.append("clamped_above_capacity")
        return capacity
    return free
