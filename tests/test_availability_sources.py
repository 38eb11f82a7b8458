"""Several sources per lot, and liveness: what is shown when bays, gates and a lot system all count a lot."""

from __future__ import annotations

from datetime import timedelta

from parking.availability import Availability
from parking.observations import (
    GateCounterObservation,
    GateEventObservation,
    LotObservation,
    SpotObservation,
)
from tests.helpers.site import T0, site_config

GENERAL_BAYS = [f"S{n:02d}" for n in range(1, 11)]


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def mixed() -> Availability:
    """The hospital car park with gates, its lot system and a sensor in each of its 4 disabled bays;
    the street bays with a lot system beside their sensors."""
    config = site_config(
        **{
            "    feed: gate\n": "    feed: [gate, lot, spot]\n",
            "capacity: {general: 100, disabled: 4}": "capacity: {general: 100}\n    spots: {disabled: D1-D4}",
            "    feed: spot\n": "    feed: [spot, lot]\n",
        }
    )
    return Availability(config, T0)


def bays(state: Availability, lot: str, ids: list[str], occupied: bool, at: float = 0) -> None:
    for bay in ids:
        state.apply(SpotObservation(lot, bay, occupied), T0 + s(at))


class TestALotSystemBesideBaySensors:
    def test_a_lot_system_total_for_a_lot_with_bay_sensors_is_applied_and_shown_as_sent(self) -> None:
        state = mixed()
        bays(state, "street", [*GENERAL_BAYS, "E1", "E2"], occupied=False)
        assert state.view("street").free == 12
        outcome = state.apply(LotObservation("street", free=9), T0 + s(1))
        assert outcome.result == "applied"
        assert state.view("street").free == 9  # the lot system's total is the truth while fresh

    def test_where_bays_and_the_lot_system_disagree_the_bays_give_the_split(self) -> None:
        state = mixed()
        bays(state, "street", GENERAL_BAYS, occupied=False)
        bays(state, "street", ["E1", "E2"], occupied=True)
        outcome = state.apply(LotObservation("street", free=11, categories={"ev": 2}), T0 + s(1))
        assert "sources_disagree" in outcome.anomalies
        view = state.view("street")
        assert (view.free, view.categories["general"].free, view.categories["ev"].free) == (11, 10, 0)

    def test_when_the_lot_system_goes_silent_the_bays_give_the_total(self) -> None:
        state = mixed()
        bays(state, "street", [*GENERAL_BAYS, "E1", "E2"], occupied=False)
        state.apply(LotObservation("street", free=3), T0)
        late = 901  # the street's freshness window is 900 s
        bays(state, "street", [*GENERAL_BAYS, "E1", "E2"], occupied=False, at=late)
        view = state.view("street")
        assert (view.free, view.freshness) == (12, "degraded")  # lot system expected, but silent

    def test_a_lot_system_leaving_out_the_bays_categories_does_not_disagree_with_them(self) -> None:
        state = mixed()
        bays(state, "street", [*GENERAL_BAYS, "E1", "E2"], occupied=False)
        assert state.apply(LotObservation("street", free=9), T0 + s(1)).anomalies == ()

    def test_a_lot_system_naming_a_category_before_its_bays_report_does_not_disagree(self) -> None:
        state = mixed()
        outcome = state.apply(LotObservation("street", free=12, categories={"ev": 2}), T0)
        assert (outcome.result, outcome.anomalies) == ("applied", ())

    def test_a_spot_only_lot_still_refuses_lot_messages(self) -> None:
        state = Availability(site_config(), T0)
        assert state.apply(LotObservation("street", free=3), T0).result == "wrong_feed"


class TestGatesBesideBaysAndTruths:
    def test_general_is_the_total_less_the_bays_of_other_categories(self) -> None:
        state = mixed()
        state.apply(LotObservation("hospital", free=60), T0)
        bays(state, "hospital", ["D1", "D2", "D3", "D4"], occupied=False)
        view = state.view("hospital")
        assert (view.free, view.categories["general"].free, view.categories["disabled"].free) == (60, 56, 4)
        assert not view.categories["general"].estimated

    def test_a_gate_reading_before_any_total_leaves_a_bay_lot_its_bays_count(self) -> None:
        # the street bays with a gate counter beside their sensors, and no lot system: until a
        # total arrives, the lot's count is its bays' (3 general and 2 ev free), not unknown
        state = Availability(
            site_config(**{"    feed: spot\n": "    feed: [spot, gate]\n    gates: [north]\n"}), T0
        )
        bays(state, "street", [*GENERAL_BAYS[:3], "E1", "E2"], occupied=False)
        bays(state, "street", GENERAL_BAYS[3:], occupied=True)
        state.apply(GateCounterObservation("street", "north", 10, 5), T0 + s(1))
        assert state.view("street").free == 5

    def test_a_car_in_a_disabled_bay_does_not_drift_general(self) -> None:
        state = mixed()
        state.apply(LotObservation("hospital", free=60), T0)
        bays(state, "hospital", ["D1", "D2", "D3", "D4"], occupied=False)
        state.apply(GateEventObservation("hospital", "north", "entry"), T0 + s(1))
        bays(state, "hospital", ["D1"], occupied=True, at=2)  # it parks in a disabled bay
        view = state.view("hospital")
        assert (view.free, view.categories["general"].free, view.categories["disabled"].free) == (59, 56, 3)

    def test_a_gate_event_naming_its_category_moves_that_category(self) -> None:
        state = Availability(site_config(), T0)  # the plain gate lot: no bay sensors
        state.apply(LotObservation("hospital", free=60, categories={"disabled": 4}), T0)
        state.apply(GateEventObservation("hospital", "north", "entry", category="disabled"), T0 + s(1))
        view = state.view("hospital")
        assert (view.free, view.categories["general"].free, view.categories["disabled"].free) == (59, 56, 3)

    def test_a_truer_count_corrects_the_gates_drift_and_says_so(self) -> None:
        state = mixed()
        state.apply(LotObservation("hospital", free=60), T0)
        for n in range(5):
            state.apply(GateEventObservation("hospital", "north", "entry"), T0 + s(n + 1))
        assert state.view("hospital").free == 55
        outcome = state.apply(LotObservation("hospital", free=58), T0 + s(10))
        assert outcome.anomalies == ("drift_corrected",)
        assert state.view("hospital").free == 58
        # a truth agreeing with the gates corrects nothing
        state.apply(GateEventObservation("hospital", "north", "exit"), T0 + s(11))
        assert state.apply(LotObservation("hospital", free=59), T0 + s(12)).anomalies == ()

    def test_a_truth_naming_general_sets_it_and_gates_move_it_from_there(self) -> None:
        state = mixed()
        bays(state, "hospital", ["D1", "D2", "D3", "D4"], occupied=False)
        state.apply(LotObservation("hospital", free=60, categories={"general": 50}), T0)
        assert state.view("hospital").categories["general"].free == 50
        state.apply(GateEventObservation("hospital", "north", "entry"), T0 + s(1))
        view = state.view("hospital")
        assert (view.free, view.categories["general"].free) == (59, 49)

    def test_a_car_entering_when_general_derived_from_the_total_is_0_is_no_anomaly(self) -> None:
        state = mixed()
        bays(state, "hospital", ["D1", "D2", "D3", "D4"], occupied=False)
        state.apply(LotObservation("hospital", free=4), T0)  # only the disabled bays are free
        assert state.view("hospital").categories["general"].free == 0
        outcome = state.apply(GateEventObservation("hospital", "north", "entry"), T0 + s(1))
        assert (outcome.result, outcome.anomalies) == ("applied", ())
        view = state.view("hospital")
        assert (view.free, view.categories["general"].free) == (3, 0)

    def test_a_gate_counter_that_resets_moves_nothing_and_counting_goes_on(self) -> None:
        state = mixed()
        state.apply(LotObservation("hospital", free=60), T0)
        state.apply(GateCounterObservation("hospital", "north", 500, 400, T0), T0 + s(1))
        state.apply(GateCounterObservation("hospital", "north", 503, 400, T0 + s(2)), T0 + s(2))
        assert state.view("hospital").free == 57
        reset = state.apply(GateCounterObservation("hospital", "north", 2, 0, T0 + s(3)), T0 + s(3))
        assert reset.anomalies == ("counter_reset",)
        assert state.view("hospital").free == 57
        state.apply(GateCounterObservation("hospital", "north", 4, 1, T0 + s(4)), T0 + s(4))
        assert state.view("hospital").free == 56  # 2 in, 1 out since the reset

    def test_missed_counter_messages_cost_nothing(self) -> None:
        state = mixed()
        state.apply(LotObservation("hospital", free=60), T0)
        state.apply(GateCounterObservation("hospital", "north", 500, 400, T0), T0 + s(1))
        # readings 501..509 were lost: the next cumulative reading still has every car
        state.apply(GateCounterObservation("hospital", "north", 510, 402, T0 + s(9)), T0 + s(9))
        assert state.view("hospital").free == 52


class TestSilentSensors:
    def test_a_silent_bay_goes_unknown_not_free_and_comes_back(self) -> None:
        state = Availability(site_config(), T0)
        bays(state, "street", GENERAL_BAYS, occupied=False)
        assert state.view("street").categories["general"].free == 10
        # every bay but S01 keeps reporting; S01 falls silent past defaults.sensor_silence_s (1800 s)
        for at in (600, 1200, 1800):
            bays(state, "street", GENERAL_BAYS[1:], occupied=False, at=at)
        state.tick(T0 + s(1801))
        general = state.view("street").categories["general"]
        assert (general.free, general.unknown) == (9, 1)  # not counted free: unknown
        assert [bay.state for bay in state.bays("street") if bay.id == "S01"] == ["silent"]
        bays(state, "street", ["S01"], occupied=False, at=1802)
        general = state.view("street").categories["general"]
        assert (general.free, general.unknown) == (10, 0)

    def test_a_bay_heard_exactly_the_silence_window_ago_still_counts(self) -> None:
        state = Availability(site_config(), T0)
        bays(state, "street", GENERAL_BAYS, occupied=False)
        bays(state, "street", GENERAL_BAYS[1:], occupied=False, at=1800)
        state.tick(T0 + s(1800))  # S01 was heard 1800 s ago: defaults.sensor_silence_s, not more
        general = state.view("street").categories["general"]
        assert (general.free, general.unknown) == (10, 0)

    def test_the_silence_window_is_the_lots_own_when_it_sets_one(self) -> None:
        config = site_config(
            **{"    freshness_s: 900\n": "    freshness_s: 900\n    sensor_silence_s: 600\n"}
        )
        state = Availability(config, T0)
        bays(state, "street", GENERAL_BAYS, occupied=False)
        bays(state, "street", GENERAL_BAYS[1:], occupied=False, at=600)
        state.tick(T0 + s(601))
        assert state.view("street").categories["general"].unknown == 1

    def test_a_bay_goes_silent_on_the_next_message_without_waiting_for_a_tick(self) -> None:
        state = Availability(site_config(), T0)
        bays(state, "street", GENERAL_BAYS, occupied=False)
        for at in (600, 1200, 1800):
            bays(state, "street", GENERAL_BAYS[1:], occupied=False, at=at)
        bays(state, "street", ["S02"], occupied=False, at=1801)  # no tick between
        general = state.view("street").categories["general"]
        assert (general.free, general.unknown) == (9, 1)

    def test_a_rejected_message_still_shows_a_bay_gone_silent_and_keeps_its_anomalies(self) -> None:
        state = Availability(site_config(), T0)
        bays(state, "street", GENERAL_BAYS, occupied=False)
        for at in (600, 1200, 1800):
            bays(state, "street", GENERAL_BAYS[1:], occupied=False, at=at)
        now = T0 + s(1801)
        outcome = state.apply(SpotObservation("street", "S99", False, ts=now + s(3600)), now)
        assert (outcome.result, outcome.anomalies, outcome.changed) == (
            "unknown_spot",
            ("future_timestamp",),
            True,
        )
        general = state.view("street").categories["general"]
        assert (general.free, general.unknown) == (9, 1)

    def test_too_many_silent_bays_make_the_category_unknown(self) -> None:
        state = Availability(site_config(), T0)
        bays(state, "street", GENERAL_BAYS, occupied=False)
        bays(state, "street", GENERAL_BAYS[:8], occupied=False, at=1000)
        state.tick(T0 + s(1801))  # S09, S10 silent: 8 of 10 live, below 0.9
        assert state.view("street").categories["general"].free is None

    def test_after_a_restart_a_spot_lot_shows_which_bays_are_unknown(self) -> None:
        state = Availability(site_config(), T0)
        bays(state, "street", GENERAL_BAYS[:9], occupied=False)
        view = state.view("street")
        assert (view.free, view.categories["general"].unknown, view.freshness) == (9, 1, "degraded")
        assert [bay.id for bay in state.bays("street") if bay.state == "never"] == ["S10", "E1", "E2"]

    def test_a_lot_is_fresh_degraded_and_stale(self) -> None:
        state = mixed()
        state.apply(LotObservation("hospital", free=60), T0)
        assert state.view("hospital").freshness == "degraded"  # gates and bays not heard yet
        state.apply(GateCounterObservation("hospital", "north", 1, 1), T0)
        bays(state, "hospital", ["D1", "D2", "D3", "D4"], occupied=False)
        assert state.view("hospital").freshness == "fresh"
        state.tick(T0 + s(601))  # the test site's freshness window is 600 s
        assert state.view("hospital").freshness == "stale"
        sources = {source.source: source for source in state.sources("hospital", T0 + s(601))}
        assert sources["gate"].age_s == 601
        assert not sources["gate"].fresh


def tower_with_bays() -> Availability:
    """The tower with its lot system and sensors in 3 ev and 2 disabled bays; general has no bays."""
    config = site_config(
        **{
            "    feed: lot\n    lat: 29.9991": "    feed: [lot, spot]\n    lat: 29.9991",
            "capacity: {general: 200, ev: 10}": (
                "capacity: {general: 200}\n    spots: {ev: E1-E3, disabled: D1-D2}"
            ),
        }
    )
    return Availability(config, T0)


class TestGeneralDerivedFromTheTotal:
    def test_general_is_the_total_less_every_other_category(self) -> None:
        state = tower_with_bays()
        state.apply(LotObservation("tower", free=100), T0)
        bays(state, "tower", ["E1", "D1", "D2"], occupied=False)
        bays(state, "tower", ["E2", "E3"], occupied=True)
        general = state.view("tower").categories["general"]
        assert (general.free, general.estimated) == (97, False)  # 100 - 1 ev - 2 disabled

    def test_an_unknown_category_is_taken_as_free_and_general_is_estimated(self) -> None:
        state = tower_with_bays()
        state.apply(LotObservation("tower", free=100), T0)
        bays(state, "tower", ["E1"], occupied=False)
        bays(state, "tower", ["E2", "E3"], occupied=True)  # the disabled bays never report
        general = state.view("tower").categories["general"]
        assert (general.free, general.estimated) == (97, True)  # 100 - 1 ev - 2 disabled bays

    def test_general_never_goes_below_zero(self) -> None:
        state = tower_with_bays()
        state.apply(LotObservation("tower", free=2), T0)
        bays(state, "tower", ["E1", "E2", "E3", "D1", "D2"], occupied=False)
        assert state.view("tower").categories["general"].free == 0

    def test_once_the_total_is_not_current_general_is_unknown_not_estimated(self) -> None:
        state = tower_with_bays()
        state.apply(LotObservation("tower", free=100), T0)
        bays(state, "tower", ["E1", "E2", "E3", "D1", "D2"], occupied=False, at=500)
        state.tick(T0 + s(601))
        general = state.view("tower").categories["general"]
        assert (general.free, general.estimated) == (None, False)

    def test_general_less_the_other_categories_whatever_their_order_in_the_config(self) -> None:
        # bays come first among the categories, then `capacity` in its order: general is not last
        config = site_config(
            **{
                "    feed: gate\n": "    feed: [gate, lot, spot]\n",
                "capacity: {general: 100, disabled: 4}": (
                    "capacity: {general: 100, ev: 10}\n    spots: {disabled: D1-D4}"
                ),
            }
        )
        state = Availability(config, T0)
        state.apply(LotObservation("hospital", free=60, categories={"ev": 10}), T0)
        bays(state, "hospital", ["D1", "D2", "D3", "D4"], occupied=False)
        general = state.view("hospital").categories["general"]
        assert (general.free, general.estimated) == (46, False)  # 60 - 4 disabled - 10 ev


class TestBayViews:
    def test_a_heartbeat_keeps_the_bays_state_and_count(self) -> None:
        state = Availability(site_config(), T0)
        bays(state, "street", ["S01"], occupied=False)
        bays(state, "street", GENERAL_BAYS[1:], occupied=True)
        state.apply(SpotObservation("street", "S01", None), T0 + s(1))
        assert [bay.state for bay in state.bays("street") if bay.id == "S01"] == ["free"]
        bays(state, "street", ["S01"], occupied=False, at=2)  # the same state again
        assert state.view("street").categories["general"].free == 1

    def test_a_bay_heard_only_by_heartbeat_has_never_said_its_state(self) -> None:
        state = Availability(site_config(), T0)
        state.apply(SpotObservation("street", "S01", None), T0)
        (s01,) = [bay for bay in state.bays("street") if bay.id == "S01"]
        assert (s01.state, s01.seen_at) == ("never", T0)

    def test_a_bay_shows_when_it_was_heard_and_its_last_battery_reading(self) -> None:
        state = Availability(site_config(), T0)
        state.apply(SpotObservation("street", "S01", False, uplink="1", battery=3.6), T0)
        (s01,) = [bay for bay in state.bays("street") if bay.id == "S01"]
        assert (s01.seen_at, s01.battery) == (T0, 3.6)
        state.apply(SpotObservation("street", "S01", False, uplink="2"), T0 + s(1))  # no battery field
        (s01,) = [bay for bay in state.bays("street") if bay.id == "S01"]
        assert (s01.seen_at, s01.battery) == (T0 + s(1), 3.6)
        state.apply(SpotObservation("street", "S01", False, uplink="3", battery=3.5), T0 + s(2))
        assert [bay.battery for bay in state.bays("street") if bay.id == "S01"] == [3.5]


class TestFreshness:
    def test_a_source_is_fresh_up_to_the_end_of_its_window(self) -> None:
        state = Availability(site_config(), T0)
        state.apply(LotObservation("tower", free=80), T0)
        assert [v.fresh for v in state.sources("tower", T0 + s(600))] == [True]
        assert [v.fresh for v in state.sources("tower", T0 + s(601))] == [False]

    def test_a_fresh_gate_keeps_the_lot_systems_total_current(self) -> None:
        state = mixed()
        state.apply(LotObservation("hospital", free=60), T0)
        bays(state, "hospital", ["D1", "D2", "D3", "D4"], occupied=False, at=500)
        state.apply(GateEventObservation("hospital", "north", "entry"), T0 + s(500))
        state.tick(T0 + s(700))  # the lot system is silent past 600 s; the gate is not
        view = state.view("hospital")
        assert (view.free, view.categories["general"].free) == (59, 55)

    def test_sources_list_the_expected_and_the_heard_with_their_age(self) -> None:
        state = Availability(site_config(), T0)  # the hospital expects gates only
        listed = [(v.source, v.seen_at, v.age_s, v.fresh, v.expected) for v in state.sources("hospital", T0)]
        assert listed == [("gate", None, None, False, True)]
        state.apply(LotObservation("hospital", free=60), T0)  # a lot system it does not expect
        later = T0 + s(10)
        listed = [
            (v.source, v.seen_at, v.age_s, v.fresh, v.expected) for v in state.sources("hospital", later)
        ]
        assert listed == [("lot", T0, 10.0, True, False), ("gate", None, None, False, True)]
