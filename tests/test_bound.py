"""The clairvoyant bound's LP against every assignment of tiny mornings, enumerated."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest

from parking.simulation.bound import Instance, OwnOccupancy, solve

UNPARKED_S = 10_000.0


def _instance(
    appear_s: list[float],
    stay_s: list[float],
    drive_s: list[list[float]],
    on_foot_s: list[list[float]],
    capacity: list[int],
    own: list[tuple[list[float], list[float]]] | None = None,
) -> Instance:
    lots = len(capacity)
    steps = own or [([0.0], [0.0])] * lots
    return Instance(
        appear_s=np.array(appear_s, dtype=np.float64),
        stay_s=np.array(stay_s, dtype=np.float64),
        drive_s=np.array(drive_s, dtype=np.float64),
        on_foot_s=np.array(on_foot_s, dtype=np.float64),
        capacity=np.array(capacity, dtype=np.float64),
        own=tuple(OwnOccupancy(np.array(t), np.array(c)) for t, c in steps),
        unparked_s=np.full(len(appear_s), UNPARKED_S),
    )


def _brute_force(instance: Instance) -> float:
    """The best integral assignment's total seconds: every lot (or none) for every visitor, checked."""
    n, lots = instance.drive_s.shape
    best = math.inf
    for choice in itertools.product(range(lots + 1), repeat=n):  # lots: not parked
        total, feasible = 0.0, True
        for v, lot in enumerate(choice):
            if lot == lots:
                total += instance.unparked_s[v]
                continue
            if not math.isfinite(instance.drive_s[v, lot]):
                feasible = False
                break
            total += instance.drive_s[v, lot] + instance.on_foot_s[v, lot]
        for v, lot in enumerate(choice):
            if not feasible or lot == lots:
                continue
            at = instance.appear_s[v] + instance.drive_s[v, lot]
            parked = sum(
                1
                for w, other in enumerate(choice)
                if other == lot
                and (p := instance.appear_s[w] + instance.drive_s[w, lot]) <= at < p + instance.stay_s[w]
            )
            own = float(instance.own[lot].at(np.array([at]))[0])
            feasible = parked + own <= instance.capacity[lot]
        if feasible:
            best = min(best, total)
    return best


def _total_s(instance: Instance) -> float:
    return solve(instance).mean_min * 60.0 * len(instance.appear_s)


def test_capacity_sends_the_second_visitor_to_the_farther_lot() -> None:
    # two visitors overlap at a one-space near lot; the far lot costs 300 s more
    instance = _instance([0, 10], [600, 600], [[60, 120], [60, 120]], [[30, 270], [30, 270]], capacity=[1, 5])
    bound = solve(instance)
    assert _brute_force(instance) == pytest.approx(90 + 390)
    assert _total_s(instance) == pytest.approx(90 + 390)
    assert bound.share[:, 1].sum() == pytest.approx(1.0)  # one of them goes far
    assert bound.unparked == pytest.approx(0.0)


def test_a_departure_frees_the_space_in_time() -> None:
    # the first parks at 60 s for 100 s; the second arrives at 210 s: the one space is free again
    instance = _instance([0, 150], [100, 600], [[60, 120], [60, 120]], [[30, 270], [30, 270]], [1, 5])
    assert _brute_force(instance) == pytest.approx(180)
    assert _total_s(instance) == pytest.approx(180)
    assert solve(instance).share[:, 0].tolist() == pytest.approx([1.0, 1.0])


def test_a_departure_at_the_moment_of_arrival_frees_the_space() -> None:
    # the first leaves at 160 s, the very moment the second arrives: the simulator admits it
    instance = _instance([0, 100], [100, 600], [[60, 120], [60, 120]], [[30, 270], [30, 270]], [1, 5])
    assert _total_s(instance) == pytest.approx(180) == _brute_force(instance)


def test_own_cars_take_the_space_until_they_leave() -> None:
    # the near lot's one space is an own car's until 200 s: the first visitor (at 60 s) goes far
    own = [([0.0, 200.0], [1.0, 0.0]), ([0.0], [0.0])]
    instance = _instance([0, 200], [600, 600], [[60, 120], [60, 120]], [[30, 270], [30, 270]], [1, 5], own)
    assert _brute_force(instance) == pytest.approx(390 + 90)
    assert _total_s(instance) == pytest.approx(390 + 90)


def test_a_visitor_who_fits_nowhere_is_charged_unparked() -> None:
    instance = _instance([0, 10], [600, 600], [[60], [60]], [[30], [30]], capacity=[1])
    bound = solve(instance)
    assert bound.unparked == pytest.approx(1.0)
    assert _total_s(instance) == pytest.approx(90 + UNPARKED_S) == _brute_force(instance)


def test_an_unreachable_lot_is_never_used() -> None:
    instance = _instance([0, 10], [600, 600], [[60, math.inf], [60, 120]], [[30, 0], [30, 270]], [1, 5])
    assert solve(instance).share[0, 1] == 0.0
    assert _total_s(instance) == pytest.approx(90 + 390) == _brute_force(instance)


@pytest.mark.parametrize("seed", range(40))
def test_the_lp_never_exceeds_and_on_interval_cases_equals_the_brute_force_optimum(seed: int) -> None:
    rng = random.Random(seed)
    lots, visitors = rng.choice([2, 3]), rng.randint(3, 6)
    appear = sorted(rng.uniform(0, 600) for _ in range(visitors))
    stay = [rng.uniform(100, 900) for _ in range(visitors)]
    # a lot's drive is the same from every board here, as from one board: arrivals keep their order
    drive = [rng.uniform(30, 300) for _ in range(lots)]
    walk = [[rng.uniform(20, 400) for _ in range(lots)] for _ in range(visitors)]
    own_change = rng.uniform(0, 900)
    own = [([0.0, own_change], [float(rng.randint(0, 1)), 0.0]) for _ in range(lots)]
    instance = _instance(
        appear, stay, [drive] * visitors, walk, [rng.randint(1, 2) for _ in range(lots)], own
    )
    optimum = _brute_force(instance)
    bound = solve(instance)
    assert _total_s(instance) <= optimum + 1e-6
    if bound.fractional == 0:  # an integral vertex: it is an assignment, so it is the optimum
        assert _total_s(instance) == pytest.approx(optimum)


def test_on_random_tiny_mornings_the_lp_is_integral_and_optimal_mostly() -> None:
    # the claim behind reading the bound as the optimum: on these it is (a few may split)
    equal = 0
    for seed in range(40):
        rng = random.Random(seed)
        visitors = rng.randint(3, 6)
        appear = sorted(rng.uniform(0, 600) for _ in range(visitors))
        stay = [rng.uniform(100, 900) for _ in range(visitors)]
        drive = [[rng.uniform(30, 300) for _ in range(2)] for _ in range(visitors)]
        walk = [[rng.uniform(20, 400) for _ in range(2)] for _ in range(visitors)]
        instance = _instance(appear, stay, drive, walk, [1, 1])
        equal += _total_s(instance) == pytest.approx(_brute_force(instance))
        assert _total_s(instance) <= _brute_force(instance) + 1e-6
    assert equal >= 36
