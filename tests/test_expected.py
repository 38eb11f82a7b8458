"""Expected space on arrival, by hand on the small test site (tests/helpers/site.py).

From board `north` (n1, facing east): hospital 31.1 s drive + 105.0 s walk, mall
and street 44.3 s (+ 219.4 s / 296.8 s), tower 53.2 s (+ 256.0 s). Pure: lot
views are built as values, no event loop.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from parking.availability.views import CategoryView, LotView
from parking.guidance.expected import (
    NO_OUTLOOK,
    Expectation,
    Outlook,
    expect,
    normal_cdf,
    reserve_for,
    wait_s,
)
from parking.guidance.pending import PendingArrivals
from parking.guidance.service import GuidanceService, Needs
from parking.overrides import overlay
from parking.roads.load import build_guidance
from parking.types import GENERAL
from tests.helpers.site import T0, site_config
from tests.helpers.views import outlook, view, views


def held(lot: LotView, spaces: int = 0, closed: bool = False) -> LotView:
    """The view as the live site shows it with an ops hold-back or closure."""
    return overlay(lot, closed, spaces, site_config().defaults.thresholds)


def first(guidance: GuidanceService, lots: dict[str, LotView], seen: Outlook = NO_OUTLOOK) -> list[str]:
    recs = guidance.recommend_from_board("north", "general/main", lots, outlook=seen)
    return [rec.lot for rec in recs]


class TestExpectedFree:
    def test_free_less_fill_over_the_drive_less_pending_less_held(self) -> None:
        params = site_config().guidance
        lot = held(view("tower", 40, rate_per_h=-360.0), 10)  # filling by 6 a minute, 10 held back
        seen = outlook({"tower": 5.0})
        got = expect(lot, GENERAL, 120.0, seen, params)
        assert got is not None
        assert got.expected_free == pytest.approx(40 - 12 - 5 - 10)
        assert got.reserve == pytest.approx(max(3, 0.05 * 210))
        # spread: the count's own error, the lot's own cars leaving (180 occupied x 120 s / 2,400 s
        # = 9) and arriving (as many, plus the net fill of 12), the drivers already sent: Poisson-like
        assert got.full_probability == pytest.approx(normal_cdf((0.5 - 13) / math.sqrt(1 + 9 + (9 + 12) + 5)))

    def test_a_lot_whose_cars_come_and_go_may_be_full_though_its_count_holds(self) -> None:
        # the tower, 3 free, as many cars arriving as leaving: no net fill, yet over a 300 s drive
        # 207 x 300 / 2,400 = 25.9 of its cars leave and as many of its own drivers arrive
        params = site_config().guidance
        busy = expect(view("tower", 3, rate_per_h=0.0), GENERAL, 300.0, NO_OUTLOOK, params)
        assert busy is not None
        assert busy.expected_free == 3
        assert busy.full_probability == pytest.approx(normal_cdf((0.5 - 3) / math.sqrt(1 + 2 * 25.875)))
        assert busy.full_probability > 0.3
        # a lot with nobody parked has no turnover: only the count's own error is left
        empty = view("street", 12)
        assert expect(empty, GENERAL, 300.0, NO_OUTLOOK, params) == expect(
            empty, GENERAL, 0.0, NO_OUTLOOK, params
        )

    def test_an_emptying_lot_is_not_counted_on_to_empty_further(self) -> None:
        got = expect(view("tower", 40, rate_per_h=+600.0), GENERAL, 300.0, Outlook(), site_config().guidance)
        assert got is not None
        assert got.expected_free == 40

    def test_a_lot_emptying_faster_than_its_cars_leave_counts_no_arrivals_in_its_spread(self) -> None:
        # the tower, 3 free and emptying by 600 an hour: over a 300 s drive 207 x 300 / 2,400 = 25.9
        # of its cars leave, and its own drivers arrive at those 25.9 less the 50 it empties by: none
        params = site_config().guidance
        got = expect(view("tower", 3, rate_per_h=+600.0), GENERAL, 300.0, NO_OUTLOOK, params)
        assert got is not None
        assert got.full_probability == pytest.approx(normal_cdf((0.5 - 3) / math.sqrt(1 + 25.875)))

    def test_reserve_is_the_larger_of_spaces_and_share(self) -> None:
        params = site_config().guidance
        assert reserve_for(12, params) == 3
        assert reserve_for(500, params) == 25

    def test_held_or_closed_leaves_nothing_usable(self) -> None:
        params = site_config().guidance
        assert expect(held(view("tower", 8), 8), GENERAL, 60, NO_OUTLOOK, params) is None
        assert expect(held(view("tower", 80), closed=True), GENERAL, 60, NO_OUTLOOK, params) is None


class TestRanking:
    def test_with_room_everywhere_the_quickest_to_the_door_wins(self, guidance: GuidanceService) -> None:
        assert first(guidance, views(hospital=60, tower=80, street=10, mall=300)) == [
            "hospital",
            "mall",
            "tower",
            "street",  # 44.3 + 296.8 + a minute's search for the bay
        ]

    def test_a_lot_expected_full_on_arrival_costs_its_risk(self, guidance: GuidanceService) -> None:
        lots = views(tower=80, mall=300)
        # 10 free, filling at 2,000 an hour: 31.1 s away, 17.3 of them go before the driver arrives
        lots["hospital"] = view("hospital", 10, rate_per_h=-2000.0)
        recs = guidance.recommend_from_board("north", "general/main", lots)
        assert [rec.lot for rec in recs] == ["mall", "hospital", "tower"]
        hospital = recs[1]
        assert hospital.expectation is not None
        assert hospital.expectation.expected_free == pytest.approx(10 - 2000 * 31.1 / 3600, abs=0.1)
        assert hospital.expectation.predicted_full
        # finding it full costs the shorter of the detour (on to the mall, 53.2 s, and its walk,
        # less the hospital's) and the wait at its gate for the 8.3 spaces needed, one freeing
        # every 2,400 s / 104 spaces
        assert hospital.cost is not None
        detour = 53.2 + 219.4 - 105.0
        wait = (1 - hospital.expectation.expected_free) * 2400 / 104
        assert detour < wait
        p_full = hospital.expectation.full_probability
        assert hospital.cost.full_risk_s == pytest.approx(p_full * detour, rel=0.01)

    def test_a_lot_short_of_its_reserve_is_first_while_its_risk_costs_less(
        self, guidance: GuidanceService
    ) -> None:
        # the hospital has 5 free, below its reserve of max(3, 5 % of 104) = 5.2; found full, a
        # space frees at its gate every 2,400 s / 104: the risk costs seconds, the mall a minute more
        recs = guidance.recommend_from_board("north", "general/main", views(hospital=5, tower=80, mall=300))
        assert [rec.lot for rec in recs] == ["hospital", "mall", "tower"]
        hospital = recs[0]
        assert hospital.expectation is not None
        assert hospital.cost is not None
        assert hospital.expectation.below_reserve
        p_full = hospital.expectation.full_probability
        assert hospital.cost.full_risk_s == pytest.approx(p_full * 2400 / 104)
        assert recs[1].cost is not None
        assert hospital.cost.total_s < recs[1].cost.total_s

    def test_one_free_street_bay_is_never_line_one(self, guidance: GuidanceService) -> None:
        lots = views(street=1, mall=300)
        assert first(guidance, lots) == ["mall", "street"]

    def test_closed_and_stale_lots_are_not_recommended(self, guidance: GuidanceService) -> None:
        lots = views(hospital=60, tower=80, mall=300)
        lots["tower"] = view("tower", None, status="unknown")
        assert "tower" not in first(guidance, lots)
        lots["tower"] = view("tower", 80, status="closed")
        assert "tower" not in first(guidance, lots)
        # an operator's closure: the lot reports free spaces but takes nobody
        lots = views(hospital=60, mall=300)
        assert first(guidance, dict(lots, hospital=held(lots["hospital"], closed=True))) == ["mall"]

    def test_held_spaces_count_against_the_lot(self, guidance: GuidanceService) -> None:
        lots = views(hospital=20, mall=300)
        assert first(guidance, lots)[0] == "hospital"
        assert first(guidance, dict(lots, hospital=held(lots["hospital"], 20)))[0] == "mall"

    def test_ten_drivers_in_a_row_for_the_last_two_spaces(self) -> None:
        # two spaces, and a gate where one frees every 2,400 s / 104 = 23 s: a driver goes on to
        # the hospital while the wait for the spaces the drivers ahead need (P(full) x ~23 s each)
        # costs less than the mall's 136.5 s more; the eighth would need 6 to free first
        config = site_config(
            **{
                "site: {name: Test site, timezone: UTC}": "site: {name: Test site, timezone: UTC}\n"
                "guidance: {reserve_spaces: 0, reserve_share: 0}"
            }
        )
        guidance = build_guidance(config)
        lots = views(hospital=2, mall=300)
        pending = PendingArrivals(slack_s=300)
        sent = []
        for _ in range(10):
            seen = outlook(pending.counts(T0))
            rec = guidance.recommend_from_board("north", "general/main", lots, limit=1, outlook=seen)[0]
            assert rec.cost is not None
            pending.add(rec.lot, T0, rec.cost.drive_s)
            sent.append(rec.lot)
        assert sent == ["hospital"] * 7 + ["mall"] * 3

    def test_the_reserve_changes_the_order_only_through_the_risk(self, guidance: GuidanceService) -> None:
        # the last two spaces, below the reserve: still first, finding it full costs a short wait
        assert first(guidance, views(hospital=2, mall=300))[0] == "hospital"
        # a street with its last two bays has no gate: found full, the way on to the mall costs
        # more than the drive saves
        assert first(guidance, views(street=2, mall=300))[0] == "mall"

    def test_pending_arrivals_move_line_one_and_expire(self, guidance: GuidanceService) -> None:
        lots = views(hospital=12, mall=300)
        pending = PendingArrivals(slack_s=60)
        assert first(guidance, lots, outlook(pending.counts(T0)))[0] == "hospital"
        # a board's followers (fractions of drivers): 8 more than its 12 spaces, a wait at the gate
        # longer than the way round to the mall
        pending.add("hospital", T0, 31.1, weight=20.5)
        assert first(guidance, lots, outlook(pending.counts(T0)))[0] == "mall"
        later = T0 + timedelta(seconds=31.1 + 60 + 1)
        assert pending.count("hospital", later) == 0
        assert first(guidance, lots, outlook(pending.counts(later)))[0] == "hospital"


class TestNeeds:
    def test_category_height_and_window_filter_lots(self) -> None:
        capacity = "    capacity: {general: 100, disabled: 4}"
        guidance = build_guidance(site_config(**{capacity: capacity + "\n    height_limit_m: 2.0"}))
        lots = views(hospital=60, mall=300)
        lots["hospital"] = LotView(
            "hospital",
            "open",
            62,
            104,
            "stable",
            0.0,
            {GENERAL: CategoryView(60, 100, "open"), "disabled": CategoryView(2, 4, "open")},
            True,
        )
        recommend = guidance.recommend_from_board
        assert [r.lot for r in recommend("north", "general/main", lots, Needs("disabled"))] == ["hospital"]
        assert "hospital" not in [
            r.lot for r in recommend("north", "general/main", lots, Needs(height_m=2.3))
        ]
        outside_window = dict(lots, mall=LotView("mall", "open", 300, 500, "stable", 0.0, {}, False))
        assert [r.lot for r in recommend("north", "general/main", outside_window)] == ["hospital"]

    def test_the_destination_changes_the_walk(self, guidance: GuidanceService) -> None:
        lots = views(hospital=60, mall=300)
        main = {r.lot: r for r in guidance.recommend_from_board("north", "general/main", lots)}
        emergency = {r.lot: r for r in guidance.recommend_from_board("north", "general/emergency", lots)}
        assert emergency["mall"].cost is not None
        assert main["mall"].cost is not None
        assert emergency["mall"].cost.walk_s < main["mall"].cost.walk_s  # the mall is beside emergency


class TestFillShare:
    def test_a_category_takes_its_share_of_the_lots_fill(self) -> None:
        params = site_config().guidance
        lot = LotView(
            "hospital",
            "open",
            64,
            104,
            "falling",
            -1040.0,  # 10 an hour a space: 1,000 of them general, 40 disabled
            {GENERAL: CategoryView(60, 100, "open"), "disabled": CategoryView(4, 4, "open")},
            True,
        )
        general = expect(lot, GENERAL, 360.0, NO_OUTLOOK, params)
        disabled = expect(lot, "disabled", 360.0, NO_OUTLOOK, params)
        assert general is not None
        assert disabled is not None
        assert general.expected_free == pytest.approx(60 - 100.0)  # 1,000 an hour over 6 minutes
        assert disabled.expected_free == pytest.approx(4 - 4.0)

    def test_a_lot_without_a_capacity_counts_its_whole_fill(self) -> None:
        lot = LotView("x", "open", 5, 0, "falling", -60.0, {GENERAL: CategoryView(5, 0, "open")}, True)
        got = expect(lot, GENERAL, 60.0, NO_OUTLOOK, site_config().guidance)
        assert got is not None
        assert got.expected_free == pytest.approx(4.0)

    def test_the_full_probability_is_the_standard_normal(self) -> None:
        assert normal_cdf(0.0) == 0.5
        assert normal_cdf(1.0) == pytest.approx(0.8413447, abs=1e-7)
        assert normal_cdf(-2.0) == pytest.approx(0.0227501, abs=1e-7)


class TestWait:
    """The wait at the gate: spaces still needed x mean stay / occupied spaces, less the drive."""

    LOT = LotView("x", "full", 9, 10, "stable", 0.0, {GENERAL: CategoryView(9, 10, "open")}, True)

    def wait(self, expected_free: float, drive_s: float = 0.0, lot: LotView = LOT) -> float:
        return wait_s(lot, GENERAL, drive_s, Expectation(expected_free, 3.0, 0.5), site_config().guidance)

    def test_no_wait_with_a_space_expected(self) -> None:
        assert self.wait(1.0) == 0.0
        assert self.wait(2.0) == 0.0

    def test_half_a_space_short_with_one_space_occupied(self) -> None:
        stay = site_config().guidance.mean_stay_s
        assert self.wait(0.5) == pytest.approx(0.5 * stay / 1)
        assert self.wait(0.5, drive_s=100.0) == pytest.approx(0.5 * stay - 100.0)

    def test_every_occupied_space_frees_in_turn(self) -> None:
        stay = site_config().guidance.mean_stay_s
        lot = LotView("x", "full", 2, 100, "stable", 0.0, {GENERAL: CategoryView(2, 100, "full")}, True)
        assert self.wait(-1.0, lot=lot) == pytest.approx(2 * stay / 98)
