"""After a restart, without a store: unknown until the feeds say enough, and never more free than known."""

from __future__ import annotations

from datetime import timedelta

import pytest

from parking.availability import Availability
from parking.errors import ConfigError
from parking.observations import (
    GateCounterObservation,
    GateEventObservation,
    LotObservation,
    Observation,
    SpotObservation,
)
from tests.helpers.site import T0, site_config


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def general(state: Availability, lot: str) -> int | None:
    return state.view(lot).categories["general"].free


class TestGateLotAfterARestart:
    def test_a_full_lot_is_unknown_until_a_truth_not_all_free(self) -> None:
        before = Availability(site_config(), T0)
        before.apply(LotObservation("hospital", free=0), T0)
        before.apply(GateCounterObservation("hospital", "north", 5000, 4900), T0)
        assert before.view("hospital").status == "full"
        after = Availability(site_config(), T0 + s(60))  # the restart
        for minute in range(2, 12):  # unchanged counters: heartbeats
            after.apply(GateCounterObservation("hospital", "north", 5000, 4900), T0 + s(60 * minute))
            view = after.view("hospital")
            assert (view.status, view.free, general(after, "hospital")) == ("unknown", None, None)
            assert not view.recommendable

    def test_gate_counts_before_a_truth_move_nothing(self) -> None:
        state = Availability(site_config(), T0)
        state.apply(GateCounterObservation("hospital", "north", 100, 0), T0)
        state.apply(GateCounterObservation("hospital", "north", 130, 2), T0 + s(10))
        state.apply(GateEventObservation("hospital", "south", "exit", seq=1), T0 + s(20))
        assert state.view("hospital").free is None
        state.apply(LotObservation("hospital", free=20, categories={"disabled": 4}), T0 + s(30))
        view = state.view("hospital")
        assert (view.free, general(state, "hospital"), view.status) == (20, 16, "open")

    def test_after_a_truth_gate_deltas_move_the_count(self) -> None:
        state = Availability(site_config(), T0)
        state.apply(LotObservation("hospital", free=0), T0)
        assert state.view("hospital").status == "full"
        state.apply(GateCounterObservation("hospital", "north", 5000, 4900), T0 + s(1))
        assert state.view("hospital").free == 0  # the first reading after the truth is a baseline
        state.apply(GateCounterObservation("hospital", "north", 5000, 4905), T0 + s(2))
        assert (state.view("hospital").free, general(state, "hospital")) == (5, 5)
        state.apply(GateEventObservation("hospital", "south", "entry", seq=1), T0 + s(3))
        assert (state.view("hospital").free, general(state, "hospital")) == (4, 4)

    def test_a_truth_is_the_new_baseline_of_every_gate(self) -> None:
        state = Availability(site_config(), T0)
        state.apply(LotObservation("hospital", free=50), T0)
        state.apply(GateCounterObservation("hospital", "north", 10, 0), T0 + s(1))
        state.apply(GateCounterObservation("hospital", "north", 20, 0), T0 + s(2))
        assert state.view("hospital").free == 40
        state.apply(LotObservation("hospital", free=30), T0 + s(3))  # counted after the 20th car
        state.apply(GateCounterObservation("hospital", "north", 22, 0), T0 + s(4))
        assert state.view("hospital").free == 30  # a baseline, so no delta lands twice
        state.apply(GateCounterObservation("hospital", "north", 23, 0), T0 + s(5))
        assert state.view("hospital").free == 29

    def test_replicas_started_at_different_times_agree_once_a_truth_arrived(self) -> None:
        early: list[Observation] = [
            GateCounterObservation("hospital", "south", 700, 650),  # only the first replica hears it
            GateCounterObservation("hospital", "north", 100, 0),
        ]
        shared: list[Observation] = [
            GateCounterObservation("hospital", "north", 104, 1),
            LotObservation("hospital", free=40, categories={"disabled": 2}),
            GateCounterObservation("hospital", "south", 703, 650),
            GateCounterObservation("hospital", "north", 110, 3),
            GateEventObservation("hospital", "west-lane", "entry"),  # unknown gate: the same everywhere
            GateCounterObservation("hospital", "south", 705, 660),
            GateCounterObservation("hospital", "north", 111, 3),
        ]
        first, second = Availability(site_config(), T0), Availability(site_config(), T0 + s(30))
        for obs in early:
            first.apply(obs, T0)
        truth_seen = False
        for n, obs in enumerate(shared):
            now = T0 + s(60 + n)
            first.apply(obs, now)
            second.apply(obs, now)
            truth_seen = truth_seen or isinstance(obs, LotObservation)
            if truth_seen:
                assert first.view("hospital") == second.view("hospital"), obs
        assert (
            first.view("hospital").free == 40 + (10 - 2) - 1
        )  # after the baselines: south out 8, north in 1


ALL_GENERAL = [f"S{n:02d}" for n in range(1, 11)]  # the street's 10 general bays; E1, E2 are ev


def report(state: Availability, bays: list[str], occupied: bool = False, at: int = 0) -> None:
    for bay in bays:
        state.apply(SpotObservation("street", bay, occupied), T0 + s(at))


class TestSpotLotAfterARestart:
    def test_one_occupied_bay_is_not_a_full_lot(
        self,
    ) -> None:
        state = Availability(site_config(), T0)
        report(state, ["S01"], occupied=True)
        view = state.view("street")
        assert (view.status, view.free, general(state, "street")) == ("unknown", None, None)

    def test_a_category_is_unknown_until_its_share_of_bays_has_reported(self) -> None:
        state = Availability(site_config(), T0)  # defaults.min_reported_share 0.9: 9 of 10 bays
        report(state, ALL_GENERAL[:8])
        assert state.view("street").status == "unknown"
        assert general(state, "street") is None
        report(state, ALL_GENERAL[8:9])
        assert general(state, "street") == 9
        assert state.view("street").status == "open"

    def test_a_bay_that_has_not_reported_is_not_free(self) -> None:
        state = Availability(site_config(), T0)
        report(state, ALL_GENERAL[:1], occupied=True)
        report(state, ALL_GENERAL[1:9])
        assert (state.view("street").free, general(state, "street")) == (8, 8)  # not 9: S10 is not known

    def test_each_category_needs_its_own_share(self) -> None:
        state = Availability(site_config(), T0)
        report(state, [*ALL_GENERAL, "E1"])
        assert state.view("street").categories["ev"].free is None  # 1 of 2 bays is below 0.9
        assert state.view("street").free == 10
        report(state, ["E2"])
        assert state.view("street").categories["ev"].free == 2
        assert state.view("street").free == 12

    def test_a_lot_sets_its_own_share(self) -> None:
        config = site_config(
            **{"    freshness_s: 900\n": "    freshness_s: 900\n    min_reported_share: 0.5\n"}
        )
        state = Availability(config, T0)
        report(state, ALL_GENERAL[:4])
        assert general(state, "street") is None
        report(state, ALL_GENERAL[4:5])
        assert general(state, "street") == 5

    def test_the_share_is_rounded_up_to_whole_bays_without_float_error(self) -> None:
        config = site_config(
            **{
                'general: "S01-S10"': 'general: "S001-S100"',
                "    freshness_s: 900\n": "    freshness_s: 900\n    min_reported_share: 0.55\n",
            }
        )
        state = Availability(config, T0)
        report(state, [f"S{n:03d}" for n in range(1, 55)])
        assert general(state, "street") is None
        report(state, ["S055"])  # 0.55 * 100 is 55.00000000000001 in floats: still 55 bays
        assert general(state, "street") == 55

    def test_a_share_that_ends_in_part_of_a_bay_needs_the_whole_bay(self) -> None:
        config = site_config(
            **{"    freshness_s: 900\n": "    freshness_s: 900\n    min_reported_share: 0.52\n"}
        )
        state = Availability(config, T0)
        report(state, ALL_GENERAL[:5])
        assert general(state, "street") is None  # 5.2 bays needed: 6
        report(state, ALL_GENERAL[5:6])
        assert general(state, "street") == 6

    def test_a_later_replica_never_shows_more_free_than_an_earlier_one(self) -> None:
        first, second = Availability(site_config(), T0), Availability(site_config(), T0)
        report(first, ALL_GENERAL, occupied=False)  # heard only by the first replica
        changes = [(bay, n % 3 == 0) for n, bay in enumerate(ALL_GENERAL * 3)]
        for n, (bay, occupied) in enumerate(changes, start=1):
            obs = SpotObservation("street", bay, occupied)
            first.apply(obs, T0 + s(n))
            second.apply(obs, T0 + s(n))
            later, earlier = second.view("street").free, first.view("street").free
            assert earlier is not None
            assert later is None or later <= earlier, n
        assert second.view("street") == first.view("street")  # every bay has reported to both

    def test_the_share_is_only_for_spot_lots(self) -> None:
        with pytest.raises(ConfigError, match="min_reported_share is only for feed 'spot'"):
            site_config(
                **{"    gates: [north, south]\n": "    gates: [north, south]\n    min_reported_share: 0.5\n"}
            )
