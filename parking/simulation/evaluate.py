"""`parking-guide evaluate`: guidance quality in simulation, strategies side by side on the same arrivals.

A peak hospital morning (a Wednesday, 07:00-11:00 site time). Each lot's own
drivers (office workers, shoppers, street parkers, hospital staff) come and go
with the simulator's demand curves (parking/simulation/demand.py) and take what is free;
they are not guided. Hospital visitors appear at the boards on the approach
roads at a rate that follows the hospital curve; most read the board, some scan
its QR code. Each follows one strategy to a lot, parks if there is a space,
waits at a hospital gate if its queue is short, else drives on (asking the same
strategy from there), and walks to their destination. A driver our strategy
tells to queue (every lot expected full) waits at that lot's gate whatever its
queue, and the wait counts in their time to the door; they are counted as
"queued", apart from drivers who met a full lot they were sent to as having space. The engine sees the lots
through the real live site, fed every FEED_S, so fill rates and freshness are
its own. Same seed, same arrivals for every strategy:

- (a) nearest: the nearest lot by straight line with a free space now;
- (b) drive: quickest drive + walk with a free space now (the engine before expected space);
- (c) ours: expected space on arrival, pending arrivals, board followers (docs/guidance.md).
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from parking.app.factory import build_guidance
from parking.availability.views import LotView
from parking.config.models import Config, Lot
from parking.geo import distance_m
from parking.guidance.drivers import DriverGuidance, DriversOnTheirWay, Question
from parking.guidance.expected import Expectation
from parking.guidance.outlook import GuidanceOutlook
from parking.guidance.pending import PendingArrivals
from parking.guidance.ranking import rank
from parking.guidance.routes import Reach, walk_seconds
from parking.guidance.service import GuidanceService, Needs, Origin
from parking.live import LiveSite
from parking.observations import LotObservation
from parking.simulation.demand import MEAN_STAY_S, demand
from parking.types import GENERAL

STRATEGIES = ("nearest", "drive", "ours")
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
class _Lot:
    spec: Lot
    capacity: int
    parked: int = 0
    queue: list[int] = field(default_factory=list)  # visitors waiting at the gate
    peak: int = 0
    own_parks: int = 0  # the lot's own drivers who parked so far (for the met-full trace)
    visitor_parks: int = 0  # visitors who parked so far, from the gate queue included
    leaves: int = 0


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
class _Visitor:
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
    none_free: bool = False  # when they first appeared, no lot taking visitors had a space
    censored: bool = False  # still looking at the end: door_s is the end, a lower bound


@dataclass(frozen=True, slots=True)
class Result:
    """What one strategy achieved on one scenario."""

    strategy: str
    visitors: int
    parked: int
    mean_min: float
    p90_min: float
    full_share: float  # met a full lot they were sent to as having space
    peak_area: float  # parked / capacity over every lot, at its highest (sampled every FEED_S)
    peak_by_lot: dict[str, float]
    peak_visitor_area: float = 0.0  # the same over the lots taking visitors at the time (in their window)
    queued_share: float = 0.0  # told to queue at a lot expected full, and waited there (ours only)
    # appeared when no lot taking visitors had a space (true counts, a gate queue counts as full):
    # the visitors no guidance could send to a free space at that moment
    none_free_share: float = 0.0


def run_scenario(
    config: Config,
    scale: float,
    seed: int,
    strategies: tuple[str, ...] = STRATEGIES,
    trace: dict[str, list[FullEvent]] | None = None,
) -> list[Result]:
    """Every strategy on the same arrivals: visitor demand times `scale`.

    With `trace`, each strategy's met-full events are appended under its name.
    """
    config = as_lot_feeds(config)
    guidance = build_guidance(config)
    return [
        _simulate(
            config, guidance, strategy, scale, seed, None if trace is None else trace.setdefault(strategy, [])
        )
        for strategy in strategies
    ]


def scale_for_occupancy(
    config: Config, target: float, seed: int, start: float = 3.0, step: float = 1.25, most: float = 30.0
) -> tuple[float, list[Result]]:
    """The first scale in start, start x step, ... at which every strategy's peak area occupancy is >= target.

    Area occupancy counts every lot, whatever its window: the scenario is one where the
    whole area is that full, not only the lots still taking visitors. Gives the last
    scale tried (at most `most`) and its results if the target is never reached.
    """
    scale = start
    while True:
        results = run_scenario(config, scale, seed)
        if min(r.peak_area for r in results) >= target or scale * step > most:
            return scale, results
        scale *= step


def as_lot_feeds(config: Config) -> Config:
    """Every lot reporting as a lot system does (the simulation knows counts, not bays or gates)."""
    lots = [
        lot.model_copy(update={"feed": "lot", "capacity": lot.capacities(), "spots": {}, "gates": []})
        for lot in config.lots
    ]
    return config.model_copy(update={"lots": lots})


def _simulate(
    config: Config,
    guidance: GuidanceService,
    strategy: str,
    scale: float,
    seed: int,
    trace: list[FullEvent] | None = None,
) -> Result:
    tz = ZoneInfo(config.site.timezone)
    start = datetime(2026, 11, 25, *START_LOCAL, tzinfo=tz)
    lots = {lot.id: _Lot(lot, lot.capacities().get(GENERAL, 0)) for lot in config.lots}
    events: list[tuple[float, int, str, object]] = []
    counter = itertools.count()

    def at(time_s: float, kind: str, data: object) -> None:
        heapq.heappush(events, (time_s, next(counter), kind, data))

    visitors = _arrivals(config, scale, seed, start, at, lots)
    live = LiveSite(config, start)
    pending = PendingArrivals(config.guidance.pending_slack_s)
    outlook = GuidanceOutlook(_with_board_traffic(config, visitors), guidance, live, pending, start)
    area = sum(lot.capacity for lot in lots.values())
    peak_area = peak_visitor_area = 0.0
    at(0.0, "feed", None)
    refresh_s = config.guidance.refresh_s
    at(refresh_s, "refresh", None)
    end_s = HOURS * 3600 + DRAIN_S
    looking, going = 0, True
    while events:
        now_s, _, kind, data = heapq.heappop(events)
        if now_s > end_s:  # visitors still circling are left at the door time end_s (a lower bound)
            break
        now = start + timedelta(seconds=now_s)
        # the lots keep reporting after the last arrival, while any visitor is still looking
        if kind in ("refresh", "feed"):
            going = now_s < HOURS * 3600 or any(v.door_s is None for v in visitors[looking:])
            while looking < len(visitors) and visitors[looking].door_s is not None:
                looking += 1  # visitors before this index have all reached the door
        if kind == "refresh":
            outlook.refresh(now)
            if going:
                at(now_s + refresh_s, "refresh", None)
        elif kind == "feed":
            if going:
                at(now_s + FEED_S, "feed", None)
            for lot in lots.values():
                free = lot.capacity - lot.parked
                others = {c: n for c, n in lot.spec.capacities().items() if c != GENERAL}
                observation = LotObservation(
                    lot.spec.id, free + sum(others.values()), categories={GENERAL: free, **others}
                )
                live.apply(observation, now)
            live.tick(now)
            peak_area = max(peak_area, sum(lot.parked for lot in lots.values()) / area)
            peak_visitor_area = max(peak_visitor_area, visitor_area_occupancy(lots, live.views()))
        elif kind == "own":  # a lot's own driver: parks if there is room, else goes elsewhere unguided
            lot = lots[str(data)]
            if lot.parked < lot.capacity and not lot.queue:
                lot.own_parks += 1
                _park(lot, now_s, _stay(seed, now_s, lot.spec.kind), at, None)
        elif kind == "leave":
            lot = lots[str(data)]
            lot.parked -= 1
            lot.leaves += 1
            if lot.queue:
                visitor = visitors[lot.queue.pop(0)]
                lot.visitor_parks += 1
                _park(lot, now_s, visitor.stay_s, at, None)
                visitor.door_s = now_s + _walk_on(config, guidance, lot.spec, visitor.destination)
        elif kind == "appear":
            index = int(str(data))
            visitor = visitors[index]
            if not visitor.tried and visitor.appear_s == now_s:  # first appearance, not a re-ask
                visitor.none_free = none_free(lots, live.views())
            origin = guidance.board_origin(visitor.board)
            choice, visitor.queue_at, visitor.sent = _choose(
                strategy, guidance, outlook, live.views(), visitor, origin, now, pending
            )
            visitor.sent = _with_counters(visitor.sent, lots, now_s)
            _drive(choice, index, now_s, at, visitor)
        elif kind == "arrive":
            assert isinstance(data, tuple)
            index, lot_id = int(data[0]), str(data[1])
            visitor = visitors[index]
            lot = lots[lot_id]
            visitor.tried.append(lot_id)
            if lot.parked < lot.capacity and not lot.queue:
                lot.visitor_parks += 1
                _park(lot, now_s, visitor.stay_s, at, None)
                visitor.door_s = now_s + _walk_on(config, guidance, lot.spec, visitor.destination)
                continue
            if visitor.queue_at == lot_id:  # told to queue here: waits, whatever the queue
                visitor.queued = True
                lot.queue.append(index)
                continue
            visitor.met_full = True
            if trace is not None and visitor.sent is not None and visitor.sent.lot == lot_id:
                trace.append(_full_event(visitor.sent, lot, now_s))
            gate = lot.spec.kind == "hospital" and len(lot.queue) < QUEUE_MAX
            if gate or len(visitor.tried) >= MAX_TRIES:
                lot.queue.append(index)
                continue
            node = _entrance_node(guidance, lot.spec)
            choice, visitor.queue_at, visitor.sent = _choose(
                strategy, guidance, outlook, live.views(), visitor, Origin(node, 0.0), now, pending
            )
            visitor.sent = _with_counters(visitor.sent, lots, now_s)
            _drive(choice, index, now_s, at, visitor)
    for visitor in visitors:
        if visitor.door_s is None:
            visitor.door_s, visitor.censored = end_s, True
    return _result(strategy, visitors, lots, peak_area, peak_visitor_area)


def _arrivals(
    config: Config,
    scale: float,
    seed: int,
    start: datetime,
    at: Callable[[float, str, object], None],
    lots: dict[str, _Lot],
) -> list[_Visitor]:
    """Every lot's own drivers and the visitors, the same for every strategy (one seeded stream)."""
    rng = random.Random(seed)
    boards = [b.id for b in config.boards]
    hospital_capacity = sum(lot.capacity for lot in lots.values() if lot.spec.kind == "hospital") or 300
    visitors: list[_Visitor] = []
    destinations = [d for d in config.destination_ids()]
    for lot in lots.values():
        kind = lot.spec.kind
        share = STAFF_SHARE if kind == "hospital" else demand(kind, start)
        for _ in range(min(lot.capacity, round(share * lot.capacity))):
            lot.parked += 1
            if kind != "hospital":
                at(rng.expovariate(1 / MEAN_STAY_S.get(kind, 2400.0)), "leave", lot.spec.id)
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
            at(time_s, "own", lot.spec.id)
    time_s = 0.0
    stay_s = MEAN_STAY_S["hospital"]
    while True:
        local = start + timedelta(seconds=time_s)
        rate = max(1e-6, scale * demand("hospital", local) * hospital_capacity * (1 - STAFF_SHARE) / stay_s)
        time_s += rng.expovariate(rate)
        if time_s > HOURS * 3600:
            break
        destination = _pick_destination(rng, destinations)
        at(time_s, "appear", len(visitors))
        visitors.append(
            _Visitor(
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


def _with_board_traffic(config: Config, visitors: list[_Visitor]) -> Config:
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


def _choose(
    strategy: str,
    guidance: GuidanceService,
    outlook: GuidanceOutlook,
    views: Mapping[str, LotView],
    visitor: _Visitor,
    origin: Origin,
    now: datetime,
    pending: PendingArrivals,
) -> tuple[Reach | None, str | None, Sent | None]:
    """Where a strategy sends a visitor from an origin (lots already found full left out).

    The second value is the lot when the answer is to queue there (ours, every lot expected full);
    the third what the strategy knew of that lot (for the met-full trace; counters filled in later).
    """
    open_views = {lot: view for lot, view in views.items() if lot not in visitor.tried}
    at_board = not visitor.tried
    source = "onward" if not at_board else ("qr" if visitor.qr else "board")

    def sent(reach: Reach | None, expectation: Expectation | None, pending_n: float) -> Sent | None:
        if reach is None:
            return None
        view = views.get(reach.lot)
        cat = None if view is None else view.categories.get(GENERAL)
        return Sent(
            reach.lot,
            source,
            0.0,
            reach.drive_s,
            None if cat is None else cat.free,
            0,
            None if expectation is None else expectation.expected_free,
            None if expectation is None else expectation.full_probability,
            None if expectation is None else expectation.reserve,
            pending_n,
            0,
            0,
            0,
        )

    if at_board:
        reaches = guidance.routes.reaches_from(origin.node, origin.heading_deg, visitor.destination)
    else:
        reaches = guidance.routes.reaches_from(origin.node, None, visitor.destination)
    if strategy == "nearest":
        lat, lon = guidance.position(origin.node)
        fits = [
            r
            for r in reaches
            if open_views.get(r.lot) is not None and open_views[r.lot].recommendable_for(GENERAL)
        ]
        spec = guidance.lots
        nearest = min(
            fits, key=lambda r: distance_m(lat, lon, spec[r.lot].lat, spec[r.lot].lon), default=None
        )
        return nearest, None, sent(nearest, None, 0.0)
    if strategy == "drive":
        ranked = rank(reaches, open_views, GENERAL)
        route = ranked[0].route if ranked else None
        return route, None, sent(route, None, 0.0)
    if at_board and not visitor.qr:  # reads the board: its first choice, as of the last refresh
        board_outlook = outlook.for_board(GENERAL)
        decision = guidance.for_board(visitor.board, open_views, board_outlook)
        best = decision.best
        if best is None:
            return None, None, None
        reach = next((r for r in reaches if r.lot == best.lot), None)
        counted = board_outlook.pending.get(best.lot, 0.0)
        return reach, (best.lot if best.queue else None), sent(reach, best.expectation, counted)
    # asks as a driver's phone does: the answer counts the driver as on the way to its first lot
    question = Question(
        Origin(origin.node, origin.snap_m, origin.heading_deg if at_board else None),
        None,
        visitor.destination,
        Needs(),
    )
    answer = DriverGuidance(guidance, DriversOnTheirWay(pending), outlook).answer(
        question, open_views, now, 1
    )
    if not answer.lots:
        return None, None, None
    first = answer.lots[0]
    reach = next(r for r in reaches if r.lot == first.lot)
    counted = answer.outlook.pending.get(first.lot, 0.0)
    return reach, (first.lot if first.queue else None), sent(reach, first.expectation, counted)


def _with_counters(sent: Sent | None, lots: Mapping[str, _Lot], now_s: float) -> Sent | None:
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


def _full_event(sent: Sent, lot: _Lot, now_s: float) -> FullEvent:
    return FullEvent(
        sent,
        lot.capacity,
        now_s,
        own_took=lot.own_parks - sent.own_parks,
        visitors_took=lot.visitor_parks - sent.visitor_parks,
        left=lot.leaves - sent.leaves,
    )


def _drive(
    choice: Reach | None,
    index: int,
    now_s: float,
    at: Callable[[float, str, object], None],
    visitor: _Visitor,
) -> None:
    if choice is None:  # nothing to recommend: the driver circles for five minutes and asks again
        visitor.tried.clear()
        at(now_s + 300.0, "appear", index)
        return
    at(now_s + choice.drive_s, "arrive", (index, choice.lot))


def _park(
    lot: _Lot, now_s: float, stay_s: float, at: Callable[[float, str, object], None], _: object
) -> None:
    lot.parked += 1
    lot.peak = max(lot.peak, lot.parked)
    at(now_s + stay_s, "leave", lot.spec.id)


def _stay(seed: int, now_s: float, kind: str) -> float:
    rng = random.Random(f"{seed}:{now_s}:{kind}")  # str seeds are hashed the same in every process
    return rng.expovariate(1 / MEAN_STAY_S.get(kind, 2400.0))


def _walk_on(config: Config, guidance: GuidanceService, lot: Lot, destination: str) -> float:
    """From parking to the door: the walk, and for street bays the search for the bay."""
    entrance = lot.entrances[0]
    search = config.guidance.street_search_s if lot.kind == "street" else 0.0
    return walk_seconds(config, lot, entrance.lat, entrance.lon, destination) + search


def _entrance_node(guidance: GuidanceService, lot: Lot) -> str:
    entrance = lot.entrances[0]
    return entrance.node or guidance.snap(entrance.lat, entrance.lon).node


def visitor_area_occupancy(lots: Mapping[str, _Lot], views: Mapping[str, LotView]) -> float:
    """Parked / capacity over the lots that take visitors now (open, in their guidance window)."""
    taking = [
        lot for lot_id, lot in lots.items() if (v := views.get(lot_id)) is not None and v.accepts_visitors
    ]
    capacity = sum(lot.capacity for lot in taking)
    return sum(min(lot.parked, lot.capacity) for lot in taking) / capacity if capacity else 0.0


def none_free(lots: Mapping[str, _Lot], views: Mapping[str, LotView]) -> bool:
    """No lot taking visitors now has a space: each is full, or has drivers waiting at its gate."""
    return not any(
        lot.parked < lot.capacity and not lot.queue
        for lot_id, lot in lots.items()
        if (v := views.get(lot_id)) is not None and v.accepts_visitors
    )


def _result(
    strategy: str, visitors: list[_Visitor], lots: dict[str, _Lot], peak_area: float, peak_visitor_area: float
) -> Result:
    done = [(v.door_s - v.appear_s) / 60.0 for v in visitors if v.door_s is not None and not v.censored]
    unparked = sum(v.censored for v in visitors)
    done += [(v.door_s - v.appear_s) / 60.0 for v in visitors if v.door_s is not None and v.censored]
    ordered = sorted(done)
    return Result(
        strategy=strategy,
        visitors=len(visitors),
        parked=len(done) - unparked,
        mean_min=statistics.fmean(done) if done else math.nan,
        p90_min=ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))] if ordered else math.nan,
        full_share=sum(v.met_full for v in visitors) / len(visitors) if visitors else 0.0,
        queued_share=sum(v.queued for v in visitors) / len(visitors) if visitors else 0.0,
        none_free_share=sum(v.none_free for v in visitors) / len(visitors) if visitors else 0.0,
        peak_area=peak_area,
        peak_by_lot={lot_id: lot.peak / lot.capacity for lot_id, lot in lots.items() if lot.capacity},
        peak_visitor_area=peak_visitor_area,
    )


def report(config: Config, scales: list[float], seeds: list[int], occupancy: float | None = None) -> str:
    """Run every scale (and the scale that reaches `occupancy`, if given) for every seed, as text tables."""
    out: list[str] = []
    runs: list[tuple[float, int, list[Result]]] = []
    for seed in seeds:
        runs += [(scale, seed, run_scenario(config, scale, seed)) for scale in scales]
        if occupancy is not None:
            scale, results = scale_for_occupancy(config, occupancy, seed)
            runs.append((scale, seed, results))
    for scale, seed, results in runs:
        out.append(f"visitor demand x{scale:g} (seed {seed}), {results[0].visitors} visitors, 07:00-11:00")
        out.append(
            f"  {'strategy':<9} {'mean min':>8} {'p90 min':>8} {'met full':>8} {'queued':>7} {'peak area':>9}"
            f" {'visitor lots':>12} {'none free':>9}"
        )
        for r in results:
            out.append(
                f"  {r.strategy:<9} {r.mean_min:8.1f} {r.p90_min:8.1f} {r.full_share:8.1%}"
                f" {r.queued_share:7.1%} {r.peak_area:9.0%} {r.peak_visitor_area:12.0%}"
                f" {r.none_free_share:9.1%}"
            )
        peaks = [
            f"{lot} " + "/".join(f"{r.peak_by_lot[lot]:.0%}" for r in results)
            for lot in results[0].peak_by_lot
        ]
        out.append("  peak occupancy by lot (nearest/drive/ours): " + "; ".join(peaks))
    return "\n".join(out)
