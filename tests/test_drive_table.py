"""The precomputed drive table agrees with the one-origin search (drive.py) it replaces on the hot path.

Random street grids with one-way streets, dead ends and turn restrictions; every
origin, every target. Pure.
"""

from __future__ import annotations

import itertools
import math
import random
import tracemalloc

import networkx as nx
import numpy as np
import pytest

from parking.geo import bearing_deg, distance_m
from parking.guidance.drive import NO_ARC, ArcGraph, TurnRestriction, quickest_drives
from parking.guidance.table import DriveTable


def grid(seed: int, size: int = 6) -> tuple[nx.DiGraph, list[TurnRestriction]]:
    """A size x size street grid, ~200 m blocks, some streets one-way, a few removed, a few turns banned."""
    rng = random.Random(seed)
    graph = nx.DiGraph()
    pos = {f"{r}.{c}": (30.0 + r * 0.0018, 120.0 + c * 0.0021) for r in range(size) for c in range(size)}
    for node, (lat, lon) in pos.items():
        graph.add_node(node, lat=lat, lon=lon)
    for r in range(size):
        for c in range(size):
            for dr, dc in ((0, 1), (1, 0)):
                if r + dr >= size or c + dc >= size or rng.random() < 0.12:
                    continue
                u, v = f"{r}.{c}", f"{r + dr}.{c + dc}"
                pairs = [(u, v), (v, u)]
                if rng.random() < 0.25:
                    pairs = [rng.choice(pairs)]  # one-way
                for a, b in pairs:
                    (la, oa), (lb, ob) = pos[a], pos[b]
                    length = distance_m(la, oa, lb, ob)
                    speed = rng.choice((8.3, 13.9))
                    graph.add_edge(
                        a, b, travel_s=length / speed, length_m=length, bearing=bearing_deg(la, oa, lb, ob)
                    )
    turns = [(u, v, w) for u, v in graph.edges for w in graph.succ[v] if w != u]
    rules = [TurnRestriction(rng.choice(("no", "no", "only")), u, v, w) for u, v, w in rng.sample(turns, 8)]
    return graph, rules


@pytest.mark.parametrize("seed", range(6))
def test_every_drive_time_matches_the_search(seed: int) -> None:
    graph, rules = grid(seed)
    arcs = ArcGraph.from_digraph(graph, rules)
    targets = list(range(0, len(arcs.nodes), 3))
    table = DriveTable(arcs, targets)
    for origin in range(len(arcs.nodes)):
        first_arcs = np.asarray(list(arcs.out_arcs(origin)), dtype=np.int64)
        drive, first = table.times_from(origin, first_arcs)
        tree = quickest_drives(arcs, origin, first_arcs.tolist())
        for target in table.targets:
            row = table.row(target)
            if target not in tree.time_s:
                assert drive[row] == np.inf
                continue
            assert drive[row] == pytest.approx(tree.time_s[target], rel=1e-5, abs=1e-3)
            # the route read off the table takes as long as the table says, and obeys every rule
            driven = table.arcs_to(row, int(first[row]))
            assert sum(arcs.travel_s[a] for a in driven) == pytest.approx(drive[row], rel=1e-5, abs=1e-3)
            assert all(arcs.may_follow(a, b) for a, b in itertools.pairwise(driven))
            assert (int(arcs.head[driven[-1]]) if driven else origin) == target


def test_a_banned_turn_sends_the_car_round_the_block() -> None:
    # a square a-b-c-d, two-way; from a, left at b into c is banned: a -> b -> ... the long way
    graph = nx.DiGraph()
    pos = {"a": (30.0, 120.0), "b": (30.0, 120.001), "c": (30.001, 120.001), "d": (30.001, 120.0)}
    for u, v in (("a", "b"), ("b", "c"), ("c", "d"), ("d", "a")):
        for x, y in ((u, v), (v, u)):
            length = distance_m(*pos[x], *pos[y])
            graph.add_edge(x, y, travel_s=length / 10, length_m=length, bearing=bearing_deg(*pos[x], *pos[y]))
    arcs = ArcGraph.from_digraph(graph, [TurnRestriction("no", "a", "b", "c")])
    table = DriveTable(arcs, [arcs.index["c"]])
    first_arcs = np.asarray([arcs.out_arcs(arcs.index["a"])[0]], dtype=np.int64)  # a -> b only
    assert int(arcs.head[first_arcs[0]]) == arcs.index["b"]
    drive, first = table.times_from(arcs.index["a"], first_arcs)
    # not b -> c, and no U-turn at b (it has another way out): there is no way at all
    assert drive[0] == np.inf
    assert first[0] == NO_ARC


def roads(times: dict[str, float], *, one_way: tuple[str, ...] = (), nodes: str = "") -> nx.DiGraph:
    """A graph from "ab": seconds, two-way unless named in `one_way`; `nodes` are added first, in order."""
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    for (u, v), seconds in times.items():
        pairs = [(u, v)] if u + v in one_way else [(u, v), (v, u)]
        for a, b in pairs:
            graph.add_edge(a, b, travel_s=seconds, length_m=seconds * 10, bearing=0.0)
    return graph


# a loop a-b-c-d with a short spur b-e to a dead end; c-d is the long side
#
#     a --10-- b --5-- e
#     |        |
#     10       10
#     |        |
#     d --100- c
LOOP = {"ab": 10.0, "bc": 10.0, "cd": 100.0, "da": 10.0, "be": 5.0}


def drive(arcs: ArcGraph, origin: str, first: str, target: str) -> tuple[tuple[str, ...], float]:
    """The quickest drive's nodes and time, leaving `origin` towards `first`."""
    start = arcs.index[origin]
    first_arcs = [a for a in arcs.out_arcs(start) if arcs.nodes[int(arcs.head[a])] == first]
    tree = quickest_drives(arcs, start, first_arcs, {arcs.index[target]})
    return tree.path(tree.arcs_to(arcs.index[target])), tree.time_s[arcs.index[target]]


def test_a_car_turns_back_only_at_a_dead_end() -> None:
    arcs = ArcGraph.from_digraph(roads(LOOP))
    # back from b to a is quickest, but b has other ways out: down the spur and back instead
    assert drive(arcs, "a", "b", "d") == (("a", "b", "e", "b", "a", "d"), 40.0)
    # d's only other way out is on to c: no turning back there either
    assert drive(arcs, "a", "d", "b") == (("a", "d", "c", "b"), 120.0)


def test_may_follow_forbids_a_u_turn_except_at_a_dead_end() -> None:
    arcs = ArcGraph.from_digraph(roads(LOOP))

    def arc(u: str, v: str) -> int:
        return next(a for a in arcs.out_arcs(arcs.index[u]) if arcs.nodes[int(arcs.head[a])] == v)

    assert not arcs.may_follow(arc("a", "b"), arc("b", "a"))  # b: three ways out
    assert not arcs.may_follow(arc("a", "d"), arc("d", "a"))  # d: two ways out
    assert arcs.may_follow(arc("b", "e"), arc("e", "b"))  # e: a dead end
    assert arcs.may_follow(arc("a", "b"), arc("b", "c"))


def test_an_only_turn_is_the_one_way_on() -> None:
    # from a through b only towards e: to reach c, down the spur, round at its end, back through b
    arcs = ArcGraph.from_digraph(roads(LOOP), [TurnRestriction("only", "a", "b", "e")])
    assert drive(arcs, "a", "b", "c") == (("a", "b", "e", "b", "c"), 30.0)
    table = DriveTable(arcs, [arcs.index["c"]])
    first_arcs = np.asarray([a for a in arcs.out_arcs(arcs.index["a"])], dtype=np.int64)
    times, first = table.times_from(arcs.index["a"], first_arcs)
    assert float(times[0]) == pytest.approx(30.0)  # a-d-c would take 110 s
    assert [arcs.nodes[int(arcs.head[a])] for a in table.arcs_to(0, int(first[0]))] == ["b", "e", "b", "c"]


def test_a_banned_turn_alone_restricts_the_search() -> None:
    # no left from a through b into c: on round the spur's end instead
    arcs = ArcGraph.from_digraph(roads(LOOP), [TurnRestriction("no", "a", "b", "c")])
    assert drive(arcs, "a", "b", "c") == (("a", "b", "e", "b", "c"), 30.0)


def test_a_restriction_naming_a_road_the_graph_lacks_is_left_out_and_the_rest_kept() -> None:
    rules = [
        TurnRestriction("no", "x", "b", "c"),  # no node x: cut off the extract
        TurnRestriction("no", "a", "c", "d"),  # no road a -> c
        TurnRestriction("no", "a", "b", "c"),
        TurnRestriction("only", "c", "b", "a"),
    ]
    arcs = ArcGraph.from_digraph(roads(LOOP), rules)

    def arc(u: str, v: str) -> int:
        return next(a for a in arcs.out_arcs(arcs.index[u]) if arcs.nodes[int(arcs.head[a])] == v)

    assert arcs.banned == {(arc("a", "b"), arc("b", "c"))}
    assert dict(arcs.only) == {arc("c", "b"): arc("b", "a")}


def test_a_one_way_street_into_a_node_with_no_way_out_can_be_driven_to() -> None:
    # the last arc of the graph, b -> c, ends where no road leaves
    arcs = ArcGraph.from_digraph(roads({"ab": 10.0, "bc": 20.0}, one_way=("bc",), nodes="abc"))
    assert arcs.nodes[int(arcs.head[-1])] == "c"
    table = DriveTable(arcs, [arcs.index["c"]])
    first_arcs = np.asarray(list(arcs.out_arcs(arcs.index["a"])), dtype=np.int64)
    times, _ = table.times_from(arcs.index["a"], first_arcs)
    assert float(times[0]) == pytest.approx(30.0)


def test_a_site_with_no_roads_yet_has_a_table_that_reaches_nothing() -> None:
    arcs = ArcGraph.from_digraph(roads({}, nodes="ab"))
    table = DriveTable(arcs, [arcs.index["a"], arcs.index["b"]])
    times, first = table.times_from(arcs.index["a"], np.asarray([], dtype=np.int64))
    assert times.tolist() == [0.0, math.inf]
    assert first.tolist() == [NO_ARC, NO_ARC]


def test_the_table_takes_four_bytes_per_target_per_arc() -> None:
    # the memory sum of the module's docstring: 200 entrances on 400,000 arcs in 320 MB
    graph, _ = grid(0, size=16)
    arcs = ArcGraph.from_digraph(graph)
    targets = list(range(len(arcs.nodes)))
    cells = len(targets) * len(arcs.head)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        table = DriveTable(arcs, targets)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(table.targets) == len(targets)
    assert 4 * cells <= kept < 6 * cells  # the times, and far less besides; 8 bytes a time would not fit
