"""Routes: no U-turns, queries from any node, concurrent queries, and the nearest road node.

Pure: no event loop, no I/O beyond reading the example config.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import networkx as nx
import pytest

from parking.config import Config, load_config, load_config_text
from parking.geo import EARTH_RADIUS_M, distance_m
from parking.guidance import RoadGraph, Route, RouteTable, build_road_graph
from parking.guidance.drive import quickest_drives
from parking.guidance.routes import NO_TURN_BACK_DEG, first_turn, walk_of, walk_seconds

EXAMPLE = Path(__file__).resolve().parent.parent / "config.yaml"

# A block with a long street through it:
#
#            M ---- N
#            v      |
#     W ---- A ---- J ---------------------------- K     (Main Street, K a dead end ~480 m on)
#
# about 96 m between W, A and J, 111 m from the street up to M and N; 36 km/h; all two-way
# but West Lane, one-way from M down to A.
BLOCK_YAML = """
site: {name: Block, timezone: UTC}
hospitals:
  - id: h
    name: Hospital
    destinations: [{id: main, name: Main entrance, lat: 30.0002, lon: 119.9990}]
lots:
  - id: depot
    name: Depot
    feed: lot
    lat: 30.0000
    lon: 119.9990
    capacity: {general: 10}
    entrances: [{lat: 30.0000, lon: 119.9990, node: W}]
boards:
  - {id: b, name: Board, lat: 30.0, lon: 120.0, facing_deg: 90, node: A, destination: h/main}
roads:
  nodes:
    W: [30.0000, 119.9990]
    A: [30.0000, 120.0000]
    J: [30.0000, 120.0010]
    K: [30.0000, 120.0060]
    M: [30.0010, 120.0000]
    N: [30.0010, 120.0010]
  ways:
    - {name: Main Street, nodes: [W, A, J, K], speed_kmh: 36}
    - {name: North Lane, nodes: [J, N], speed_kmh: 36}
    - {name: Back Street, nodes: [N, M], speed_kmh: 36}
    - {name: West Lane, nodes: [M, A], speed_kmh: 36, oneway: true}
"""


def block(**replace: str) -> Config:
    """The block site, with text replacements applied to its YAML first."""
    text = BLOCK_YAML
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return load_config_text(text, source="<block>", env={})


def table(config: Config) -> RouteTable:
    return RouteTable(config, build_road_graph(config.roads))


def depot(routes: list[Route]) -> Route:
    (route,) = routes
    assert route.lot == "depot"
    return route


def u_turns(graph: nx.DiGraph, path: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """Each a, b, a in a path where b has another way out than back to a."""
    triples = zip(path, path[1:], path[2:], strict=False)
    return [(a, b, c) for a, b, c in triples if a == c and set(graph.succ[b]) != {a}]


def edges_digest(graph: nx.DiGraph) -> str:
    edges = sorted((u, v, sorted(d.items())) for u, v, d in graph.edges(data=True))
    return hashlib.sha256(repr(edges).encode()).hexdigest()


@pytest.fixture(scope="module")
def example() -> tuple[Config, RoadGraph, RouteTable]:
    config = load_config(EXAMPLE, env={})
    roads = build_road_graph(config.roads)
    return config, roads, RouteTable(config, roads)


class TestNoUTurn:
    def test_a_car_goes_round_the_block_rather_than_turn_back_at_a_junction(self) -> None:
        # the board at A faces east, so the first move is to J; turning back there would be
        # quickest (A J A W, ~290 m) but J has other ways out: round the block instead
        route = depot(table(block()).routes("b"))
        assert route.path == ("A", "J", "N", "M", "A", "W")
        assert route.drive_m == pytest.approx(96 + 111 + 96 + 111 + 96, rel=0.02)
        assert route.drive_s == pytest.approx(route.drive_m / 10)
        assert route.arrow == "left"  # the first turn, at J, relative to the board's facing

    def test_a_car_turns_back_at_a_dead_end(self) -> None:
        # without the block the street is a cul-de-sac beyond A: drive to its end and come back
        config = block(
            **{
                "    - {name: North Lane, nodes: [J, N], speed_kmh: 36}\n": "",
                "    - {name: Back Street, nodes: [N, M], speed_kmh: 36}\n": "",
                "    - {name: West Lane, nodes: [M, A], speed_kmh: 36, oneway: true}\n": "",
                "nodes: [W, A, J, K]": "nodes: [W, A, J]",
            }
        )
        route = depot(table(config).routes("b"))
        assert route.path == ("A", "J", "A", "W")
        # the turn at J is no choice (a dead end), nor is A (the board faces J): ahead, as the
        # driver can only go (#21.4: the arrow is the first real choice, not the first bend)
        assert route.arrow == "ahead"

    def test_a_long_way_to_a_dead_end_beats_a_u_turn_at_a_junction(self) -> None:
        # without North Lane, J's only other way out is on to K: there and back, ~1250 m
        config = block(**{"    - {name: North Lane, nodes: [J, N], speed_kmh: 36}\n": ""})
        route = depot(table(config).routes("b"))
        assert route.path == ("A", "J", "K", "J", "A", "W")

    def test_no_route_on_the_example_site_turns_back_at_a_junction(
        self, example: tuple[Config, RoadGraph, RouteTable]
    ) -> None:
        _, roads, routes = example
        graph = roads.graph
        checked, found = 0, []
        for node in graph:  # a test board at every node, facing along each road out of it
            for succ in graph.succ[node]:
                for route in routes.routes_from(node, graph.edges[node, succ]["bearing"], "general/main"):
                    checked += 1
                    found += u_turns(graph, route.path)
        assert checked > 1000
        assert found == []

    def test_gate_west_sends_wulin_garage_traffic_right_not_up_the_road_and_back(
        self, example: tuple[Config, RoadGraph, RouteTable]
    ) -> None:
        _, roads, routes = example
        garage = next(r for r in routes.routes("gate-west") if r.lot == "wulin-garage")
        # facing north at n40 on Wulin Road; Wulin Road south is behind the board and
        # turning back at n49 is a U-turn: east on Youdian Road, south down Yixue Lane, west
        assert garage.path == ("n40", "n41", "n32", "n31", "n30", "n29")
        assert garage.arrow == "right"
        assert garage.drive_s == pytest.approx(
            sum(roads.graph.edges[u, v]["travel_s"] for u, v in itertools.pairwise(garage.path))
        )
        assert garage.drive_m == pytest.approx(
            sum(roads.graph.edges[u, v]["length_m"] for u, v in itertools.pairwise(garage.path))
        )


class TestQuickestDrives:
    def test_a_search_for_targets_stops_once_they_are_reached(self) -> None:
        arcs = build_road_graph(block().roads).arcs
        a, w = arcs.index["A"], arcs.index["W"]
        tree = quickest_drives(arcs, a, arcs.out_arcs(a), {w})
        assert w in tree.time_s
        assert arcs.index["K"] not in tree.time_s  # ~480 m further than W: never needed

    def test_a_search_without_targets_reaches_every_node_it_can(self) -> None:
        arcs = build_road_graph(block().roads).arcs
        a = arcs.index["A"]
        tree = quickest_drives(arcs, a, arcs.out_arcs(a))
        assert {arcs.nodes[node] for node in tree.time_s} == {"W", "A", "J", "K", "M", "N"}


class TestRoutesFrom:
    def test_no_heading_lets_the_first_move_go_any_way(self) -> None:
        routes = table(block())
        free = depot(routes.routes_from("A", None, "h/main"))
        assert free.path == ("A", "W")
        assert free.arrow == "ahead"  # arrows are relative to the first edge
        west = depot(routes.routes_from("A", 270.0, "h/main"))
        assert west == free
        east = depot(routes.routes_from("A", 90.0, "h/main"))
        assert east.path == ("A", "J", "N", "M", "A", "W")
        assert east.drive_s > free.drive_s

    def test_an_edge_exactly_the_no_turn_back_angle_off_the_heading_is_behind_the_car(self) -> None:
        config = block()
        roads = build_road_graph(config.roads)
        west = roads.graph.edges["A", "W"]["bearing"]
        route = depot(RouteTable(config, roads).routes_from("A", west - NO_TURN_BACK_DEG, "h/main"))
        assert route.path == ("A", "J", "N", "M", "A", "W")  # A -> W is 135 degrees off: closed

    def test_with_a_heading_the_arrow_is_relative_to_it(self) -> None:
        route = depot(table(block()).routes_from("A", 0.0, "h/main"))  # facing north
        assert (route.path, route.arrow) == (("A", "W"), "left")

    def test_an_unreachable_lot_is_left_out_and_the_lots_after_it_are_not(self) -> None:
        island = (
            "lots:\n"
            "  - id: island\n"
            "    name: Island\n"
            "    feed: lot\n"
            "    lat: 30.0020\n"
            "    lon: 119.9990\n"
            "    capacity: {general: 10}\n"
            "    entrances: [{lat: 30.0020, lon: 119.9990, node: Z}]\n"
        )
        config = block(
            **{
                "lots:\n": island,
                "    M: [30.0010, 120.0000]\n": "    M: [30.0010, 120.0000]\n    Z: [30.0020, 119.9990]\n",
                "  ways:\n": "  ways:\n    - {name: Exit Lane, nodes: [Z, W], speed_kmh: 36, oneway: true}\n",
            }
        )
        assert [route.lot for route in table(config).routes_from("A", None, "h/main")] == ["depot"]

    @pytest.mark.parametrize("order", [("west", "far"), ("far", "west")])
    def test_the_entrance_with_the_quickest_drive_and_walk_is_chosen_in_any_order(
        self, order: tuple[str, str]
    ) -> None:
        entrances = {
            "west": "{id: west, lat: 30.0000, lon: 119.9990, node: W}",
            "far": "{id: far, lat: 30.0000, lon: 120.0060, node: K}",  # a longer drive and walk
        }
        config = block(
            **{
                "entrances: [{lat: 30.0000, lon: 119.9990, node: W}]": (
                    f"entrances: [{entrances[order[0]]}, {entrances[order[1]]}]"
                )
            }
        )
        assert depot(table(config).routes_from("A", None, "h/main")).entrance == "west"

    def test_a_board_gets_the_routes_of_its_node_facing_and_destination(
        self, example: tuple[Config, RoadGraph, RouteTable]
    ) -> None:
        config, _, routes = example
        for board in config.boards:
            assert board.node is not None
            on_demand = routes.routes_from(board.node, board.facing_deg, board.destination)
            assert routes.routes(board.id) == on_demand

    def test_every_example_board_reaches_every_lot_without_a_u_turn(
        self, example: tuple[Config, RoadGraph, RouteTable]
    ) -> None:
        config, _, routes = example
        for board in config.boards:
            assert [r.lot for r in routes.routes(board.id)] == [lot.id for lot in config.lots], board.id

    def test_the_origin_itself_is_reached_without_driving(self) -> None:
        route = depot(table(block()).routes_from("W", 90.0, "h/main"))
        assert (route.path, route.drive_s, route.drive_m, route.arrow) == (("W",), 0.0, 0.0, "ahead")

    def test_walk_is_configured_or_the_straight_line_times_the_detour_factor(
        self, example: tuple[Config, RoadGraph, RouteTable]
    ) -> None:
        config, _, routes = example
        dest = config.destination_ids()["general/emergency"]
        by_lot = {r.lot: r for r in routes.routes_from("n40", 0.0, "general/emergency")}
        entrance = config.lot("wulin-garage").entrances[0]
        garage = by_lot["wulin-garage"]
        straight_m = distance_m(entrance.lat, entrance.lon, dest.lat, dest.lon)
        assert garage.walk_m == pytest.approx(straight_m * config.defaults.walk_detour_factor)
        assert garage.walk_s == pytest.approx(garage.walk_m / config.defaults.walk_speed_mps)
        # a configured walk time wins, and its distance is that time at walking speed
        assert by_lot["general-cp"].walk_s == 150
        assert by_lot["general-cp"].walk_m == pytest.approx(150 * config.defaults.walk_speed_mps)
        walk = walk_of(config, config.lot("wulin-garage"), entrance.lat, entrance.lon, "general/emergency")
        assert walk == (garage.walk_s, garage.walk_m)
        assert walk_seconds(
            config, config.lot("wulin-garage"), entrance.lat, entrance.lon, "general/emergency"
        ) == (garage.walk_s)

    def test_unknown_origin_or_destination_is_a_key_error(self) -> None:
        routes = table(block())
        with pytest.raises(KeyError):
            routes.routes_from("nowhere", None, "h/main")
        with pytest.raises(KeyError):
            routes.routes_from("A", None, "h/nowhere")


class TestConcurrency:
    def test_concurrent_queries_match_serial_ones_and_leave_the_graph_alone(
        self, example: tuple[Config, RoadGraph, RouteTable]
    ) -> None:
        config, roads, routes = example
        graph = roads.graph
        before = (graph.number_of_nodes(), graph.number_of_edges(), edges_digest(graph))
        rng = random.Random(7)
        nodes = sorted(graph)
        destinations = sorted(config.destination_ids())
        queries = [
            (rng.choice(nodes), rng.choice([None, rng.uniform(0, 360)]), rng.choice(destinations))
            for _ in range(8 * 50)
        ]
        serial = [routes.routes_from(*q) for q in queries]
        with ThreadPoolExecutor(max_workers=8) as pool:
            concurrent = list(pool.map(lambda q: routes.routes_from(*q), queries))
            boards = list(pool.map(routes.routes, [b.id for b in config.boards] * 50))
        assert concurrent == serial
        assert boards == [routes.routes(b.id) for b in config.boards] * 50
        assert (graph.number_of_nodes(), graph.number_of_edges(), edges_digest(graph)) == before

    def test_the_road_graph_is_read_only(self, example: tuple[Config, RoadGraph, RouteTable]) -> None:
        _, roads, _ = example
        assert nx.is_frozen(roads.graph)
        with pytest.raises(nx.NetworkXError):
            roads.graph.add_node("extra")
        with pytest.raises(TypeError):
            roads.coords["extra"] = (0.0, 0.0)  # type: ignore[index]


class TestRoadGraph:
    def test_a_road_node_without_coordinates_is_an_error_naming_it(self) -> None:
        graph = nx.DiGraph()
        graph.add_edge("a", "b", travel_s=1.0, length_m=10.0, bearing=0.0)
        with pytest.raises(ValueError, match=r"road nodes without coordinates: \['b'\]"):
            RoadGraph(graph, {"a": (30.0, 120.0)})

    def test_every_edge_carries_its_ways_name(self) -> None:
        edges = build_road_graph(block().roads).graph.edges
        assert (edges["A", "J"]["name"], edges["J", "A"]["name"]) == ("Main Street", "Main Street")
        assert edges["M", "A"]["name"] == "West Lane"


class TestSnap:
    @staticmethod
    def brute_force(coords: dict[str, tuple[float, float]], lat: float, lon: float) -> tuple[str, float]:
        return min(((n, distance_m(lat, lon, *c)) for n, c in coords.items()), key=lambda nd: nd[1])

    def test_snap_agrees_with_a_scan_of_the_example_site(
        self, example: tuple[Config, RoadGraph, RouteTable]
    ) -> None:
        config, roads, _ = example
        coords = dict(config.roads.nodes)
        lats, lons = [c[0] for c in coords.values()], [c[1] for c in coords.values()]
        rng = random.Random(1)
        for _ in range(500):
            lat = rng.uniform(min(lats) - 0.01, max(lats) + 0.01)
            lon = rng.uniform(min(lons) - 0.01, max(lons) + 0.01)
            node, dist_m = roads.snap(lat, lon)
            expected, expected_m = self.brute_force(coords, lat, lon)
            assert node == expected
            assert roads.nearest_node(lat, lon) == node
            assert dist_m == pytest.approx(expected_m, rel=0.01)

    def test_snap_agrees_with_a_scan_over_many_nodes_far_apart(self) -> None:
        # a country-sized spread, where a flat projection around one latitude would drift
        rng = random.Random(2)
        coords = {f"x{i}": (rng.uniform(20.0, 45.0), rng.uniform(100.0, 125.0)) for i in range(2000)}
        graph = nx.DiGraph()
        graph.add_nodes_from(coords)
        roads = RoadGraph(graph, coords)
        for _ in range(150):
            lat, lon = rng.uniform(20.0, 45.0), rng.uniform(100.0, 125.0)
            node, dist_m = roads.snap(lat, lon)
            expected, expected_m = self.brute_force(coords, lat, lon)
            assert node == expected
            assert dist_m == pytest.approx(expected_m, rel=0.01)

    def test_the_antipode_of_a_node_is_half_the_earth_round_away(self) -> None:
        graph = nx.DiGraph()
        graph.add_node("x")
        roads = RoadGraph(graph, {"x": (45.0, 45.0)})
        # the chord is a hair longer than the diameter in floating point here
        assert roads.snap(-45.0, -135.0) == ("x", pytest.approx(math.pi * EARTH_RADIUS_M))

    def test_a_node_snaps_to_itself(self, example: tuple[Config, RoadGraph, RouteTable]) -> None:
        config, roads, _ = example
        for node, (lat, lon) in config.roads.nodes.items():
            assert roads.snap(lat, lon) == (node, pytest.approx(0.0, abs=0.01))


class TestArrow:
    @pytest.mark.parametrize(
        ("legs", "facing", "arrow"),
        [
            ([(90.0, 100.0, False), (0.0, 100.0, True)], 90.0, "left"),
            ([(90.0, 300.0, False), (0.0, 100.0, True)], 90.0, "left"),  # a choice 300 m on is still shown
            ([(90.0, 300.5, False), (0.0, 100.0, True)], 90.0, "ahead"),  # beyond the look-ahead
            ([(90.0, 100.0, False), (120.0, 100.0, True), (200.0, 100.0, True)], 90.0, "ahead"),  # 30 deg
            ([(45.0, 100.0, True)], 90.0, "ahead_left"),
            ([(90.0, 100.0, False), (125.0, 100.0, True)], 90.0, "ahead_right"),  # 35 deg is a turn
            ([(0.0, 100.0, True), (90.0, 100.0, True)], None, "right"),  # no facing: the first edge sets it
            # a bend where the road offers no other way (a ramp, a roundabout entry) is no choice:
            ([(90.0, 100.0, False), (0.0, 100.0, False), (90.0, 100.0, True)], 90.0, "right"),
            ([(45.0, 100.0, False), (45.0, 100.0, True), (0.0, 100.0, True)], 90.0, "ahead"),
            # the first choice is shown even when it is straight on and a turn follows
            ([(90.0, 100.0, True), (0.0, 100.0, True)], 90.0, "ahead"),
        ],
    )
    def test_the_turn_at_the_first_real_choice(
        self, legs: list[tuple[float, float, bool]], facing: float | None, arrow: str
    ) -> None:
        assert first_turn(legs, facing) == arrow
