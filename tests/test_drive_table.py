"""The precomputed drive table agrees with the one-origin search (drive.py) it replaces on the hot path.

Random street grids with one-way streets, dead ends and turn restrictions; every
origin, every target. Pure.
"""

from __future__ import annotations

import itertools
import random

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
