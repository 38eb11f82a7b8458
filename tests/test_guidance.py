"""Routes and ranking, specified on the small test site."""

from __future__ import annotations

import pytest

from parking.availability import Availability
from parking.guidance import RouteTable, build_road_graph, rank
from parking.guidance.routes import arrow_for
from parking.observations import GateCounterObservation, LotObservation, SpotObservation
from tests.site import T0, site_config

CONFIG = site_config()


@pytest.fixture
def routes() -> RouteTable:
    return RouteTable(CONFIG, build_road_graph(CONFIG.roads))


@pytest.fixture
def state() -> Availability:
    return Availability(CONFIG, T0)


def views(state: Availability) -> dict[str, object]:
    return {v.id: v for v in state.views()}


def fill_all(state: Availability) -> None:
    state.apply(LotObservation("hospital", free=104, categories={"disabled": 4}), T0)  # counted empty
    state.apply(GateCounterObservation("hospital", "north", 0, 0), T0)
    state.apply(LotObservation("tower", free=80), T0)
    state.apply(LotObservation("mall", free=300), T0)
    for n in range(1, 11):  # every general bay reports; S01 and S02 are free
        state.apply(SpotObservation("street", f"S{n:02d}", occupied=n > 2), T0)


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
        # no U-turn at the n4 junction: ahead to the dead end at n5 and round there (the arrow
        # shows that turn), back past the board, up the lane
        assert hospital.path == ("n3", "n4", "n5", "n4", "n3", "n2", "n6")
        assert hospital.drive_s == pytest.approx(5 * 111 / 10 + 100 / 5, rel=0.02)
        assert hospital.arrow == "back"

    @pytest.mark.parametrize(
        ("turn", "arrow"),
        [
            (0, "ahead"),
            (20, "ahead"),
            (45, "ahead_right"),
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
