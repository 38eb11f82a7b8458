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
from collections.abc import Mapping
from datetime import datetime, timedelta

from parking.availability.views import LotView
from parking.config.models import Config
from parking.geo import distance_m
from parking.guidance.drivers import DriverGuidance, DriversOnTheirWay, Question
from parking.guidance.expected import Expectation
from parking.guidance.outlook import GuidanceOutlook
from parking.guidance.pending import PendingArrivals
from parking.guidance.ranking import rank
from parking.guidance.routes import Reach
from parking.guidance.service import GuidanceService, Needs, Origin
from parking.live import LiveSite
from parking.roads.load import build_guidance
from parking.simulation.bound import Bound
from parking.simulation.clairvoyant import bound_of
from parking.simulation.results import Result, Run, as_json, summarize, tables
from parking.simulation.scenario import (
    FEED_S,
    MAX_TRIES,
    QUEUE_MAX,
    Appear,
    Arrive,
    Event,
    Feed,
    FullEvent,
    Leave,
    LotState,
    OwnDriver,
    Refresh,
    Sent,
    Visitor,
    as_lot_feeds,
    entrance_node,
    full_event,
    morning,
    none_free,
    own_stay_s,
    visitor_area_occupancy,
    walk_on_s,
    with_board_traffic,
    with_counters,
)
from parking.types import GENERAL

__all__ = [
    "STRATEGIES",
    "FullEvent",
    "Result",
    "Run",
    "Sent",
    "as_lot_feeds",
    "none_free",
    "report",
    "run_scenario",
    "scale_for_occupancy",
    "visitor_area_occupancy",
]

STRATEGIES = ("nearest", "drive", "ours")
BOUND_MAX_VISITORS = 3000  # the bound's LP takes ~3 s at 2,600 visitors, >80 s at 5,000: beyond, not solved


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


def report(
    config: Config,
    scales: list[float],
    seeds: list[int],
    occupancy: float | None = None,
    json: bool = False,
) -> str:
    """Run every scale (and the scale that reaches `occupancy`, if given) for every seed, as text tables.

    Each run has the clairvoyant bound beside it (up to BOUND_MAX_VISITORS visitors); with `json`,
    the same figures as one JSON document.
    """
    runs: list[Run] = []
    for seed in seeds:
        pairs = [(scale, run_scenario(config, scale, seed)) for scale in scales]
        if occupancy is not None:
            pairs.append(scale_for_occupancy(config, occupancy, seed))
        runs += [Run(scale, seed, results, _bound(config, scale, seed, results)) for scale, results in pairs]
    return as_json(runs) if json else tables(runs)


def _bound(config: Config, scale: float, seed: int, results: list[Result]) -> Bound | None:
    if not results or results[0].visitors > BOUND_MAX_VISITORS:
        return None
    config = as_lot_feeds(config)
    return bound_of(config, build_guidance(config), scale, seed)


def _simulate(
    config: Config,
    guidance: GuidanceService,
    strategy: str,
    scale: float,
    seed: int,
    trace: list[FullEvent] | None,
) -> Result:
    run = _Run(config, guidance, strategy, scale, seed, trace)
    while run.events:
        now_s, _, event = heapq.heappop(run.events)
        if now_s > run.end_s:  # visitors still circling are left at the door time end_s (a lower bound)
            break
        match event:
            case Refresh():
                run.on_refresh(now_s)
            case Feed():
                run.on_feed(now_s)
            case OwnDriver():
                run.on_own(event, now_s)
            case Leave():
                run.on_leave(event, now_s)
            case Appear():
                run.on_appear(event, now_s)
            case Arrive():
                run.on_arrive(event, now_s)
    return run.result()


class _Run:
    """One strategy through one morning: the run's state, and a handler per kind of event."""

    def __init__(
        self,
        config: Config,
        guidance: GuidanceService,
        strategy: str,
        scale: float,
        seed: int,
        trace: list[FullEvent] | None,
    ) -> None:
        self.config, self.guidance, self.strategy, self.seed = config, guidance, strategy, seed
        self.trace = trace
        self.events: list[tuple[float, int, Event]] = []
        self._order = itertools.count()
        day = morning(config, scale, seed, self.at)
        self.start, self.lots, self.visitors = day.start, day.lots, day.visitors
        self.arrivals_end_s, self.end_s = day.arrivals_end_s, day.end_s
        self.live = LiveSite(config, self.start)
        self.pending = PendingArrivals(config.guidance.pending_slack_s)
        self.outlook = GuidanceOutlook(
            with_board_traffic(config, self.visitors), guidance, self.live, self.pending, self.start
        )
        self.area = sum(lot.capacity for lot in self.lots.values())
        self.peak_area = self.peak_visitor_area = 0.0
        self.refresh_s = config.guidance.refresh_s
        self.looking = 0  # visitors before this index have all reached the door
        self.sends: list[tuple[float, bool]] = []  # (P(full) predicted when sent, full on arrival)
        # the lots keep reporting after the last arrival, while any visitor is still looking
        self.going = True
        self.at(0.0, Feed())
        self.at(self.refresh_s, Refresh())

    def at(self, time_s: float, event: Event) -> None:
        """Schedule an event."""
        heapq.heappush(self.events, (time_s, next(self._order), event))

    def clock(self, now_s: float) -> datetime:
        """The site time `now_s` into the run."""
        return self.start + timedelta(seconds=now_s)

    def on_refresh(self, now_s: float) -> None:
        """The guidance outlook refreshes, as the live service's does."""
        self._still_going(now_s)
        self.outlook.refresh(self.clock(now_s))
        if self.going:
            self.at(now_s + self.refresh_s, Refresh())

    def on_feed(self, now_s: float) -> None:
        """Every lot reports its true counts to the live site; the peaks are sampled."""
        self._still_going(now_s)
        now = self.clock(now_s)
        if self.going:
            self.at(now_s + FEED_S, Feed())
        for lot in self.lots.values():
            self.live.apply(lot.observation(), now)
        self.live.tick(now)
        self.peak_area = max(self.peak_area, sum(lot.parked for lot in self.lots.values()) / self.area)
        self.peak_visitor_area = max(
            self.peak_visitor_area, visitor_area_occupancy(self.lots, self.live.views())
        )

    def on_own(self, event: OwnDriver, now_s: float) -> None:
        """A lot's own driver parks if there is room, else goes elsewhere unguided."""
        lot = self.lots[event.lot]
        if lot.parked < lot.capacity and not lot.queue:
            lot.own_parks += 1
            self._park(lot, now_s, own_stay_s(self.seed, now_s, lot.spec.kind))

    def on_leave(self, event: Leave, now_s: float) -> None:
        """A car leaves; the first visitor waiting at the gate takes the space."""
        lot = self.lots[event.lot]
        lot.parked -= 1
        lot.leaves += 1
        if lot.queue:
            visitor = self.visitors[lot.queue.pop(0)]
            lot.visitor_parks += 1
            self._park(lot, now_s, visitor.stay_s)
            visitor.door_s = now_s + walk_on_s(self.config, lot.spec, visitor.destination, visitor.entrance)

    def on_appear(self, event: Appear, now_s: float) -> None:
        """A visitor at their board follows the strategy to a lot."""
        visitor = self.visitors[event.visitor]
        if not visitor.tried and visitor.appear_s == now_s:  # first appearance, not a re-ask
            visitor.none_free = none_free(self.lots, self.live.views())
        self._send(event.visitor, self.guidance.board_origin(visitor.board), now_s)

    def on_arrive(self, event: Arrive, now_s: float) -> None:
        """A visitor parks, queues at the gate, or asks the strategy again from the full lot."""
        visitor, lot = self.visitors[event.visitor], self.lots[event.lot]
        visitor.tried.append(event.lot)
        room = lot.parked < lot.capacity and not lot.queue
        sent = visitor.sent
        if sent is not None and sent.lot == event.lot and sent.full_probability is not None:
            self.sends.append((sent.full_probability, not room))
        if room:
            lot.visitor_parks += 1
            self._park(lot, now_s, visitor.stay_s)
            visitor.door_s = now_s + walk_on_s(self.config, lot.spec, visitor.destination, visitor.entrance)
            return
        if visitor.queue_at == event.lot:  # told to queue here: waits, whatever the queue
            visitor.queued = True
            lot.queue.append(event.visitor)
            return
        visitor.met_full = True
        if self.trace is not None and visitor.sent is not None and visitor.sent.lot == event.lot:
            self.trace.append(full_event(visitor.sent, lot, now_s))
        gate = lot.spec.kind == "hospital" and len(lot.queue) < QUEUE_MAX
        if gate or len(visitor.tried) >= MAX_TRIES:
            lot.queue.append(event.visitor)
            return
        self._send(event.visitor, Origin(entrance_node(self.guidance, lot.spec), 0.0), now_s)

    def result(self) -> Result:
        """The run's figures; visitors still looking are counted at the end (a lower bound)."""
        for visitor in self.visitors:
            if visitor.door_s is None:
                visitor.door_s, visitor.censored = self.end_s, True
        return summarize(
            self.strategy, self.visitors, self.lots, self.peak_area, self.peak_visitor_area, self.sends
        )

    def _still_going(self, now_s: float) -> None:
        self.going = now_s < self.arrivals_end_s or any(
            v.door_s is None for v in self.visitors[self.looking :]
        )
        while self.looking < len(self.visitors) and self.visitors[self.looking].door_s is not None:
            self.looking += 1

    def _send(self, index: int, origin: Origin, now_s: float) -> None:
        """The strategy's choice from `origin`; the visitor drives there, or circles and asks again."""
        visitor = self.visitors[index]
        choice, visitor.queue_at, visitor.sent = _choose(
            self.strategy,
            self.guidance,
            self.outlook,
            self.live.views(),
            visitor,
            origin,
            self.clock(now_s),
            self.pending,
        )
        visitor.sent = with_counters(visitor.sent, self.lots, now_s)
        if choice is None:  # nothing to recommend: the driver circles for five minutes and asks again
            visitor.tried.clear()
            self.at(now_s + 300.0, Appear(index))
            return
        visitor.entrance = choice.entrance
        self.at(now_s + choice.drive_s, Arrive(index, choice.lot, choice.entrance))

    def _park(self, lot: LotState, now_s: float, stay_s: float) -> None:
        lot.parked += 1
        lot.peak = max(lot.peak, lot.parked)
        self.at(now_s + stay_s, Leave(lot.spec.id))


def _choose(
    strategy: str,
    guidance: GuidanceService,
    outlook: GuidanceOutlook,
    views: Mapping[str, LotView],
    visitor: Visitor,
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
