"""Routes and ranking, specified on the small test site."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from types import MappingProxyType

import pytest

from parking.availability import Availability, LotView
from parking.availability.views import CategoryView
from parking.config import Config
from parking.guidance import RouteTable, build_road_graph, rank, ranking
from parking.guidance.expected import Outlook, expect
from parking.guidance.pending import MAX_PENDING_PER_LOT, PendingArrivals, board_traffic_per_h
from parking.guidance.routes import Reach, arrow_for
from parking.guidance.service import GuidanceService, Needs, Origin, Recommendation
from parking.observations import LotObservation, SpotObservation
from parking.types import GENERAL, Status
from signage.board import compose_lines
from tests.helpers.site import T0, fill_all, site_config

CONFIG = site_config()
# the board north stands at n1; these put it 11 m north of the road, on the node or not
BOARD_AT_N1 = "lat: 30.0, lon: 120.0, facing_deg: 90, node: n1,"
BESIDE_N1 = "lat: 30.0001, lon: 120.0, facing_deg: 90, node: n1,"
BESIDE_N1_NO_NODE = "lat: 30.0001, lon: 120.0, facing_deg: 90,"


@pytest.fixture
def routes() -> RouteTable:
    return RouteTable(CONFIG, build_road_graph(CONFIG.roads))


@pytest.fixture
def state() -> Availability:
    return Availability(CONFIG, T0)


def views(state: Availability) -> dict[str, LotView]:
    return {v.id: v for v in state.views()}


def service(config: Config = CONFIG) -> GuidanceService:
    roads = build_road_graph(config.roads)
    return GuidanceService(config, RouteTable(config, roads), roads)


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def board_lots(capacities: dict[str, int], free: dict[str, int], open_above: int) -> dict[str, LotView]:
    """Lots with general spaces only: free as given (0 if not named), full at or below `open_above`."""
    out: dict[str, LotView] = {}
    for lot, capacity in capacities.items():
        n = free.get(lot, 0)
        status: Status = "open" if n > open_above else "full"
        cat = CategoryView(n, capacity, status)
        out[lot] = LotView(lot, status, n, capacity, "stable", 0.0, {GENERAL: cat}, True)
    return out


class TestRoutes:
    def test_drive_time_follows_the_road_graph(self, routes: RouteTable) -> None:
        by_lot = {r.lot: r for r in routes.routes("north")}
        # n1 -> n2 on Main Road at 36 km/h (10 m/s), ~111 m, then n2 -> n6 at 18 km/h (5 m/s), ~100 m
        assert by_lot["hospital"].drive_s == pytest.approx(111 / 10 + 100 / 5, rel=0.02)
        assert by_lot["street"].drive_m == pytest.approx(444, rel=0.02)

    def test_arrow_is_the_first_turn_from_the_boards_facing(self, routes: RouteTable) -> None:
        by_lot = {r.lot: r.arrow for r in routes.routes("north")}
        assert by_lot["hospital"] == "left"  # facing east, Hospital Lane turns north
        assert by_lot["street"] == "ahead"
        assert by_lot["tower"] == "ahead"  # the turn is beyond the look-ahead

    def test_a_board_never_sends_drivers_into_a_u_turn_where_it_stands(self) -> None:
        # a board at n3 facing east: the hospital lane (n2 -> n6) is behind it
        config = site_config(**{"node: n1,": "node: n3,"})
        routes = RouteTable(config, build_road_graph(config.roads))
        hospital = next(r for r in routes.routes("north") if r.lot == "hospital")
        # no U-turn at the n4 junction: ahead to the dead end at n5 and round there, back past
        # the board, up the lane; the arrow is the first real choice, ahead at n4 (#21.4; the
        # turn at the dead end offers no other way)
        assert hospital.path == ("n3", "n4", "n5", "n4", "n3", "n2", "n6")
        assert hospital.drive_s == pytest.approx(5 * 111 / 10 + 100 / 5, rel=0.02)
        assert hospital.arrow == "ahead"

    @pytest.mark.parametrize(
        ("turn", "arrow"),
        [
            (0, "ahead"),
            (20, "ahead"),
            (34.9, "ahead"),
            (35, "ahead_right"),
            (-35, "ahead_left"),
            (45, "ahead_right"),
            (67.4, "ahead_right"),
            (67.5, "right"),
            (-67.5, "left"),
            (149.9, "right"),
            (150, "back"),
            (-150, "back"),
            (90, "right"),
            (-90, "left"),
            (-50, "ahead_left"),
            (170, "back"),
            (-179, "back"),
        ],
    )
    def test_turn_angles_map_to_six_arrows(self, turn: float, arrow: str) -> None:
        assert arrow_for(turn) == arrow


class TestRanking:
    def test_cheapest_drive_plus_walk_first(self, routes: RouteTable, state: Availability) -> None:
        fill_all(state)
        ranked = [c.route.lot for c in rank(routes.routes("north"), views(state))]
        costs = [c.cost_s for c in rank(routes.routes("north"), views(state))]
        assert ranked[0] == "hospital"
        assert costs == sorted(costs)
        assert set(ranked) == {"hospital", "tower", "mall", "street"}

    def test_full_unknown_and_closed_lots_are_not_recommended(
        self, routes: RouteTable, state: Availability
    ) -> None:
        fill_all(state)
        late = T0.replace(hour=22, minute=30)  # tower closes at 22:00, mall window is over
        state.apply(LotObservation("hospital", free=0), late)
        for n in range(1, 11):  # the bays' heartbeats (silent for 30 minutes, a bay is unknown); S03 left
            state.apply(SpotObservation("street", f"S{n:02d}", occupied=n > 3), late)
        state.tick(late)
        ranked = [c.route.lot for c in rank(routes.routes("north"), views(state))]
        assert ranked == ["street"]

    def test_a_lot_full_for_general_visitors_is_offered_for_a_category_with_room(
        self, routes: RouteTable, state: Availability
    ) -> None:
        fill_all(state)
        state.apply(LotObservation("tower", free=2, categories={"general": 0, "ev": 2}), T0)
        general = [c.route.lot for c in rank(routes.routes("north"), views(state))]
        ev = {c.route.lot: c.free for c in rank(routes.routes("north"), views(state), category="ev")}
        assert "tower" not in general
        assert ev["tower"] == 2

    def test_category_need_filters_lots(self, routes: RouteTable, state: Availability) -> None:
        fill_all(state)
        state.apply(SpotObservation("street", "E1", occupied=False), T0)
        state.apply(SpotObservation("street", "E2", occupied=True), T0)  # both ev bays known
        ranked = [c.route.lot for c in rank(routes.routes("north"), views(state), category="ev")]
        assert ranked == ["street"]


class TestService:
    def test_a_board_on_a_node_stands_there_facing_its_way(self) -> None:
        guidance = service(site_config(**{BOARD_AT_N1: BESIDE_N1}))
        assert guidance.board_origin("north") == Origin("n1", 0.0, 90.0)

    def test_a_board_without_a_node_stands_at_the_nearest_one(self) -> None:
        origin = service(site_config(**{BOARD_AT_N1: BESIDE_N1_NO_NODE})).board_origin("north")
        assert (origin.node, origin.heading_deg) == ("n1", 90.0)
        assert origin.snap_m == pytest.approx(11.1, abs=0.1)

    def test_a_position_snaps_to_the_nearest_node_with_no_heading(self) -> None:
        origin = service().snap(30.0001, 120.0023)
        assert (origin.node, origin.heading_deg) == ("n3", None)
        assert origin.snap_m == pytest.approx(11.1, abs=0.1)

    def test_recommendations_are_the_ranked_lots_from_the_origin(
        self, routes: RouteTable, state: Availability
    ) -> None:
        fill_all(state)
        guidance = service()
        recs = guidance.recommend(Origin("n1", 0.0, 90.0), "general/main", views(state))
        expected = rank(routes.routes_from("n1", 90.0, "general/main"), views(state), model=guidance.model)
        assert [(r.lot, r.view, r.route, r.cost) for r in recs] == [
            (c.route.lot, c.view, c.route, c.cost) for c in expected
        ]
        assert len(recs) == 4

    def test_a_limit_keeps_the_cheapest(self, state: Availability) -> None:
        fill_all(state)
        guidance = service()
        every = guidance.recommend(Origin("n1", 0.0, 90.0), "general/main", views(state))
        assert guidance.recommend(Origin("n1", 0.0, 90.0), "general/main", views(state), limit=2) == every[:2]

    def test_a_heading_closes_the_way_behind_for_the_first_move(self, state: Availability) -> None:
        fill_all(state)
        guidance = service()

        def hospital_path(heading: float | None) -> tuple[str, ...]:
            recs = guidance.recommend(Origin("n3", 0.0, heading), "general/main", views(state))
            route = next(r.route for r in recs if r.lot == "hospital")
            assert route is not None
            return route.path

        assert hospital_path(None) == ("n3", "n2", "n6")
        assert hospital_path(90.0) == ("n3", "n4", "n5", "n4", "n3", "n2", "n6")  # facing east

    def test_a_need_for_a_category_ranks_lots_by_that_category(self, state: Availability) -> None:
        fill_all(state)
        state.apply(SpotObservation("street", "E1", occupied=False), T0)
        state.apply(SpotObservation("street", "E2", occupied=True), T0)
        recs = service().recommend(Origin("n1", 0.0, 90.0), "general/main", views(state), Needs("ev"))
        assert [r.lot for r in recs] == ["street"]

    def test_lots_lower_than_the_vehicle_are_left_out(self) -> None:
        tower = "capacity: {general: 200, ev: 10}"
        config = site_config(**{tower: f"{tower}\n    height_limit_m: 2.0"})
        state = Availability(config, T0)
        fill_all(state)
        guidance = service(config)

        def lots(needs: Needs) -> list[str]:
            return [
                r.lot
                for r in guidance.recommend(Origin("n1", 0.0, 90.0), "general/main", views(state), needs)
            ]

        assert "tower" in lots(Needs())
        assert "tower" in lots(Needs(height_m=2.0))  # exactly the limit fits
        assert "tower" not in lots(Needs(height_m=2.1))
        assert len(lots(Needs(height_m=2.1))) == 3

    def test_from_a_board_any_destination_is_routed_from_where_it_stands(self, state: Availability) -> None:
        fill_all(state)
        guidance = service()
        origin, lots = guidance.board_origin("north"), views(state)
        for destination in ("general/main", "general/emergency"):  # its own one, and another
            assert guidance.recommend_from_board("north", destination, lots, Needs(), limit=2) == (
                guidance.recommend(origin, destination, lots, Needs(), limit=2)
            ), destination
        own = guidance.recommend_from_board("north", "general/main", lots, limit=2)
        other = guidance.recommend_from_board("north", "general/emergency", lots, limit=2)
        assert [r.route for r in own] != [r.route for r in other]  # the walks end at different doors


class TestPendingArrivals:
    def test_a_driver_sent_to_a_lot_is_on_the_way_until_the_eta_plus_the_slack(self) -> None:
        pending = PendingArrivals(slack_s=60)
        assert pending.add("tower", T0, eta_s=120) == T0 + s(180)
        assert [pending.count("tower", T0 + s(at)) for at in (0, 179.999, 180)] == [1, 1, 0]

    def test_counts_name_only_lots_with_drivers_on_their_way(self) -> None:
        pending = PendingArrivals(slack_s=0)
        for lot, eta_s in (("tower", 60), ("tower", 600), ("mall", 300)):
            pending.add(lot, T0, eta_s)
        assert pending.counts(T0) == {"tower": 2, "mall": 1}
        assert pending.counts(T0 + s(400)) == {"tower": 1}
        assert pending.count("street", T0) == 0

    def test_a_flood_of_answers_keeps_the_cap_dropping_the_soonest_to_expire(self) -> None:
        pending = PendingArrivals(slack_s=0)
        for eta_s in range(1, MAX_PENDING_PER_LOT + 2):
            pending.add("tower", T0, eta_s)
        assert pending.count("tower", T0) == MAX_PENDING_PER_LOT
        assert pending.count("tower", T0 + s(1)) == MAX_PENDING_PER_LOT  # the one due at 1 s was dropped


class TestQueueAnswer:
    """Every lot predicted full: the answer is a queue at the lot where a space comes soonest.

    From board north: hospital 31.1 s drive + 105.0 s walk (104 spaces), mall 44.3 s
    + 219.4 s (500), street 44.3 s + 296.8 s (12 bays, nowhere to wait), tower
    53.2 s + 256.0 s (210). A space frees once a mean_stay_s (2,400 s) per occupied space.
    """

    CAPACITY = {"hospital": 104, "tower": 210, "street": 12, "mall": 500}  # noqa: RUF012

    def lots(self, **free: int) -> dict[str, LotView]:
        """Each lot with this many free (0 if not named), open above 5 free, else full."""
        return board_lots(self.CAPACITY, free, open_above=5)

    def first(self, lots: dict[str, LotView], pending: dict[str, float] | None = None) -> Recommendation:
        seen = Outlook(MappingProxyType(pending or {}))
        return service().recommend_from_board("north", "general/main", lots, outlook=seen)[0]

    def test_with_every_lot_full_drivers_queue_where_the_door_is_soonest(self) -> None:
        rec = self.first(self.lots())
        # one space frees at the hospital every 2,400 / 104 = 23 s: before the 31 s drive is over
        assert (rec.lot, rec.queue) == ("hospital", True)
        assert rec.cost is not None
        assert rec.cost.wait_s == 0.0

    def test_drivers_already_sent_are_ahead_in_the_queue(self) -> None:
        rec = self.first(self.lots(), pending={"hospital": 10.0})
        # the hospital: 11 spaces to free, 11 x 23.1 s - 31.1 s = 222.7 s wait, 358.8 s in all;
        # the mall: a space every 4.8 s, none to wait for: 263.7 s
        assert (rec.lot, rec.queue) == ("mall", True)
        hospital = ranking.soonest_space(
            service().routes.reaches("north"),
            self.lots(),
            GENERAL,
            service().model,
            Outlook(MappingProxyType({"hospital": 10.0, "mall": 10_000.0, "tower": 10_000.0})),
        )
        assert hospital is not None
        assert hospital.route.lot == "hospital"
        assert hospital.cost.wait_s == pytest.approx(11 * 2400 / 104 - 31.1, abs=0.5)

    def test_no_queue_answer_while_a_lot_has_no_count(self) -> None:
        lots = self.lots()
        lots["tower"] = lots["tower"]._replace(
            status="unknown",
            free=None,
            categories={GENERAL: CategoryView(None, 210, "unknown")},
        )
        assert service().recommend_from_board("north", "general/main", lots) == []  # it may have space

    def test_a_lot_with_a_space_expected_is_never_displaced_by_a_queue(self) -> None:
        rec = self.first(self.lots(tower=80))
        assert (rec.lot, rec.queue) == ("tower", False)

    def test_nobody_is_told_to_queue_for_street_bays(self) -> None:
        lots = self.lots()
        for lot in ("hospital", "tower", "mall"):
            lots[lot] = lots[lot]._replace(accepts_visitors=False)
        assert service().recommend_from_board("north", "general/main", lots) == []

    def test_a_place_in_line_that_costs_less_beats_a_likely_full_lot(self) -> None:
        # the tower has 2 free of 210 (reserve 10.5): over its 53.2 s drive 208 x 53.2 / 2,400 = 4.6
        # of its cars leave and as many arrive, so it is full on arrival about one time in three
        # (then a wait at its gate); in line at the hospital a space frees before the 31 s drive
        # ends, and the drive and walk there are 2.9 minutes shorter
        rec = self.first(self.lots(tower=2))
        assert (rec.lot, rec.queue) == ("hospital", True)
        assert rec.cost is not None
        assert rec.cost.total_s == pytest.approx(31.1 + 105.0, abs=0.5)

    def test_a_lot_expected_to_have_a_space_is_ranked_as_one_not_offered_as_a_line(self) -> None:
        # the hospital has 8 free and 4 drivers on their way: 4 expected, below its reserve of 5.2,
        # about 1 in 10 full on arrival (then a space frees at its gate in 2,400 s / 104): the
        # cheapest, and never offered as a line itself while a space is expected there
        rec = self.first(self.lots(hospital=8), pending={"hospital": 4.0})
        assert (rec.lot, rec.queue) == ("hospital", False)
        assert rec.expectation is not None
        assert rec.expectation.below_reserve
        assert not rec.expectation.predicted_full

    def test_the_board_shows_queue_with_the_wait_in_its_minutes(self) -> None:
        decision = service().for_board("north", self.lots(), Outlook(MappingProxyType({"hospital": 10.0})))
        assert decision.best is not None
        assert decision.best.queue
        line = next(line for line in compose_lines(decision, defaultdict(str)) if line.lot == "mall")
        assert (line.display, line.arrow is not None, line.minutes) == ("QUEUE", True, 5)  # 263.7 s

    def test_the_queue_answer_comes_first_and_every_lot_predicted_full_follows(self) -> None:
        lots = self.lots(hospital=6, mall=6, tower=6)  # open, but 10 drivers already sent to each
        pending = {"hospital": 10.0, "mall": 10.0, "tower": 10.0}
        recs = service().recommend_from_board(
            "north", "general/main", lots, outlook=Outlook(MappingProxyType(pending))
        )
        assert recs[0].queue
        assert sorted(rec.lot for rec in recs) == ["hospital", "mall", "tower"]
        assert [rec.queue for rec in recs] == [True, False, False]

    def test_the_queue_answer_says_what_to_expect_there(self) -> None:
        rec = self.first(self.lots())
        assert rec.expectation is not None
        assert rec.expectation.expected_free == 0.0
        assert rec.expectation.predicted_full

    def test_an_open_or_almost_full_lot_expected_full_is_a_place_to_queue(self) -> None:
        for status in ("open", "almost_full"):
            lots = self.lots()
            lots["hospital"] = lots["hospital"]._replace(
                status=status, free=20, categories={GENERAL: CategoryView(20, 104, status)}
            )
            for lot in ("mall", "tower"):
                lots[lot] = lots[lot]._replace(accepts_visitors=False)
            rec = self.first(lots, pending={"hospital": 30.0})
            assert (rec.lot, rec.queue) == ("hospital", True)

    def test_a_lot_outside_its_window_is_passed_over_for_the_queue(self) -> None:
        lots = self.lots()
        lots["hospital"] = lots["hospital"]._replace(accepts_visitors=False)
        rec = self.first(lots)
        assert (rec.lot, rec.queue) == ("mall", True)

    def test_a_board_whose_pinned_lot_is_the_queue_answer_shows_it_pinned_as_the_queue(self) -> None:
        decision = service().for_board("north", self.lots())
        assert decision.best is not None
        assert (decision.best.lot, decision.best.queue) == ("hospital", True)
        pinned = decision.lines[0]
        assert (pinned.lot, pinned.pinned, pinned.queue) == ("hospital", True, True)
        assert pinned.cost == decision.best.cost
        assert pinned.expectation == decision.best.expectation

    def test_the_pinned_lots_after_a_pinned_queue_answer_keep_their_lines(self) -> None:
        boards = [b.model_copy(update={"pinned": ["hospital", "tower"]}) for b in CONFIG.boards]
        decision = service(CONFIG.model_copy(update={"boards": boards})).for_board("north", self.lots())
        assert [(line.lot, line.pinned, line.queue) for line in decision.lines[:2]] == [
            ("hospital", True, True),
            ("tower", True, False),
        ]

    def test_a_pinned_lot_that_is_not_the_queue_answer_keeps_its_own_line(self) -> None:
        seen = Outlook(MappingProxyType({"hospital": 20.0}))
        decision = service().for_board("north", self.lots(hospital=6), seen)
        assert decision.best is not None
        assert (decision.best.lot, decision.best.queue) == ("mall", True)
        pinned = decision.lines[0]
        assert (pinned.lot, pinned.pinned, pinned.queue) == ("hospital", True, False)
        assert pinned.expectation is not None
        assert pinned.expectation.expected_free == pytest.approx(-14.0)


class TestRiskAndSearch:
    def lots(self, **free: int) -> dict[str, LotView]:
        return TestQueueAnswer().lots(**free)

    def test_a_lot_with_no_risk_of_being_full_costs_no_detour(self) -> None:
        recs = service().recommend_from_board("north", "general/main", self.lots(hospital=60, mall=300))
        assert [rec.lot for rec in recs] == ["hospital", "mall"]
        assert all(rec.cost is not None and rec.cost.full_risk_s == 0.0 for rec in recs)

    def test_street_bays_cost_the_search_for_a_free_bay(self) -> None:
        recs = service().recommend_from_board("north", "general/main", self.lots(street=10))
        assert recs[0].lot == "street"
        assert recs[0].cost is not None
        assert recs[0].cost.search_s == CONFIG.guidance.street_search_s

    def test_a_full_lot_on_the_way_does_not_hide_the_lots_after_it(self) -> None:
        lots = self.lots(mall=300, tower=80, street=10)
        assert [rec.lot for rec in service().recommend_from_board("north", "general/main", lots)] == [
            "mall",
            "tower",
            "street",
        ]

    def test_drivers_already_sent_count_for_a_board_answer_to_another_destination(self) -> None:
        lots = self.lots(hospital=12, mall=300)
        seen = Outlook(MappingProxyType({"hospital": 12.0}))
        sent = service().recommend_from_board("north", "general/emergency", lots, outlook=seen)
        assert [rec.lot for rec in sent][-1] == "hospital"
        assert sent[-1].expectation is not None
        assert sent[-1].expectation.expected_free == pytest.approx(0.0)


class TestBoardTraffic:
    def test_a_boards_count_for_the_hour_overrides_its_one_figure(self) -> None:
        board = CONFIG.boards[0].model_copy(update={"traffic_per_h": 80.0, "traffic_by_hour": {9: 140.0}})
        nine = datetime(2026, 11, 25, 9, 59)
        assert board_traffic_per_h(board, nine, 120.0) == 140.0  # the peak, not the morning's average
        assert board_traffic_per_h(board, nine.replace(hour=10), 120.0) == 80.0
        plain = CONFIG.boards[0].model_copy(update={"traffic_per_h": None, "traffic_by_hour": {}})
        assert board_traffic_per_h(plain, nine, 120.0) == 120.0  # guidance.board_traffic_per_h


class TestDriversAlreadySent:
    def test_drivers_sent_who_arrived_are_not_counted_again_in_the_fill_rate(self) -> None:
        # the tower's free count fell by 120 an hour; 90 of those an hour were drivers we sent
        # (ETAs in the last 15 minutes), so only 30 an hour are its own and count over the drive
        cap = 210
        tower = LotView(
            "tower", "open", 40, cap, "falling", -120.0, {GENERAL: CategoryView(40, cap, "open")}, True
        )
        pending = PendingArrivals(slack_s=300)
        for minute in range(15):
            pending.add("tower", T0 + s(60 * minute - 60), 60.0, weight=1.5)  # due each minute
        now = T0 + s(15 * 60 - 1)
        arrived = pending.arrived_per_h("tower", now, timedelta(minutes=15))
        assert arrived == pytest.approx(90.0)
        seen = Outlook(arrived_per_h=MappingProxyType({"tower": arrived}))
        got = expect(tower, GENERAL, 600.0, seen, CONFIG.guidance)
        assert got is not None
        assert got.expected_free == pytest.approx(40 - 30 * 600 / 3600)
        blind = expect(tower, GENERAL, 600.0, Outlook(), CONFIG.guidance)
        assert blind is not None
        assert blind.expected_free == pytest.approx(40 - 120 * 600 / 3600)


class TestDetour:
    """What finding a lot full costs: the chance of it times the way on to the best other lot.

    The wait at a gate would be shorter here (the mall frees a space every 2,400 s / 500),
    so these specs rank with no gate to wait at, to show the way on; `TestFullCost` the rest.
    From board north (TestQueueAnswer's figures): between the lots' entrances the
    mall and the street bays share n5 (0 s), the tower is 62.2 s from the hospital
    and 31.1 s from the mall and street; walks hospital 105.0 s, tower 256.0 s,
    street 296.8 s (plus its 60 s search), mall 219.4 s. The mall with 6 of 500
    free is full on arrival about one time in ten.
    """

    CAPACITY = TestQueueAnswer.CAPACITY

    def lots(self, **free: int) -> dict[str, LotView]:
        """Each lot open with this many free (0: full), in the order the board reaches them."""
        return board_lots(self.CAPACITY, free, open_above=0)

    def ranked(
        self, lots: dict[str, LotView], pending: dict[str, float] | None = None
    ) -> dict[str, ranking.Candidate[Reach]]:
        guidance = service()
        seen = Outlook(MappingProxyType(pending or {}))
        no_gates = replace(guidance.model, queue_lots=frozenset())
        got = rank(guidance.routes.reaches("north"), lots, GENERAL, model=no_gates, outlook=seen)
        return {c.route.lot: c for c in got}

    def mall_risk_s(self, by_lot: dict[str, ranking.Candidate[Reach]]) -> tuple[float, float]:
        mall = by_lot["mall"]
        assert mall.expectation is not None
        assert mall.expectation.full_probability == pytest.approx(0.105, abs=0.001)
        return mall.cost.full_risk_s, mall.expectation.full_probability

    def test_the_detour_to_street_bays_counts_their_search_for_a_free_bay(self) -> None:
        risk_s, chance = self.mall_risk_s(self.ranked(self.lots(mall=6, street=10)))
        # on from the mall to the street bays at the same node: their walk and their search,
        # less the mall's own walk
        assert risk_s == pytest.approx(chance * (296.8 + 60.0 - 219.4), abs=0.1)

    def test_a_lot_with_exactly_its_reserve_left_is_a_way_on(self) -> None:
        # 3 free of the street's 12: exactly its reserve of 3 spaces
        risk_s, chance = self.mall_risk_s(self.ranked(self.lots(mall=6, street=3)))
        assert risk_s == pytest.approx(chance * (296.8 + 60.0 - 219.4), abs=0.1)

    def test_with_no_lot_to_go_on_to_finding_a_lot_full_costs_the_fixed_detour(self) -> None:
        risk_s, chance = self.mall_risk_s(self.ranked(self.lots(mall=6, street=2)))  # below its reserve
        assert risk_s == pytest.approx(chance * CONFIG.guidance.no_alternative_s)

    def test_the_way_on_to_a_car_park_adds_no_search_for_a_bay(self) -> None:
        # the street bays are below their reserve; the tower, with 60 free, is the way on: 31.1 s
        # from the mall's entrance and its 256.0 s walk, less the mall's own 219.4 s walk
        risk_s, chance = self.mall_risk_s(self.ranked(self.lots(mall=6, street=2, tower=60)))
        assert risk_s == pytest.approx(chance * (31.1 + 256.0 - 219.4), abs=0.05)

    def test_drivers_already_sent_to_the_lot_on_the_way_on_leave_it_out(self) -> None:
        # the hospital has 8 free, above its reserve of 5.2, but 4 drivers are already on their
        # way there: it is no way on for a driver who finds the mall full, the street bays are
        by_lot = self.ranked(self.lots(mall=6, street=10, hospital=8), pending={"hospital": 4.0})
        risk_s, chance = self.mall_risk_s(by_lot)
        assert risk_s == pytest.approx(chance * (296.8 + 60.0 - 219.4), abs=0.1)
        # with them not yet sent the hospital is the way on, nearer than the mall's own door
        alone = self.ranked(self.lots(mall=6, street=10, hospital=8))
        assert self.mall_risk_s(alone)[0] == 0.0

    def test_a_way_on_nearer_than_the_lots_own_walk_costs_nothing_not_less(self) -> None:
        # the tower with 2 free is full one time in three; from its entrance the hospital is
        # 62.2 s + 105.0 s walk, less than the tower's own 256.0 s walk: no cost, not a gain
        tower = self.ranked(self.lots(tower=2, hospital=60))["tower"]
        assert tower.expectation is not None
        assert tower.expectation.full_probability == pytest.approx(0.32, abs=0.01)
        assert tower.cost.full_risk_s == 0.0


class TestFullCost:
    """One expected time to the door: drive + walk + search + P(full) x what finding it full costs."""

    def lots(self, **free: int) -> dict[str, LotView]:
        return TestDetour().lots(**free)

    def ranked(
        self, lots: dict[str, LotView], pending: dict[str, float] | None = None
    ) -> list[ranking.Candidate[Reach]]:
        guidance = service()
        seen = Outlook(MappingProxyType(pending or {}))
        return rank(guidance.routes.reaches("north"), lots, GENERAL, model=guidance.model, outlook=seen)

    def test_with_no_risk_the_cost_is_drive_walk_and_search(self) -> None:
        by_lot = {c.route.lot: c for c in self.ranked(self.lots(hospital=60, tower=200, street=12, mall=500))}
        for lot, search_s in (("hospital", 0.0), ("tower", 0.0), ("street", 60.0), ("mall", 0.0)):
            candidate = by_lot[lot]
            assert candidate.expectation is not None
            assert candidate.expectation.full_probability < ranking.NEGLIGIBLE_RISK
            route = candidate.route
            assert candidate.cost_s == pytest.approx(route.drive_s + route.walk_s + search_s)

    def test_a_small_risk_of_a_short_detour_beats_a_safe_lot_ten_minutes_further(self) -> None:
        near = ranking.Cost(drive_s=60.0, walk_s=60.0, full_risk_s=0.13 * 60.0)
        far = ranking.Cost(drive_s=660.0, walk_s=60.0)
        assert near.total_s < far.total_s
        # in the ranking: the mall with 6 of 500 free is full one time in ten; a gate there, or the
        # street bays on the same node, make that a short wait or detour, cheaper than the tower
        got = self.ranked(self.lots(mall=6, street=10, tower=200))
        mall = next(c for c in got if c.route.lot == "mall")
        assert mall.expectation is not None
        assert mall.expectation.below_reserve
        assert [c.route.lot for c in got].index("mall") < [c.route.lot for c in got].index("tower")

    def test_a_likely_full_lot_with_a_long_way_on_loses_to_a_slightly_further_safe_lot(self) -> None:
        # no gate to wait at: the hospital with 1 free and 3 drivers on the way is likely full, and
        # the way on from it is the mall; the mall, a little further, is safe, and wins
        by_lot = TestDetour().ranked(self.lots(hospital=1, mall=500), pending={"hospital": 3.0})
        hospital, mall = by_lot["hospital"], by_lot["mall"]
        assert hospital.expectation is not None
        assert hospital.expectation.full_probability > 0.8
        assert mall.cost.full_risk_s == 0.0
        assert hospital.route.drive_s + hospital.route.walk_s < mall.cost_s  # nearer, without its risk
        assert mall.cost_s < hospital.cost_s
        assert list(by_lot) == ["mall", "hospital"]

    def test_found_full_at_a_gate_the_wait_counts_when_shorter_than_the_way_on(self) -> None:
        # the mall, 6 of 500 free, full one time in ten: a space frees every 2,400 s / 500 = 4.8 s
        got = {c.route.lot: c for c in self.ranked(self.lots(mall=6, street=10))}
        mall = got["mall"]
        assert mall.expectation is not None
        assert mall.cost.full_risk_s == pytest.approx(mall.expectation.full_probability * 2400 / 500)
        # with drivers ahead beyond its spaces the wait grows past the way on, which counts then
        ahead = {c.route.lot: c for c in self.ranked(self.lots(mall=6, street=10), pending={"mall": 40.0})}
        crowded = ahead["mall"]
        assert crowded.expectation is not None
        assert crowded.cost.full_risk_s == pytest.approx(
            crowded.expectation.full_probability * (296.8 + 60.0 - 219.4), abs=0.1
        )


class TestQueueOrLot:
    """With no lot expected to keep its reserve, a place in line is weighed against the lots."""

    def lots(self, **free: int) -> dict[str, LotView]:
        return TestDetour().lots(**free)

    def test_a_lot_with_a_space_but_not_its_reserve_is_weighed_against_a_place_in_line(self) -> None:
        # the tower, open with 2 free (reserve 10.5), is the only lot with a space: full on arrival
        # one time in three, with nowhere to go on (900 s); in line at the hospital a space frees
        # before the 31 s drive ends
        lots = self.lots(tower=2)
        guidance = service()
        got = rank(guidance.routes.reaches("north"), lots, GENERAL, model=guidance.model)
        assert [(c.route.lot, c.queue) for c in got] == [("hospital", True), ("tower", False)]
        tower = got[1]
        assert tower.expectation is not None
        assert tower.expectation.below_reserve
        assert not tower.expectation.predicted_full
        assert got[0].cost_s < tower.cost_s

    def test_the_queue_comes_before_a_lot_predicted_full_even_one_that_costs_less(self) -> None:
        # the street bays have 1 free and a driver already on the way: none expected; every line is
        # long (100 drivers ahead at the hospital: about 38 minutes), yet a driver sent to the bays
        # is more likely than not to find them full: the line is the answer, the bays follow
        pending = {"street": 1.0, "hospital": 100.0, "tower": 10_000.0, "mall": 10_000.0}
        guidance = service()
        got = rank(
            guidance.routes.reaches("north"),
            self.lots(street=1),
            GENERAL,
            model=guidance.model,
            outlook=Outlook(MappingProxyType(pending)),
        )
        assert [(c.route.lot, c.queue) for c in got] == [("hospital", True), ("street", False)]
        street = got[1]
        assert street.expectation is not None
        assert street.expectation.predicted_full
        assert street.cost_s < got[0].cost_s


class TestQueuePassesOver:
    """Lots the queue answer passes over do not end its search: the lots after them still count."""

    def lots(self, **free: int) -> dict[str, LotView]:
        return TestQueueAnswer().lots(**free)

    def test_a_closed_lot_ahead_is_passed_over_for_the_queue(self) -> None:
        lots = self.lots()
        closed = CategoryView(None, 104, "closed")
        lots["hospital"] = lots["hospital"]._replace(status="closed", free=None, categories={GENERAL: closed})
        rec = TestQueueAnswer().first(lots)
        assert (rec.lot, rec.queue) == ("mall", True)

    def test_a_lot_where_a_space_is_expected_is_passed_over_for_the_line(self) -> None:
        # the hospital, reached first, has 8 free: a lot to go to, not a line; the mall is the line
        guidance = service()
        queue = ranking.soonest_space(
            guidance.routes.reaches("north"), self.lots(hospital=8), GENERAL, guidance.model, Outlook()
        )
        assert queue is not None
        assert (queue.route.lot, queue.queue) == ("mall", True)
