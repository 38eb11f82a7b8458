"""Trust in what devices send: timestamps, sequence numbers and gate ids, specified without a loop."""

from __future__ import annotations

from datetime import timedelta

import pytest

from parking.availability import Availability
from parking.availability.sequence import seq_order
from parking.observations import GateCounterObservation, GateEventObservation, LotObservation, SpotObservation
from tests.helpers.site import T0, site_config


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


@pytest.fixture
def state() -> Availability:
    return Availability(site_config(), T0)


AHEAD = s(2)  # defaults.max_ts_ahead_s


class TestFutureTimestamps:
    def test_a_forged_future_timestamp_does_not_make_the_next_genuine_messages_stale(
        self, state: Availability
    ) -> None:
        # the tester's case: 295 s ahead, under the old five-minute limit, silenced three messages
        forged = state.apply(LotObservation("tower", free=3, ts=T0 + s(295)), T0)
        assert (forged.result, forged.anomalies) == ("applied", ("future_timestamp",))
        for minute in (1, 2, 3):
            now = T0 + s(60 * minute)
            assert state.apply(LotObservation("tower", free=50 + minute, ts=now), now).result == "applied"
        assert state.view("tower").free == 53

    def test_a_timestamp_is_believed_up_to_the_tolerance_ahead_of_the_receipt_time(
        self, state: Availability
    ) -> None:
        assert state.apply(LotObservation("tower", free=10, ts=T0 + AHEAD), T0).anomalies == ()
        late = state.apply(LotObservation("tower", free=11, ts=T0 + AHEAD - s(0.001)), T0)
        assert late.result == "stale"  # the believed timestamp still orders messages

    def test_a_timestamp_beyond_the_tolerance_is_taken_as_the_receipt_time_plus_the_tolerance(
        self, state: Availability
    ) -> None:
        outcome = state.apply(LotObservation("tower", free=10, ts=T0 + AHEAD + s(0.001)), T0)
        assert outcome.anomalies == ("future_timestamp",)
        # clamped to T0 + 2 s: a message stamped then is not older; one a millisecond before is
        assert state.apply(LotObservation("tower", free=11, ts=T0 + AHEAD - s(0.001)), T0 + s(1)).result == (
            "stale"
        )
        assert state.apply(LotObservation("tower", free=12, ts=T0 + AHEAD), T0 + s(1)).accepted
        assert state.view("tower").free == 12

    def test_a_rejected_message_still_reports_its_anomalies(self, state: Availability) -> None:
        state.apply(SpotObservation("street", "S01", False, seq=1), T0)
        outcome = state.apply(SpotObservation("street", "S01", False, seq=1, ts=T0 + s(3600)), T0)
        assert (outcome.result, outcome.anomalies) == ("duplicate", ("future_timestamp",))

    def test_the_tolerance_is_configurable(self) -> None:
        state = Availability(site_config(**{"freshness_s: 600": "freshness_s: 600\n  max_ts_ahead_s: 0"}), T0)
        assert state.apply(LotObservation("tower", free=10, ts=T0 + s(0.001)), T0).anomalies == (
            "future_timestamp",
        )
        assert state.apply(LotObservation("tower", free=11, ts=T0), T0).accepted


JUMP = 10  # defaults.max_seq_jump


def bay(state: Availability, seq: int, occupied: bool = False, spot: str = "S01") -> str:
    """Report one street bay with a seq; the result label."""
    return state.apply(SpotObservation("street", spot, occupied, seq=seq), T0).result


def occupied(state: Availability, spot: str = "S01") -> bool | None:
    return state._lots["street"].spots[spot].occupied


def event(state: Availability, seq: int, kind: str = "entry") -> str:
    assert kind in ("entry", "exit")
    return state.apply(
        GateEventObservation("hospital", "south", "entry" if kind == "entry" else "exit", seq=seq), T0
    ).result


def counted(state: Availability) -> Availability:
    """The hospital gate lot after a lot-level count: 50 general spaces free."""
    state.apply(LotObservation("hospital", free=52, categories={"disabled": 2}), T0)
    return state


class TestSequenceJumps:
    def test_a_forged_jump_of_999_does_not_silence_the_bay(self, state: Availability) -> None:
        assert [bay(state, 1), bay(state, 2)] == ["applied", "applied"]
        forged = state.apply(SpotObservation("street", "S01", True, seq=2 + 999), T0)
        assert (forged.result, forged.anomalies) == ("applied", ("seq_jump",))  # applied, not adopted
        assert occupied(state) is True
        for seq in range(3, 13):  # the device's own next reports all count
            assert bay(state, seq, occupied=seq % 2 == 0) == "applied", seq
        assert occupied(state) is True
        assert bay(state, 13) == "applied"
        assert occupied(state) is False

    def test_a_forged_jump_does_not_silence_a_gate(self, state: Availability) -> None:
        counted(state)
        assert event(state, 1) == "applied"
        assert event(state, 1 + 999) == "applied"
        for seq in range(2, 6):
            assert event(state, seq) == "applied"
        assert state.view("hospital").categories["general"].free == 50 - 6

    def test_a_gate_event_far_ahead_is_a_seq_jump_and_the_next_in_order_is_not(
        self, state: Availability
    ) -> None:
        counted(state)
        anomalies = [
            state.apply(GateEventObservation("hospital", "south", "entry", seq=n), T0).anomalies
            for n in (1, 2, 2 + 999)
        ]
        assert anomalies == [(), (), ("seq_jump",)]

    def test_a_jump_of_the_bound_is_adopted_at_once(self, state: Availability) -> None:
        bay(state, 1)
        bay(state, 2)
        assert state.apply(SpotObservation("street", "S01", True, seq=2 + JUMP), T0).anomalies == ()
        assert bay(state, 3) == "stale"  # the adopted order: 3 is older than 12

    def test_a_jump_one_beyond_the_bound_waits_for_a_second_message(self, state: Availability) -> None:
        bay(state, 1)
        bay(state, 2)
        assert state.apply(SpotObservation("street", "S01", True, seq=2 + JUMP + 1), T0).anomalies == (
            "seq_jump",
        )
        assert bay(state, 3) == "applied"  # still in the adopted order

    def test_a_second_message_after_a_jump_confirms_the_new_range(self, state: Availability) -> None:
        bay(state, 1)
        bay(state, 2)
        bay(state, 500, occupied=True)
        assert state.apply(SpotObservation("street", "S01", False, seq=500 + JUMP), T0).anomalies == ()
        assert bay(state, 3) == "stale"  # the new range is the order now
        assert bay(state, 509) == "stale"

    def test_a_message_beyond_the_bound_after_a_jump_does_not_confirm_it(self, state: Availability) -> None:
        bay(state, 1)
        bay(state, 2)
        bay(state, 500, occupied=True)
        assert state.apply(SpotObservation("street", "S01", False, seq=500 + JUMP + 1), T0).anomalies == (
            "seq_jump",
        )
        assert bay(state, 3) == "applied"

    def test_the_bound_is_configurable(self) -> None:
        state = Availability(site_config(**{"freshness_s: 600": "freshness_s: 600\n  max_seq_jump: 3"}), T0)
        bay(state, 1)
        bay(state, 4)  # a jump of 3: adopted
        assert bay(state, 2) == "stale"
        assert state.apply(SpotObservation("street", "S01", True, seq=8), T0).anomalies == ("seq_jump",)


class TestRestartsDuplicatesAndReordering:
    def test_a_device_restart_is_applied_and_its_new_range_adopted(self, state: Availability) -> None:
        bay(state, 49_999)
        bay(state, 50_000, occupied=True)
        restart = state.apply(SpotObservation("street", "S01", False, seq=1), T0)
        assert (restart.result, restart.anomalies) == ("applied", ("seq_jump",))
        assert occupied(state) is False
        assert bay(state, 2, occupied=True) == "applied"
        assert bay(state, 1) == "stale"
        assert bay(state, 2) == "duplicate"
        assert occupied(state) is True

    def test_a_fall_of_less_than_1000_is_a_late_message(self, state: Availability) -> None:
        bay(state, 1999)
        bay(state, 2000, occupied=True)
        assert bay(state, 2000 - 999) == "stale"
        assert bay(state, 2000 - 1000) == "applied"  # a restart
        assert occupied(state) is False

    def test_a_redelivered_message_is_a_duplicate_also_when_it_was_a_jump(self, state: Availability) -> None:
        bay(state, 1)
        bay(state, 2)
        assert bay(state, 2) == "duplicate"
        bay(state, 900, occupied=True)
        assert bay(state, 900, occupied=True) == "duplicate"

    def test_the_first_message_orders_those_just_below_it(self, state: Availability) -> None:
        assert state.apply(SpotObservation("street", "S01", True, seq=20), T0).anomalies == ()  # not a jump
        assert bay(state, 20 - JUMP + 1) == "stale"
        assert occupied(state) is True
        assert bay(state, 20 - JUMP) == "applied"  # too far below an unconfirmed number: a jump

    def test_a_late_event_is_stale_and_a_redelivered_one_a_duplicate(self, state: Availability) -> None:
        counted(state)
        assert [event(state, n) for n in (1, 2, 4, 3, 4)] == [
            "applied",
            "applied",
            "applied",
            "stale",
            "duplicate",
        ]
        assert state.view("hospital").categories["general"].free == 47


class TestGaps:
    def test_missing_sequence_numbers_are_counted(self, state: Availability) -> None:
        gaps = [state.apply(SpotObservation("street", "S01", False, seq=n), T0).gaps for n in (1, 2, 5)]
        assert gaps == [0, 0, 2]

    def test_missing_gate_events_are_counted(self, state: Availability) -> None:
        counted(state)
        gaps = [
            state.apply(GateEventObservation("hospital", "north", "entry", seq=n), T0).gaps for n in (1, 2, 5)
        ]
        assert gaps == [0, 0, 2]

    def test_each_source_has_its_own_numbers(self, state: Availability) -> None:
        gaps = [
            state.apply(SpotObservation("street", spot, False, seq=n), T0).gaps
            for spot, n in (("S01", 1), ("S02", 7), ("S01", 2), ("S02", 8))
        ]
        assert gaps == [0, 0, 0, 0]

    def test_a_skip_up_to_the_bound_is_counted_and_a_jump_is_not(self, state: Availability) -> None:
        bay(state, 1)
        assert state.apply(SpotObservation("street", "S01", False, seq=1 + JUMP), T0).gaps == JUMP - 1
        outcome = state.apply(SpotObservation("street", "S01", False, seq=1 + 2 * JUMP + 1), T0)
        assert (outcome.gaps, outcome.anomalies) == (0, ("seq_jump",))
        assert state.apply(SpotObservation("street", "S01", False, seq=1 + 2 * JUMP + 3), T0).gaps == 1

    def test_messages_without_sequence_numbers_show_no_gaps(self, state: Availability) -> None:
        counted(state)
        outcomes = [
            state.apply(LotObservation("tower", free=10), T0),
            state.apply(GateCounterObservation("hospital", "north", 0, 0), T0),
            state.apply(GateEventObservation("hospital", "north", "entry"), T0),
            state.apply(SpotObservation("street", "S01", False, ts=T0 + s(3600)), T0),  # with an anomaly
        ]
        assert [outcome.gaps for outcome in outcomes] == [0, 0, 0, 0]

    def test_only_a_message_in_order_counts_skipped_numbers(self) -> None:
        # (seq, adopted, pending): duplicates and late messages skip nothing, whatever lies between
        assert seq_order(5, 5, None, JUMP) == ("duplicate", 0)
        assert seq_order(500, 5, 500, JUMP) == ("duplicate", 0)
        assert seq_order(3, 8, None, JUMP) == ("stale", 0)
        assert seq_order(495, None, 500, JUMP) == ("stale", 0)
        assert seq_order(8, 5, None, JUMP) == ("next", 2)

    def test_duplicates_stale_messages_and_restarts_are_not_gaps(self, state: Availability) -> None:
        gaps = [
            state.apply(SpotObservation("street", "S01", False, seq=n), T0).gaps
            for n in (5000, 5001, 5001, 4990, 1, 2)
        ]
        assert gaps == [0, 0, 0, 0, 0, 0]


NO_GATE_LIST = {"    gates: [north, south]\n": ""}


class TestDiscoveredGates:
    def test_a_lot_without_a_gate_list_takes_the_first_16_gate_ids(self) -> None:
        state = Availability(site_config(**NO_GATE_LIST), T0)
        counted(state)
        results = [
            state.apply(GateEventObservation("hospital", f"g{n}", "entry", seq=1), T0).result
            for n in range(17)
        ]
        assert results == ["applied"] * 16 + ["unknown_gate"]
        assert state.apply(GateEventObservation("hospital", "g0", "entry", seq=2), T0).accepted
        assert state.view("hospital").categories["general"].free == 50 - 17

    def test_a_flood_of_gate_ids_keeps_no_state_beyond_the_cap(self) -> None:
        state = Availability(site_config(**NO_GATE_LIST), T0)
        for n in range(5000):
            state.apply(GateEventObservation("hospital", f"forged-{n}", "entry"), T0)
        assert len(state._lots["hospital"].gates) == 16

    def test_a_gate_list_accepts_exactly_its_gates(self, state: Availability) -> None:
        assert state.apply(GateEventObservation("hospital", "south", "entry"), T0).accepted
        assert state.apply(GateEventObservation("hospital", "west", "entry"), T0).result == "unknown_gate"
