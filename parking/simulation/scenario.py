"""The simulated morning of `parking-guide evaluate`: the lots, the visitors and the events between them.

The same seed gives the same morning to every strategy; parking/simulation/evaluate.py runs one
strategy through it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from parking.availability.views import LotView
from parking.config.models import Config, Lot
from parking.guidance.routes import walk_seconds
from parking.guidance.service import GuidanceService
from parking.observations import LotObservation
from parking.simulation.demand import MEAN_STAY_S, demand
from parking.types import GENERAL

START_LOCAL = (7, 0)
HOURS = 4.0
FEED_S = 30.0  # lot systems report this often
STAFF_SHARE = 0.3  # of a hospital lot, taken by staff all morning
QUEUE_MAX = 4  # a driver waits at a full hospital gate behind at most this many cars
QR_SHARE = 0.2  # visitors who scan the board's QR code (a guidance answer) instead of reading it
DRAIN_S = 2 * 3600.0  # after the last arrival, how long the run goes on for visitors still looking
MAX_TRIES = 6  # after this many full lots a driver waits at the next one, whatever its queue
DESTINATION_SHARES = (("main", 0.7), ("outpatient", 0.2), ("emergency", 0.1))


@dataclass(slots=True)
class LotState:
    """One lot in the run: its general spaces, who is parked and who waits at the gate."""

    spec: Lot
    capacity: int
    parked: int = 0
    queue: list[int] = field(default_factory=list)  # visitors waiting at the gate
    peak: int = 0
    own_parks: int = 0  # the lot's own drivers who parked so far (for the met-full trace)
    visitor_parks: int = 0  # visitors who parked so far, from the gate queue included
    leaves: int = 0

    def observation(self) -> LotObservation:
        """What the lot's system reports: its true free count (the other categories always free)."""
        free = self.capacity - self.parked
        others = {c: n for c, n in self.spec.capacities().items() if c != GENERAL}
        return LotObservation(self.spec.id, free + sum(others.values()), categories={GENERAL: free, **others})


@dataclass(frozen=True, slots=True)
class Sent:
    """What a strategy knew when it sent a visitor to a lot (the met-full trace)."""

    lot: str
    source: str  # "board" (read it), "qr" (scanned it at the board), "onward" (asked again at a full lot)
    at_s: float
    drive_s: float
    free_seen: int | None  # the lot's free count in the view the strategy read
    free_true: int  # what the lot really had free then
    expected_free: float | None
    full_probability: float | None
    reserve: float | None
    pending: float  # drivers already sent there as the strategy counted them
    own_parks: int  # the lot's counters at that moment, to take the difference on arrival
    visitor_parks: int
    leaves: int


@dataclass(frozen=True, slots=True)
class FullEvent:
    """A visitor who met a full lot they were sent to as having space: what was known, what happened."""

    sent: Sent
    capacity: int
    arrive_s: float
    own_took: int  # the lot's own drivers who parked there over the drive
    visitors_took: int  # other visitors who parked there over the drive
    left: int  # spaces freed over the drive


@dataclass(slots=True)
class Visitor:
    """A hospital visitor, from the board they appear at to the door."""

    appear_s: float
    board: str
    destination: str
    qr: bool
    stay_s: float
    tried: list[str] = field(default_factory=list)
    door_s: float | None = None
    met_full: bool = False  # reached a lot they were sent to as having space, and found it full
    queue_at: str | None = None  # the lot our strategy last told them to queue at
    queued: bool = False  # told to queue, and found the lot full: waited at its gate knowingly
    sent: Sent | None = None  # what the strategy knew when it sent them to the lot they drive to
    entrance: str | None = None  # the entrance of that lot their route reached, which they walk from
    none_free: bool = False  # when they first appeared, no lot taking visitors had a space
    censored: bool = False  # still looking at the end: door_s is the end, a lower bound


# The events of a run, in a heap of (time_s, order, event): the order keeps ties first come, first served.
@dataclass(frozen=True, slots=True)
class Refresh:
    """The guidance outlook is due to refresh (every `guidance.refresh_s`)."""


@dataclass(frozen=True, slots=True)
class Feed:
    """The lots are due to report their counts (every FEED_S)."""


@dataclass(frozen=True, slots=True)
class OwnDriver:
    """One of a lot's own drivers reaches it (unguided)."""

    lot: str


@dataclass(frozen=True, slots=True)
class Leave:
    """A parked car leaves a lot."""

    lot: str


@dataclass(frozen=True, slots=True)
class Appear:
    """A visitor appears at their board, or asks again after circling."""

    visitor: int  # index in the morning's visitors


@dataclass(frozen=True, slots=True)
class Arrive:
    """A visitor reaches the lot they drove to."""

    visitor: int
    lot: str
    entrance: str  # the entrance the route reached (the best by drive + walk)


Event = Refresh | Feed | OwnDriver | Leave | Appear | Arrive
Schedule = Callable[[float, Event], None]


@dataclass(frozen=True, slots=True)
class Morning:
    """One seeded morning: the lots with their first drivers, the visitors, and how long it runs."""

    start: datetime
    lots: dict[str, LotState]
    visitors: list[Visitor]
    arrivals_end_s: float  # no one arrives after this
    end_s: float  # visitors still looking then are left at this door time (a lower bound)


def morning(config: Config, scale: float, seed: int, at: Schedule) -> Morning:
    """The morning at visitor demand times `scale`, its drivers' and visitors' events scheduled with `at`."""
    tz = ZoneInfo(config.site.timezone)
    start = datetime(2026, 11, 25, *START_LOCAL, tzinfo=tz)
    lots = {lot.id: LotState(lot, lot.capacities().get(GENERAL, 0)) for lot in config.lots}
    visitors = _arrivals(config, scale, seed, start, at, lots)
    return Morning(start, lots, visitors, HOURS * 3600, HOURS * 3600 + DRAIN_S)


def as_lot_feeds(config: Config) -> Config:
    """Every lot reporting as a lot system does (the simulation knows counts, not bays or gates)."""
    lots = [
        lot.model_copy(update={"feed": "lot", "capacity": lot.capacities(), "spots": {}, "gates": []})
        for lot in config.lots
    ]
    return config.model_copy(update={"lots": lots})


def _arrivals(
    config: Config, scale: float, seed: int, start: datetime, at: Schedule, lots: dict[str, LotState]
) -> list[Visitor]:
    """Every lot's own drivers and the visitors, the same for every strategy (one seeded stream)."""
    rng = random.Random(seed)
    boards = [b.id for b in config.boards]
    hospital_capacity = sum(lot.capacity for lot in lots.values() if lot.spec.kind == "hospital") or 300
    visitors: list[Visitor] = []
    destinations = list(config.destination_ids())
    for lot in lots.values():
        kind = lot.spec.kind
        share = STAFF_SHARE if kind == "hospital" else demand(kind, start)
        for _ in range(min(lot.capacity, round(share * lot.capacity))):
            lot.parked += 1
            if kind != "hospital":
                at(rng.expovariate(1 / MEAN_STAY_S.get(kind, 2400.0)), Leave(lot.spec.id))
        lot.peak = lot.parked
        if kind == "hospital":
            continue
        time_s = 0.0
        while True:  # own drivers: the turnover that keeps the lot at its demand
            local = start + timedelta(seconds=time_s)
            rate = max(1e-6, demand(kind, local) * lot.capacity / MEAN_STAY_S.get(kind, 2400.0))
            time_s += rng.expovariate(rate)
            if time_s > HOURS * 3600:
                break
            at(time_s, OwnDriver(lot.spec.id))
    time_s = 0.0
    stay_s = MEAN_STAY_S["hospital"]
    while True:
        local = start + timedelta(seconds=time_s)
        rate = max(1e-6, scale * demand("hospital", local) * hospital_capacity * (1 - STAFF_SHARE) / stay_s)
        time_s += rng.expovariate(rate)
        if time_s > HOURS * 3600:
            break
        destination = _pick_destination(rng, destinations)
        at(time_s, Appear(len(visitors)))
        visitors.append(
            Visitor(
                time_s, rng.choice(boards), destination, rng.random() < QR_SHARE, rng.expovariate(1 / stay_s)
            )
        )
    return visitors


def _pick_destination(rng: random.Random, destinations: list[str]) -> str:
    roll, total = rng.random(), 0.0
    for suffix, share in DESTINATION_SHARES:
        total += share
        match = [d for d in destinations if d.endswith("/" + suffix)]
        if roll < total and match:
            return match[0]
    return destinations[0]


def with_board_traffic(config: Config, visitors: list[Visitor]) -> Config:
    """The config with each board's traffic estimate set to the visitors who read it (not scan) an hour.

    Counted by local hour, as a traffic count gives it (`traffic_by_hour`, none after the
    last arrival), and over the morning (`traffic_per_h`).
    """
    per_board = {b.id: 0 for b in config.boards}
    hours = range(START_LOCAL[0], START_LOCAL[0] + math.ceil((HOURS * 3600 + DRAIN_S) / 3600))
    by_hour: dict[str, dict[int, float]] = {b.id: {h % 24: 0.0 for h in hours} for b in config.boards}
    for visitor in visitors:
        if visitor.qr:
            continue
        per_board[visitor.board] += 1
        hour = START_LOCAL[0] + int(visitor.appear_s // 3600)
        by_hour[visitor.board][hour % 24] += 1.0
    boards = [
        b.model_copy(update={"traffic_per_h": per_board[b.id] / HOURS, "traffic_by_hour": by_hour[b.id]})
        for b in config.boards
    ]
    guidance = config.guidance.model_copy(update={"board_follow_rate": 1.0})
    return config.model_copy(update={"boards": boards, "guidance": guidance})


def with_counters(sent: Sent | None, lots: Mapping[str, LotState], now_s: float) -> Sent | None:
    """The trace record with the lot's true state and counters at the moment of sending."""
    if sent is None:
        return None
    lot = lots[sent.lot]
    return replace(
        sent,
        at_s=now_s,
        free_true=lot.capacity - lot.parked,
        own_parks=lot.own_parks,
        visitor_parks=lot.visitor_parks,
        leaves=lot.leaves,
    )


def full_event(sent: Sent, lot: LotState, now_s: float) -> FullEvent:
    """What happened at the lot between sending the visitor and their meeting it full."""
    return FullEvent(
        sent,
        lot.capacity,
        now_s,
        own_took=lot.own_parks - sent.own_parks,
        visitors_took=lot.visitor_parks - sent.visitor_parks,
        left=lot.leaves - sent.leaves,
    )


def own_stay_s(seed: int, now_s: float, kind: str) -> float:
    """How long a lot's own driver who parks at `now_s` stays (seeded by the moment, not the stream)."""
    rng = random.Random(f"{seed}:{now_s}:{kind}")  # str seeds are hashed the same in every process
    return rng.expovariate(1 / MEAN_STAY_S.get(kind, 2400.0))


def walk_on_s(config: Config, lot: Lot, destination: str, entrance_id: str | None = None) -> float:
    """From parking to the door: the walk from the entrance driven to (default the first), and for street
    bays the search for the bay."""
    entrance = next((e for e in lot.entrances if e.id == entrance_id), lot.entrances[0])
    search = config.guidance.street_search_s if lot.kind == "street" else 0.0
    return walk_seconds(config, lot, entrance.lat, entrance.lon, destination) + search


def entrance_node(guidance: GuidanceService, lot: Lot) -> str:
    """The road node a driver asks again from at a full lot: its first entrance's."""
    entrance = lot.entrances[0]
    return entrance.node or guidance.snap(entrance.lat, entrance.lon).node


def visitor_area_occupancy(lots: Mapping[str, LotState], views: Mapping[str, LotView]) -> float:
    """Parked / capacity over the lots that take visitors now (open, in their guidance window)."""
    taking = [
        lot for lot_id, lot in lots.items() if (v := views.get(lot_id)) is not None and v.accepts_visitors
    ]
    capacity = sum(lot.capacity for lot in taking)
    return sum(min(lot.parked, lot.capacity) for lot in taking) / capacity if capacity else 0.0


def none_free(lots: Mapping[str, LotState], views: Mapping[str, LotView]) -> bool:
    """No lot taking visitors now has a space: each is full, or has drivers waiting at its gate."""
    return not any(
        lot.parked < lot.capacity and not lot.queue
        for lot_id, lot in lots.items()
        if (v := views.get(lot_id)) is not None and v.accepts_visitors
    )
