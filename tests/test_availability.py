"""The live availability state, specified without a loop, broker or server."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta

import pytest

from parking.availability import Availability, CategoryView, Outcome, within
from parking.availability.status import Samples, counted_status, next_status, open_from, trend_of
from parking.config.models import Thresholds, TimeWindow
from parking.observations import (
    GateCounterObservation,
    GateEventObservation,
    LotObservation,
    SpotObservation,
)
from tests.helpers.data import REAL_DAY
from tests.helpers.site import T0, site_config

# a real day of counts; its source and terms: tests/data/README.md
NONGFA = {"capacity: {general: 200, ev: 10}": "capacity: {general: 420, disabled: 6, ev: 20}"}
# The hospital car park with Nongfa's 26 disabled and ev bays.
HOSPITAL_26 = {"capacity: {general: 100, disabled: 4}": "capacity: {general: 100, disabled: 6, ev: 20}"}
# Aachen's Luisenhospital garage (355 spaces) in place of the mall, given 60 disabled and ev bays;
# the real day was recorded every 15-30 minutes.
LUISENHOSPITAL = {
    "capacity: {general: 500}": "capacity: {general: 295, disabled: 12, ev: 48}\n    freshness_s: 1800"
}


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


# The hospital's gate lot counted empty by a lot-level truth: gate counts move nothing before one.
EMPTY_HOSPITAL = LotObservation("hospital", free=104, categories={"disabled": 4})


def others_occupied(state: Availability) -> None:
    """Report every general street bay but S01 occupied, so general is known (9 of 10 bays needed)."""
    for n in range(2, 11):
        state.apply(SpotObservation("street", f"S{n:02d}", occupied=True), T0)


def real_day(lot: str) -> list[tuple[datetime, int]]:
    """A lot's free count at every recording time of the real day, the last value carried forward."""
    with REAL_DAY.open(newline="") as file:
        rows = list(csv.DictReader(file))
    sent = {row["timestamp"]: int(row["free"]) for row in rows if row["place_id"] == lot}
    counts: list[tuple[datetime, int]] = []
    last: int | None = None
    for stamp in sorted({row["timestamp"] for row in rows}):
        last = sent.get(stamp, last)
        if last is not None:
            counts.append((datetime.fromisoformat(stamp), last))
    return counts


@pytest.fixture
def state() -> Availability:
    return Availability(site_config(), T0)


THRESHOLD_CASES = [
    Thresholds(),
    Thresholds(almost_full_enter_pct=0, almost_full_exit_pct=0, full_enter_free=5, full_exit_free=5),
    Thresholds(almost_full_enter_pct=100, almost_full_exit_pct=100, full_exit_free=40),
    Thresholds(almost_full_enter_pct=12.5, almost_full_exit_pct=33.3, full_enter_free=1, full_exit_free=9),
]


class TestBeforeAnyData:
    def test_every_lot_is_unknown_never_zero_or_full(self, state: Availability) -> None:
        for view in state.views():
            assert view.status == "unknown"
            assert view.free is None
            assert not view.recommendable

    def test_a_spot_lot_of_special_bays_only_is_unknown_never_zero(self) -> None:
        state = Availability(site_config(**{'general: "S01-S10", ev: [E1, E2]': "ev: [E1, E2]"}), T0)
        state.apply(SpotObservation("street", "E1", occupied=False), T0)  # 1 of the 2 bays needed
        view = state.view("street")
        assert (view.free, view.status) == (None, "unknown")


class TestOutcome:
    def test_an_outcome_is_plain_only_when_applied_with_nothing_to_note(self) -> None:
        assert Outcome("applied").plain
        assert Outcome("applied", changed=True).plain
        assert not Outcome("applied", ("clamped_below_zero",)).plain
        assert not Outcome("applied", gaps=2).plain
        assert not Outcome("unknown_lot").plain
        assert not Outcome("stale").plain


class TestLotFeed:
    def test_free_is_split_into_general_and_named_categories(self, state: Availability) -> None:
        state.apply(LotObservation("tower", free=37, capacity=210, categories={"ev": 5}), T0)
        view = state.view("tower")
        assert view.free == 37
        assert view.categories["general"].free == 32
        assert view.categories["ev"].free == 5
        assert view.status == "open"

    def test_a_general_count_sent_after_an_estimate_of_the_same_number_is_no_longer_an_estimate(
        self, state: Availability
    ) -> None:
        state.apply(LotObservation("tower", free=110), T0)  # general: 110 less the 10 ev bays, taken as free
        assert state.view("tower").categories["general"] == CategoryView(100, 200, "open", estimated=True)
        state.apply(LotObservation("tower", free=110, categories={"general": 100, "ev": 10}), T0 + s(1))
        assert state.view("tower").categories["general"] == CategoryView(100, 200, "open", estimated=False)

    def test_a_named_general_above_its_capacity_is_clamped_and_not_an_estimate(
        self, state: Availability
    ) -> None:
        outcome = state.apply(LotObservation("tower", free=210, categories={"general": 205, "ev": 5}), T0)
        assert outcome.anomalies == ("clamped_above_capacity",)
        assert state.view("tower").categories["general"] == CategoryView(200, 200, "open", estimated=False)

    def test_a_total_is_shown_as_sent_without_an_anomaly(self) -> None:
        state = Availability(site_config(**NONGFA), T0)
        outcome = state.apply(LotObservation("tower", free=445, capacity=446), T0)
        assert outcome.anomalies == ()
        view = state.view("tower")
        assert (view.free, view.capacity) == (445, 446)
        assert view.categories["general"] == CategoryView(419, 420, "open", estimated=True)
        assert view.categories["disabled"].free is None
        assert view.categories["ev"].free is None

    def test_an_unsplit_total_never_inflates_general(self) -> None:
        state = Availability(site_config(**NONGFA), T0)
        state.apply(LotObservation("tower", free=30), T0)
        view = state.view("tower")
        assert view.free == 30
        assert view.categories["general"].free == 4  # the other 26 may all be disabled or ev bays
        assert view.categories["general"].estimated

    def test_an_unsplit_total_below_the_special_bays_leaves_no_general_and_no_anomaly(self) -> None:
        state = Availability(site_config(**NONGFA), T0)
        outcome = state.apply(LotObservation("tower", free=20), T0)
        assert outcome.anomalies == ()
        assert state.view("tower").free == 20
        assert state.view("tower").categories["general"] == CategoryView(0, 420, "full", estimated=True)

    def test_a_split_message_gives_exact_categories(self) -> None:
        state = Availability(site_config(**NONGFA), T0)
        outcome = state.apply(LotObservation("tower", free=37, categories={"disabled": 2, "ev": 5}), T0)
        assert outcome.anomalies == ()
        view = state.view("tower")
        assert view.free == 37
        assert view.categories["general"] == CategoryView(30, 420, "almost_full")
        assert view.categories["disabled"] == CategoryView(2, 6, "open")
        assert view.categories["ev"] == CategoryView(5, 20, "open")

    def test_a_general_count_that_is_sent_is_used_as_sent(self) -> None:
        state = Availability(site_config(**NONGFA), T0)
        state.apply(LotObservation("tower", free=37, categories={"general": 30, "ev": 5}), T0)
        view = state.view("tower")
        assert view.categories["general"] == CategoryView(30, 420, "almost_full")
        assert view.categories["disabled"].free is None

    def test_a_partly_split_total_takes_the_missing_category_as_free(self) -> None:
        state = Availability(site_config(**NONGFA), T0)
        state.apply(LotObservation("tower", free=100, categories={"disabled": 2}), T0)
        view = state.view("tower")
        assert view.categories["general"] == CategoryView(78, 420, "open", estimated=True)
        assert view.categories["disabled"].free == 2
        assert view.categories["ev"].free is None

    def test_a_total_above_capacity_is_clamped_and_reported(self) -> None:
        state = Availability(site_config(**NONGFA), T0)
        outcome = state.apply(LotObservation("tower", free=500), T0)
        assert outcome.anomalies == ("clamped_above_capacity",)
        assert state.view("tower").free == 446
        assert state.view("tower").categories["general"].free == 420

    @pytest.mark.parametrize(
        ("free", "ev", "disabled", "anomalies", "total", "ev_free"),
        [
            pytest.param(0, 0, 0, (), 0, 0, id="zero"),
            pytest.param(446, 20, 6, (), 446, 20, id="at-capacity"),
            pytest.param(447, 21, 6, ("clamped_above_capacity",) * 2, 446, 20, id="one-above"),
            pytest.param(-1, -1, 0, ("clamped_below_zero",) * 2, 0, 0, id="one-below"),
        ],
    )
    def test_a_count_within_its_capacity_is_taken_as_sent_and_beyond_it_clamped(
        self, free: int, ev: int, disabled: int, anomalies: tuple[str, ...], total: int, ev_free: int
    ) -> None:
        """The bounds of `_clamp`: both ends are in range, one beyond either is clamped."""
        state = Availability(site_config(**NONGFA), T0)
        outcome = state.apply(LotObservation("tower", free, categories={"ev": ev, "disabled": disabled}), T0)
        assert outcome.anomalies == anomalies
        assert state.view("tower").free == total
        assert state.view("tower").categories["ev"].free == ev_free

    def test_special_counts_above_the_total_are_clamped_and_reported(self) -> None:
        state = Availability(site_config(**NONGFA), T0)
        outcome = state.apply(LotObservation("tower", free=5, categories={"disabled": 4, "ev": 4}), T0)
        assert outcome.anomalies == ("clamped_below_zero",)
        assert state.view("tower").categories["general"].free == 0
        assert state.view("tower").free == 5

    def test_capacity_different_from_config_is_an_anomaly_config_wins(self, state: Availability) -> None:
        outcome = state.apply(LotObservation("tower", free=10, capacity=999), T0)
        assert outcome.anomalies == ("capacity_mismatch",)
        assert state.view("tower").capacity == 210

    def test_older_message_than_the_last_one_is_stale(self, state: Availability) -> None:
        state.apply(LotObservation("tower", free=50, ts=T0), T0)
        outcome = state.apply(LotObservation("tower", free=150, ts=T0 - s(60)), T0 + s(1))
        assert outcome.result == "stale"
        assert state.view("tower").free == 50

    def test_a_timestamp_far_in_the_future_does_not_block_later_messages(self, state: Availability) -> None:
        outcome = state.apply(LotObservation("tower", free=50, ts=T0 + timedelta(days=365)), T0)
        assert outcome.anomalies == ("future_timestamp",)
        # believed only up to defaults.max_ts_ahead_s (2 s) past its receipt
        assert state.apply(LotObservation("tower", free=60, ts=T0 + s(3)), T0 + s(3)).accepted
        assert state.view("tower").free == 60

    def test_a_category_left_out_of_a_message_becomes_unknown(self, state: Availability) -> None:
        state.apply(LotObservation("tower", free=40, categories={"ev": 5}), T0)
        state.apply(LotObservation("tower", free=40), T0 + s(1))
        view = state.view("tower")
        assert view.categories["general"] == CategoryView(30, 200, "open", estimated=True)
        assert view.categories["ev"].free is None
        assert view.free == 40

    def test_the_real_day_of_a_lot_system_is_shown_as_it_was_sent(self) -> None:
        config = site_config(**LUISENHOSPITAL)
        counts = real_day("apag-parken-Aachen-Parkhaus-Luisenhospital")
        assert len(counts) > 200
        assert any(free > 295 for _, free in counts)  # more free than general alone holds
        state = Availability(config, counts[0][0])
        for at, free in counts:
            outcome = state.apply(LotObservation("mall", free=free, capacity=355, ts=at), at)
            view = state.view("mall")
            assert (outcome.anomalies, view.free) == ((), free), at
            assert view.categories["general"].free == max(free - 60, 0), at

    def test_a_category_the_lot_does_not_have_is_an_anomaly(self, state: Availability) -> None:
        outcome = state.apply(LotObservation("tower", free=40, categories={"disabled": 2}), T0)
        assert (outcome.result, outcome.anomalies) == ("applied", ("unknown_category",))

    def test_a_message_naming_every_category_of_the_lot_is_no_anomaly(self, state: Availability) -> None:
        outcome = state.apply(LotObservation("tower", free=80, categories={"general": 70, "ev": 10}), T0)
        assert (outcome.result, outcome.anomalies) == ("applied", ())

    def test_unknown_lot_is_rejected(self, state: Availability) -> None:
        assert state.apply(LotObservation("nowhere", free=1), T0).result == "unknown_lot"

    def test_spot_message_for_a_lot_fed_lot_level_is_wrong_feed(self, state: Availability) -> None:
        assert state.apply(SpotObservation("tower", "A1", True), T0).result == "wrong_feed"


class TestSpotFeed:
    def test_only_reported_spots_count_as_free(self, state: Availability) -> None:
        for n in range(1, 9):
            state.apply(SpotObservation("street", f"S0{n}", occupied=False), T0)
        state.apply(SpotObservation("street", "S09", occupied=True), T0)
        view = state.view("street")
        assert view.categories["general"].free == 8  # S10 has not reported: not free
        assert view.categories["ev"].free is None
        assert view.free == 8

    def test_a_change_moves_the_count_and_a_repeat_does_not(self, state: Availability) -> None:
        others_occupied(state)
        state.apply(SpotObservation("street", "S01", occupied=False, seq=1), T0)
        state.apply(SpotObservation("street", "S01", occupied=True, seq=2), T0)
        assert state.view("street").free == 0
        outcome = state.apply(SpotObservation("street", "S01", occupied=True, seq=2), T0)
        assert outcome.result == "duplicate"
        assert state.view("street").free == 0

    def test_out_of_order_message_is_ignored_by_seq(self, state: Availability) -> None:
        others_occupied(state)
        state.apply(SpotObservation("street", "S01", occupied=True, seq=5), T0)
        outcome = state.apply(SpotObservation("street", "S01", occupied=False, seq=4), T0)
        assert outcome.result == "stale"
        assert state.view("street").categories["general"].free == 0

    def test_out_of_order_message_is_ignored_by_timestamp(self, state: Availability) -> None:
        state.apply(SpotObservation("street", "S01", occupied=True, ts=T0), T0)
        outcome = state.apply(SpotObservation("street", "S01", occupied=False, ts=T0 - s(5)), T0)
        assert outcome.result == "stale"

    def test_a_report_with_the_same_timestamp_as_the_last_is_applied(self, state: Availability) -> None:
        state.apply(SpotObservation("street", "S01", occupied=True, ts=T0), T0)
        assert state.apply(SpotObservation("street", "S01", occupied=False, ts=T0), T0).accepted

    def test_a_report_without_a_timestamp_keeps_the_last_one_for_ordering(self, state: Availability) -> None:
        state.apply(SpotObservation("street", "S01", occupied=True, ts=T0 + s(10)), T0 + s(10))
        assert state.apply(SpotObservation("street", "S01", occupied=False), T0 + s(11)).accepted
        outcome = state.apply(SpotObservation("street", "S01", occupied=True, ts=T0), T0 + s(12))
        assert outcome.result == "stale"

    def test_a_category_of_one_bay_is_known_and_open_once_that_bay_reports_free(self) -> None:
        state = Availability(site_config(**{"ev: [E1, E2]": "ev: [E1]"}), T0)
        state.apply(SpotObservation("street", "E1", occupied=False), T0)
        assert state.view("street").categories["ev"] == CategoryView(1, 1, "open", unknown=0)

    def test_a_stale_lot_that_hears_again_shows_every_count_it_holds(self, state: Availability) -> None:
        for bay in [f"S{n:02d}" for n in range(1, 11)] + ["E1", "E2"]:
            state.apply(SpotObservation("street", bay, occupied=bay in ("S01", "E1")), T0)
        state.tick(T0 + s(901))  # past the street's freshness: every count unknown
        assert state.view("street").categories["ev"].free is None
        state.apply(SpotObservation("street", "S01", occupied=True), T0 + s(1000))
        view = state.view("street")
        assert (view.categories["general"].free, view.categories["ev"].free) == (9, 1)

    def test_a_rebooted_sensor_restarting_its_seq_is_accepted(self, state: Availability) -> None:
        others_occupied(state)
        state.apply(SpotObservation("street", "S01", occupied=True, seq=50_000), T0)
        outcome = state.apply(SpotObservation("street", "S01", occupied=False, seq=1), T0)
        assert outcome.result == "applied"
        assert state.view("street").categories["general"].free == 1

    def test_unknown_spot_is_rejected(self, state: Availability) -> None:
        assert state.apply(SpotObservation("street", "S99", True), T0).result == "unknown_spot"


class TestGateFeed:
    def test_first_reading_is_a_baseline_and_deltas_move_the_count(self, state: Availability) -> None:
        state.apply(EMPTY_HOSPITAL, T0)
        state.apply(GateCounterObservation("hospital", "north", entries=1000, exits=990), T0)
        assert state.view("hospital").categories["general"].free == 100
        state.apply(GateCounterObservation("hospital", "north", entries=1030, exits=995), T0 + s(60))
        assert state.view("hospital").categories["general"].free == 75

    def test_repeated_counters_change_nothing_but_keep_the_lot_fresh(self, state: Availability) -> None:
        state.apply(EMPTY_HOSPITAL, T0)
        state.apply(GateCounterObservation("hospital", "north", 10, 0), T0)
        state.apply(GateCounterObservation("hospital", "north", 20, 0), T0)
        for minute in range(1, 20):  # a quiet gate re-sends its counters every minute
            state.apply(GateCounterObservation("hospital", "north", 20, 0), T0 + s(60 * minute))
        state.tick(T0 + s(60 * 20))
        assert state.view("hospital").status == "open"
        assert state.view("hospital").categories["general"].free == 90

    def test_counters_that_fall_far_without_timestamps_are_a_reset(self, state: Availability) -> None:
        state.apply(EMPTY_HOSPITAL, T0)
        state.apply(GateCounterObservation("hospital", "north", 5000, 4950), T0)
        state.apply(GateCounterObservation("hospital", "north", 5010, 4950), T0)
        outcome = state.apply(GateCounterObservation("hospital", "north", 0, 0), T0)
        assert outcome.anomalies == ("counter_reset",)
        state.apply(GateCounterObservation("hospital", "north", 3, 0), T0)
        assert state.view("hospital").categories["general"].free == 87

    def test_a_restarted_gate_controller_seq_is_accepted(self, state: Availability) -> None:
        state.apply(EMPTY_HOSPITAL, T0)
        state.apply(GateEventObservation("hospital", "south", "entry", seq=90_000), T0)
        assert state.apply(GateEventObservation("hospital", "south", "entry", seq=1), T0).accepted
        assert state.view("hospital").categories["general"].free == 98

    def test_lower_counters_without_timestamps_are_out_of_order(self, state: Availability) -> None:
        state.apply(EMPTY_HOSPITAL, T0)
        state.apply(GateCounterObservation("hospital", "north", 10, 0), T0)
        state.apply(GateCounterObservation("hospital", "north", 20, 0), T0)
        assert state.apply(GateCounterObservation("hospital", "north", 15, 0), T0).result == "stale"
        assert state.view("hospital").categories["general"].free == 90

    def test_lower_counters_with_a_newer_timestamp_are_a_reset(self, state: Availability) -> None:
        state.apply(EMPTY_HOSPITAL, T0)
        state.apply(GateCounterObservation("hospital", "north", 10, 0, ts=T0), T0)
        state.apply(GateCounterObservation("hospital", "north", 30, 0, ts=T0 + s(10)), T0 + s(10))
        outcome = state.apply(GateCounterObservation("hospital", "north", 0, 0, ts=T0 + s(20)), T0 + s(20))
        assert outcome.anomalies == ("counter_reset",)
        assert state.view("hospital").categories["general"].free == 80
        state.apply(GateCounterObservation("hospital", "north", 5, 0, ts=T0 + s(30)), T0 + s(30))
        assert state.view("hospital").categories["general"].free == 75

    def test_events_count_one_car_and_dedupe_by_seq(self, state: Availability) -> None:
        state.apply(EMPTY_HOSPITAL, T0)
        state.apply(GateEventObservation("hospital", "south", "entry", seq=1), T0)
        state.apply(GateEventObservation("hospital", "south", "entry", seq=2), T0)
        assert (
            state.apply(GateEventObservation("hospital", "south", "entry", seq=2), T0).result == "duplicate"
        )
        state.apply(GateEventObservation("hospital", "south", "exit", seq=3), T0)
        assert state.view("hospital").categories["general"].free == 99

    def test_more_exits_than_cars_is_clamped_at_capacity(self, state: Availability) -> None:
        state.apply(EMPTY_HOSPITAL, T0)
        outcome = state.apply(GateEventObservation("hospital", "north", "exit"), T0)
        assert "clamped_above_capacity" in outcome.anomalies
        assert state.view("hospital").categories["general"].free == 100

    def test_a_lot_level_truth_corrects_gate_drift(self, state: Availability) -> None:
        state.apply(EMPTY_HOSPITAL, T0)
        state.apply(GateCounterObservation("hospital", "north", 0, 0), T0)
        state.apply(GateCounterObservation("hospital", "north", 60, 0), T0)
        state.apply(LotObservation("hospital", free=12, categories={"disabled": 2}), T0)
        assert state.view("hospital").categories["general"].free == 10
        state.apply(GateCounterObservation("hospital", "north", 62, 0), T0)  # a baseline after the truth
        assert state.view("hospital").categories["general"].free == 10
        state.apply(GateCounterObservation("hospital", "north", 64, 0), T0)
        assert state.view("hospital").categories["general"].free == 8

    def test_gates_count_the_lot_total_as_well_as_general(self, state: Availability) -> None:
        state.apply(LotObservation("hospital", free=104), T0)  # an unsplit count of an empty lot
        state.apply(GateCounterObservation("hospital", "north", 0, 0), T0)
        assert state.view("hospital").free == 104
        state.apply(GateCounterObservation("hospital", "north", 30, 0), T0)
        view = state.view("hospital")
        assert (view.free, view.categories["general"].free) == (74, 70)
        assert view.categories["disabled"].free is None

    def test_gates_move_an_unsplit_lot_total_as_sent(self, state: Availability) -> None:
        state.apply(LotObservation("hospital", free=50), T0)
        state.apply(GateCounterObservation("hospital", "north", 0, 0), T0)
        state.apply(GateCounterObservation("hospital", "north", 5, 0), T0)
        view = state.view("hospital")
        assert view.free == 45
        assert view.categories["general"] == CategoryView(41, 100, "open", estimated=True)

    def test_a_car_clamped_in_general_and_in_the_total_is_one_anomaly(self, state: Availability) -> None:
        state.apply(LotObservation("hospital", free=0), T0)
        outcome = state.apply(GateEventObservation("hospital", "north", "entry"), T0)
        assert outcome.anomalies == ("clamped_below_zero",)
        assert state.view("hospital").free == 0

    def test_a_gate_lot_without_general_spaces_takes_gate_counts_without_harm(self) -> None:
        state = Availability(
            site_config(**{"capacity: {general: 100, disabled: 4}": "capacity: {ev: 4}"}), T0
        )
        assert state.apply(GateEventObservation("hospital", "north", "entry"), T0).accepted
        assert state.view("hospital").categories["ev"].free is None

    def test_a_reading_with_the_same_timestamp_as_the_last_is_applied(self, state: Availability) -> None:
        state.apply(EMPTY_HOSPITAL, T0)
        state.apply(GateCounterObservation("hospital", "north", 10, 0, ts=T0), T0)
        assert state.apply(GateCounterObservation("hospital", "north", 12, 0, ts=T0), T0).accepted
        assert state.view("hospital").categories["general"].free == 98

    def test_a_reading_without_a_timestamp_keeps_the_last_one_for_ordering(self, state: Availability) -> None:
        state.apply(EMPTY_HOSPITAL, T0)
        state.apply(GateCounterObservation("hospital", "north", 10, 0, ts=T0 + s(10)), T0 + s(10))
        assert state.apply(GateCounterObservation("hospital", "north", 20, 0), T0 + s(11)).accepted
        outcome = state.apply(GateCounterObservation("hospital", "north", 30, 0, ts=T0), T0 + s(12))
        assert outcome.result == "stale"

    def test_lower_counters_without_a_timestamp_are_late_even_after_timestamped_ones(
        self, state: Availability
    ) -> None:
        state.apply(EMPTY_HOSPITAL, T0)
        state.apply(GateCounterObservation("hospital", "north", 10, 0, ts=T0), T0)
        state.apply(GateCounterObservation("hospital", "north", 20, 0, ts=T0 + s(10)), T0 + s(10))
        assert state.apply(GateCounterObservation("hospital", "north", 15, 0), T0 + s(11)).result == "stale"
        assert state.view("hospital").categories["general"].free == 90

    def test_a_fall_of_up_to_100_is_a_late_reading_and_more_a_reset(self, state: Availability) -> None:
        state.apply(EMPTY_HOSPITAL, T0)
        state.apply(GateCounterObservation("hospital", "north", 5000, 4990), T0)
        state.apply(GateCounterObservation("hospital", "north", 5010, 4990), T0)
        assert state.apply(GateCounterObservation("hospital", "north", 4910, 4990), T0).result == "stale"
        outcome = state.apply(GateCounterObservation("hospital", "north", 4909, 4990), T0)
        assert (outcome.result, outcome.anomalies) == ("applied", ("counter_reset",))

    def test_gate_readings_for_a_lot_without_gates_are_the_wrong_feed(self, state: Availability) -> None:
        assert state.apply(GateCounterObservation("tower", "north", 1, 0), T0).result == "wrong_feed"
        assert state.apply(GateEventObservation("tower", "north", "entry"), T0).result == "wrong_feed"

    def test_gate_counters_move_the_total_of_a_lot_without_general_spaces(self) -> None:
        state = Availability(
            site_config(**{"capacity: {general: 100, disabled: 4}": "capacity: {ev: 4}"}), T0
        )
        state.apply(LotObservation("hospital", free=4), T0)
        state.apply(GateCounterObservation("hospital", "north", 0, 0), T0)  # the baseline
        assert state.apply(GateCounterObservation("hospital", "north", 1, 0), T0).result == "applied"
        assert state.view("hospital").free == 3

    def test_a_total_clamped_at_capacity_is_reported_when_the_lot_has_no_general_spaces(self) -> None:
        state = Availability(
            site_config(**{"capacity: {general: 100, disabled: 4}": "capacity: {ev: 4}"}), T0
        )
        state.apply(LotObservation("hospital", free=4), T0)
        outcome = state.apply(GateEventObservation("hospital", "north", "exit"), T0)
        assert outcome.anomalies == ("clamped_above_capacity",)
        assert state.view("hospital").free == 4

    def test_a_gate_event_of_a_category_the_lot_lacks_is_an_anomaly_and_moves_general(
        self, state: Availability
    ) -> None:
        state.apply(EMPTY_HOSPITAL, T0)
        outcome = state.apply(GateEventObservation("hospital", "north", "entry", category="ev"), T0)
        assert (outcome.result, outcome.anomalies) == ("applied", ("unknown_category",))
        assert state.view("hospital").categories["general"].free == 99

    def test_a_gate_event_naming_a_category_moves_it_once_the_gate_is_already_heard(
        self, state: Availability
    ) -> None:
        state.apply(EMPTY_HOSPITAL, T0)
        state.apply(GateEventObservation("hospital", "north", "entry"), T0)  # the gate is heard: fresh
        state.apply(GateEventObservation("hospital", "north", "entry", category="disabled"), T0 + s(1))
        view = state.view("hospital")
        assert (view.free, view.categories["general"].free, view.categories["disabled"].free) == (102, 99, 3)

    def test_gates_keep_moving_the_total_of_a_lot_without_general_spaces(self) -> None:
        state = Availability(
            site_config(**{"capacity: {general: 100, disabled: 4}": "capacity: {ev: 4}"}), T0
        )
        state.apply(LotObservation("hospital", free=4), T0)
        state.apply(GateEventObservation("hospital", "north", "entry"), T0)  # the gate is heard: fresh
        assert state.apply(GateEventObservation("hospital", "north", "entry"), T0 + s(1)).accepted
        assert state.view("hospital").free == 2

    def test_a_new_truth_without_gate_counts_between_is_no_drift(self, state: Availability) -> None:
        state.apply(EMPTY_HOSPITAL, T0)
        assert state.apply(LotObservation("hospital", free=50), T0 + s(1)).anomalies == ()

    def test_gate_counts_that_cancel_out_are_no_drift(self, state: Availability) -> None:
        state.apply(EMPTY_HOSPITAL, T0)
        state.apply(GateEventObservation("hospital", "north", "entry"), T0)
        state.apply(GateEventObservation("hospital", "north", "exit"), T0)
        assert state.apply(LotObservation("hospital", free=50), T0 + s(1)).anomalies == ()

    def test_unconfigured_gate_is_rejected(self, state: Availability) -> None:
        outcome = state.apply(GateCounterObservation("hospital", "west", 1, 0), T0)
        assert outcome.result == "unknown_gate"


class TestStatus:
    def test_almost_full_and_full_use_separate_rising_and_falling_thresholds(
        self, state: Availability
    ) -> None:
        def status_at(free: int) -> str:
            state.apply(LotObservation("mall", free=free), T0)
            return state.view("mall").status

        assert status_at(100) == "open"
        assert status_at(50) == "almost_full"  # 10% of 500
        assert status_at(90) == "almost_full"  # still under the 20% exit
        assert status_at(101) == "open"
        assert status_at(0) == "full"
        assert status_at(2) == "full"  # leaves full only at 3 free
        assert status_at(3) == "almost_full"

    def test_at_exactly_the_exit_threshold_an_almost_full_lot_stays_almost_full(
        self, state: Availability
    ) -> None:
        state.apply(LotObservation("mall", free=50), T0)
        state.apply(LotObservation("mall", free=100), T0)  # 20% of 500: the exit is above it
        assert state.view("mall").status == "almost_full"

    def test_a_full_lot_that_frees_up_short_of_the_almost_full_exit_is_almost_full(
        self, state: Availability
    ) -> None:
        state.apply(LotObservation("mall", free=0), T0)
        state.apply(LotObservation("mall", free=60), T0)  # out of full, but 12% is under the 20% exit
        assert state.view("mall").status == "almost_full"

    def test_an_almost_full_lot_is_still_recommended(self, state: Availability) -> None:
        state.apply(LotObservation("mall", free=50), T0)
        view = state.view("mall")
        assert view.status == "almost_full"
        assert view.recommendable

    def test_a_count_above_every_threshold_is_open_from_any_status(self, state: Availability) -> None:
        # the mall (500 spaces, exit at 20 %): 100 free keeps almost_full, 101 opens from any status
        thresholds = Thresholds(almost_full_enter_pct=10, almost_full_exit_pct=20, full_exit_free=3)
        assert open_from(500, thresholds) == 101
        for previous in ("full", "almost_full"):
            state.apply(LotObservation("mall", free=0 if previous == "full" else 50), T0)
            state.apply(LotObservation("mall", free=100), T0)
            assert state.view("mall").status == "almost_full"
            state.apply(LotObservation("mall", free=0 if previous == "full" else 50), T0)
            state.apply(LotObservation("mall", free=101), T0)
            assert state.view("mall").status == "open"

    @pytest.mark.parametrize("thresholds", THRESHOLD_CASES)
    def test_the_open_bound_is_exactly_where_every_status_opens(self, thresholds: Thresholds) -> None:
        for capacity in (0, 1, 2, 3, 7, 8, 10, 30, 99, 100, 446):
            bound = open_from(capacity, thresholds)
            for free in range(capacity + 60):
                opens = [
                    next_status(p, free, capacity, thresholds) == "open"
                    for p in ("open", "almost_full", "full")
                ]
                assert all(opens) == (free >= bound), (capacity, free, bound)

    @pytest.mark.parametrize("thresholds", THRESHOLD_CASES)
    def test_a_category_status_is_next_status_after_its_previous_view(self, thresholds: Thresholds) -> None:
        """counted_status's shortcuts (the open bound, an unchanged count) answer what next_status does."""
        for capacity in (0, 1, 2, 3, 7, 10, 30, 100):
            bound = open_from(capacity, thresholds)
            counts = range(capacity + 12)
            olds: list[CategoryView | None] = [None]
            for before in counts:
                olds += [CategoryView(before, capacity, p) for p in ("unknown", "closed")]
                olds += [
                    CategoryView(before, capacity, next_status(p, before, capacity, thresholds))
                    for p in ("open", "almost_full", "full")
                ]
            for old in olds:
                previous = "open" if old is None else old.status
                for free in counts:
                    expected = next_status(previous, free, capacity, thresholds)
                    assert counted_status(old, free, capacity, thresholds, bound) == expected, (old, free)

    def test_a_category_with_no_bays_is_full_never_an_error(self) -> None:
        state = Availability(
            site_config(**{"capacity: {general: 200, ev: 10}": "capacity: {general: 200, ev: 0}"}), T0
        )
        state.apply(LotObservation("tower", free=50, categories={"ev": 0}), T0)
        assert state.view("tower").categories["ev"] == CategoryView(0, 0, "full")

    def test_the_lot_status_is_what_a_general_visitor_finds(self) -> None:
        state = Availability(site_config(**HOSPITAL_26), T0)
        state.apply(LotObservation("hospital", free=6, categories={"disabled": 5, "ev": 1}), T0)
        view = state.view("hospital")
        assert (view.status, view.free) == ("full", 6)
        assert view.categories["disabled"].status == "open"
        assert view.categories["ev"].status == "almost_full"
        assert not view.recommendable
        assert view.recommendable_for("disabled")  # a driver who needs a disabled bay still can

    def test_the_lot_status_keeps_general_hysteresis_whatever_the_other_bays_do(
        self, state: Availability
    ) -> None:
        def status_at(general: int) -> str:
            state.apply(LotObservation("tower", free=general + 10, categories={"ev": 10}), T0)
            return state.view("tower").status

        assert status_at(100) == "open"
        assert status_at(20) == "almost_full"  # 10% of general's 200, though 30 of 210 are free
        assert status_at(39) == "almost_full"  # still under general's 20% exit
        assert status_at(41) == "open"
        assert status_at(0) == "full"  # while the 10 ev bays are free
        assert status_at(2) == "full"
        assert status_at(3) == "almost_full"

    def test_a_lot_without_general_spaces_follows_its_total(self) -> None:
        state = Availability(site_config(**{"capacity: {general: 500}": "capacity: {ev: 40}"}), T0)
        state.apply(LotObservation("mall", free=30), T0)
        view = state.view("mall")
        assert (view.status, view.free) == ("open", 30)
        assert view.categories["ev"].free is None
        assert view.recommendable
        state.apply(LotObservation("mall", free=0), T0)
        assert state.view("mall").status == "full"

    def test_no_data_for_longer_than_the_freshness_window_is_unknown(self, state: Availability) -> None:
        state.apply(LotObservation("mall", free=100), T0)
        assert state.tick(T0 + s(600)) == []
        assert state.tick(T0 + s(601)) == ["mall"]
        view = state.view("mall")
        assert view.status == "unknown"
        assert view.free is None

    def test_a_lot_outside_its_opening_hours_is_closed(self, state: Availability) -> None:
        state.apply(LotObservation("tower", free=100), T0)
        state.tick(T0.replace(hour=23))
        assert state.view("tower").status == "closed"
        assert not state.view("tower").recommendable

    def test_a_lot_closes_at_its_closing_time_while_its_count_is_fresh(self, state: Availability) -> None:
        state.apply(LotObservation("tower", free=100), T0.replace(hour=21, minute=59, second=30))
        assert state.view("tower").status == "open"
        state.tick(T0.replace(hour=22))
        view = state.view("tower")
        assert (view.status, view.categories["general"].status) == ("closed", "closed")

    def test_a_lot_opening_on_an_unchanged_count_shows_its_status(self, state: Availability) -> None:
        state.apply(LotObservation("tower", free=0), T0.replace(hour=5, minute=55))
        assert state.view("tower").status == "closed"
        state.tick(T0.replace(hour=6))
        view = state.view("tower")
        assert (view.status, view.categories["general"].status, view.free) == ("full", "full", 0)

    def test_a_lot_opens_at_its_opening_second_after_a_fraction_of_the_second_before(self) -> None:
        before = T0.replace(hour=5, minute=59, second=59, microsecond=500_000)
        state = Availability(site_config(), before)
        state.apply(LotObservation("tower", free=100), before)
        assert state.view("tower").status == "closed"
        state.tick(T0.replace(hour=6))  # 06:00:00 exactly: the window includes its start
        assert state.view("tower").status == "open"

    def test_opening_hours_are_read_on_the_site_clock(self) -> None:
        state = Availability(site_config(**{"timezone: UTC": "timezone: Asia/Shanghai"}), T0)
        state.apply(LotObservation("tower", free=100), T0)  # 16:00 in Shanghai
        assert state.view("tower").status == "open"
        state.tick(T0.replace(hour=14, minute=30))  # 22:30 in Shanghai, after the tower closes
        assert state.view("tower").status == "closed"

    def test_partner_lot_outside_its_guidance_window_is_not_recommended(self, state: Availability) -> None:
        state.apply(LotObservation("mall", free=400), T0)
        assert state.view("mall").recommendable
        state.apply(LotObservation("mall", free=400), T0.replace(hour=10, minute=1))
        assert state.view("mall").status == "open"
        assert not state.view("mall").recommendable
        assert not state.view("mall").recommendable_for("general")


class TestTrend:
    def test_a_steadily_falling_count_is_filling(self, state: Availability) -> None:
        for minute in range(0, 11):
            state.apply(LotObservation("mall", free=400 - 10 * minute), T0 + s(60 * minute))
        view = state.view("mall")
        assert view.trend == "filling"
        assert view.fill_rate_per_h == pytest.approx(-600, rel=0.05)

    def test_a_rising_count_is_emptying_and_a_flat_one_stable(self, state: Availability) -> None:
        for minute in range(0, 11):
            state.apply(LotObservation("mall", free=100 + 10 * minute), T0 + s(60 * minute))
            state.apply(LotObservation("tower", free=100), T0 + s(60 * minute))
        assert state.view("mall").trend == "emptying"
        assert state.view("tower").trend == "stable"

    def test_a_message_between_sample_slots_keeps_the_trend_and_fill_rate(self, state: Availability) -> None:
        for minute in range(0, 11):
            state.apply(LotObservation("mall", free=400 - 10 * minute), T0 + s(60 * minute))
        state.apply(LotObservation("mall", free=300), T0 + s(601))  # opens a slot: the rate moves
        before = state.view("mall")
        state.apply(LotObservation("mall", free=300), T0 + s(602))  # in the same slot: it does not
        view = state.view("mall")
        assert before.trend == "filling"
        assert (view.trend, view.fill_rate_per_h) == (before.trend, before.fill_rate_per_h)

    def test_too_short_a_history_is_unknown(self, state: Availability) -> None:
        state.apply(LotObservation("mall", free=100), T0)
        state.apply(LotObservation("mall", free=50), T0 + s(30))
        assert state.view("mall").trend == "unknown"

    def test_the_fill_rate_is_given_to_one_decimal(self, state: Availability) -> None:
        state.apply(LotObservation("mall", free=400), T0)
        state.apply(LotObservation("mall", free=390), T0 + s(7 * 60))
        assert state.view("mall").fill_rate_per_h == -85.7  # -10 in 7 minutes

    @pytest.mark.parametrize(
        ("rate_per_h", "capacity", "trend"),
        [
            (-40.0, 500, "filling"),  # 8% of capacity an hour is a trend ...
            (-39.9, 500, "stable"),
            (40.0, 500, "emptying"),
            (39.9, 500, "stable"),
            (-4.0, 20, "filling"),  # ... and never less than 4 spaces an hour
            (-3.9, 20, "stable"),
            (4.0, 20, "emptying"),
        ],
    )
    def test_a_trend_is_a_move_of_8_percent_of_capacity_an_hour_and_at_least_4(
        self, rate_per_h: float, capacity: int, trend: str
    ) -> None:
        assert trend_of(rate_per_h, capacity) == trend


class TestSamples:
    def test_a_sample_less_than_30_s_after_the_slot_before_replaces_the_latest(self) -> None:
        samples = Samples()
        opened = [samples.add(T0 + s(at), 100 - at) for at in (0, 10, 20, 30)]
        assert opened == [True, True, False, True]  # 30 s after the slot before: a new slot

    def test_the_rate_uses_the_latest_count_of_a_slot(self) -> None:
        samples = Samples()
        for at, free in ((0, 100), (60, 100), (70, 90), (80, 80)):
            samples.add(T0 + s(at), free)
        assert samples.rate_per_h(T0 + s(240)) == pytest.approx(-300.0)  # -20 in 4 minutes

    def test_three_minutes_of_history_are_enough_for_a_rate(self) -> None:
        samples = Samples()
        samples.add(T0, 100)
        samples.add(T0 + s(180), 91)
        assert samples.rate_per_h(T0 + s(180)) == pytest.approx(-180.0)

    def test_the_rate_runs_from_the_last_sample_before_the_window(self) -> None:
        samples = Samples()
        for minute, free in ((0, 100), (5, 90), (20, 80)):
            samples.add(T0 + s(60 * minute), free)
        # the window opens at 5 min: the sample there is inside it, so the rate runs from 0 min
        assert samples.rate_per_h(T0 + s(20 * 60)) == pytest.approx(-60.0)

    def test_a_sample_just_before_the_window_is_kept_for_the_rate(self) -> None:
        samples = Samples()
        for at, free in ((0, 100), (60, 90), (15 * 60 + 45, 60)):
            samples.add(T0 + s(at), free)
        assert samples.rate_per_h(T0 + s(15 * 60 + 45)) == pytest.approx(-40 * 3600 / 945)


FRIDAY = datetime(2026, 11, 27)  # T0's week: Wednesday the 25th, Friday the 27th


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """Local time on a day of T0's week, counted from Friday (0) on."""
    return FRIDAY + timedelta(days=day, hours=hour, minutes=minute, seconds=second)


def window(days: str, start: str, end: str) -> TimeWindow:
    return TimeWindow.model_validate({"days": days, "from": start, "to": end})


class TestTimeWindows:
    def test_a_window_includes_its_start_and_excludes_its_end(self) -> None:
        hours = [window("mon-fri", "06:00", "22:00")]
        assert [within(hours, t) for t in (at(0, 5, 59, 59), at(0, 6), at(0, 21, 59, 59), at(0, 22))] == [
            False,
            True,
            True,
            False,
        ]

    def test_a_window_crossing_midnight_runs_from_its_day_into_the_next_morning(self) -> None:
        # docs/config.md: open from Friday 22:00 to Saturday 02:00
        hours = [window("fri", "22:00", "02:00")]
        assert within(hours, at(0, 22))
        assert within(hours, at(0, 23))
        assert within(hours, at(1, 1, 59, 59))
        assert not within(hours, at(0, 21, 59, 59))
        assert not within(hours, at(1, 2))
        assert not within(hours, at(0, 1))  # Thursday night is not in it
        assert not within(hours, at(1, 23))  # nor Saturday night

    def test_a_window_whose_end_equals_its_start_is_empty(self) -> None:
        hours = [window("daily", "08:00", "08:00")]
        assert not any(within(hours, at(0, hour)) for hour in range(24))
        assert not within(hours, at(0, 7, 59, 59))


class TestVersion:
    def test_changes_when_a_visible_count_changes_and_only_then(self, state: Availability) -> None:
        state.apply(LotObservation("mall", free=100), T0)
        before = state.version
        state.apply(LotObservation("mall", free=100), T0 + s(1))
        assert state.version == before
        state.apply(LotObservation("mall", free=99), T0 + s(2))
        assert state.version > before
