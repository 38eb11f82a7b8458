"""The bound's instance from a seeded morning: the simulator's own arrivals, stays, drives and walks."""

from __future__ import annotations

import heapq
import itertools

import numpy as np

from parking.config.models import Config
from parking.guidance.service import GuidanceService
from parking.simulation.bound import Bound, Instance, OwnOccupancy, solve
from parking.simulation.scenario import Event, Leave, LotState, OwnDriver, morning, own_stay_s, walk_on_s


def bound_of(config: Config, guidance: GuidanceService, scale: float, seed: int) -> Bound:
    """The clairvoyant bound of the morning `evaluate` runs at `scale` and `seed` (config as the run's)."""
    return solve(instance_of(config, guidance, scale, seed))


def instance_of(config: Config, guidance: GuidanceService, scale: float, seed: int) -> Instance:
    """The morning as the bound sees it: visitors from their boards, each lot's own cars in advance."""
    events: list[tuple[float, int, Event]] = []
    order = itertools.count()
    day = morning(config, scale, seed, lambda t, e: heapq.heappush(events, (t, next(order), e)))
    lots = list(day.lots)
    drive = np.full((len(day.visitors), len(lots)), np.inf)
    on_foot = np.zeros_like(drive)
    reaches: dict[tuple[str, str], dict[str, tuple[float, float]]] = {}
    for v, visitor in enumerate(day.visitors):
        key = (visitor.board, visitor.destination)
        if key not in reaches:
            origin = guidance.board_origin(visitor.board)
            reaches[key] = {
                r.lot: (r.drive_s, walk_on_s(config, day.lots[r.lot].spec, visitor.destination, r.entrance))
                for r in guidance.routes.reaches_from(origin.node, origin.heading_deg, visitor.destination)
            }
        for lot, (drive_s, foot_s) in reaches[key].items():
            if day.lots[lot].capacity > 0:
                drive[v, lots.index(lot)], on_foot[v, lots.index(lot)] = drive_s, foot_s
    return Instance(
        appear_s=np.array([v.appear_s for v in day.visitors], dtype=np.float64),
        stay_s=np.array([v.stay_s for v in day.visitors], dtype=np.float64),
        drive_s=drive,
        on_foot_s=on_foot,
        capacity=np.array([day.lots[lot].capacity for lot in lots], dtype=np.float64),
        own=_own_occupancy(day.lots, events, seed, lots),
        unparked_s=np.array([day.end_s - v.appear_s for v in day.visitors], dtype=np.float64),
    )


def _own_occupancy(
    states: dict[str, LotState], events: list[tuple[float, int, Event]], seed: int, lots: list[str]
) -> tuple[OwnOccupancy, ...]:
    """Each lot's own cars with no visitor at all: its drivers park while it has room."""
    parked = {lot: states[lot].parked for lot in lots}
    changes: dict[str, list[tuple[float, int]]] = {lot: [(0.0, parked[lot])] for lot in lots}
    order = itertools.count(len(events))
    while events:
        now_s, _, event = heapq.heappop(events)
        match event:
            case OwnDriver(lot=lot):
                if parked[lot] >= states[lot].capacity:
                    continue
                parked[lot] += 1
                stay_s = own_stay_s(seed, now_s, states[lot].spec.kind)
                heapq.heappush(events, (now_s + stay_s, next(order), Leave(lot)))
            case Leave(lot=lot):
                parked[lot] -= 1
            case _:
                continue
        changes[event.lot].append((now_s, parked[event.lot]))
    return tuple(
        OwnOccupancy(
            np.array([t for t, _ in changes[lot]], dtype=np.float64),
            np.array([n for _, n in changes[lot]], dtype=np.float64),
        )
        for lot in lots
    )
