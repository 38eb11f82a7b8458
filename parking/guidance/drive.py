"""Quickest drives with no U-turns: an arc-state Dijkstra over a flat copy of the road graph.

The search state is the directed edge (arc) a car arrived on, not the node it is
at, because where a car may go next depends on where it came from: at a node it
does not leave by the arc straight back (v -> u right after u -> v) unless the
node is a dead end (`ArcGraph.u_turn`: in the source data, for an import). A
node search cannot express that; it would either allow U-turns or lose routes
that pass a node twice (round the block and back through the same junction).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import networkx as nx
import numpy as np
import numpy.typing as npt

NO_ARC = -1
TurnKind = Literal["no", "only"]


@dataclass(frozen=True, slots=True)
class TurnRestriction:
    """A turn rule at a junction: from `from_node` through `via` to `to_node`, forbidden or the only way.

    As OpenStreetMap's type=restriction relations with a via node: "no" forbids
    that turn; "only" makes it the one way on for cars coming from `from_node`.
    """

    kind: TurnKind
    from_node: str
    via: str
    to_node: str


@dataclass(frozen=True, slots=True)
class ArcGraph:
    """The road graph as flat arrays: nodes numbered 0..n-1, arcs grouped by their tail node."""

    nodes: tuple[str, ...]
    index: Mapping[str, int]
    first_out: npt.NDArray[np.int64]  # arcs leaving node v are first_out[v] .. first_out[v + 1] - 1
    head: npt.NDArray[np.int64]
    travel_s: npt.NDArray[np.float64]
    length_m: npt.NDArray[np.float64]
    bearing_deg: npt.NDArray[np.float64]
    reverse: npt.NDArray[np.int64]  # the arc v -> u of each arc u -> v, or NO_ARC
    u_turn: npt.NDArray[np.bool_]  # per node: a dead end, where a car may turn back the way it came
    banned: frozenset[tuple[int, int]] = frozenset()  # (arc in, arc out) pairs a car may not take
    only: Mapping[int, int] = field(default_factory=lambda: MappingProxyType({}))  # arc in -> the one way on

    @classmethod
    def from_digraph(
        cls,
        graph: nx.DiGraph,
        restrictions: Iterable[TurnRestriction] = (),
        dead_ends: Set[str] | None = None,
    ) -> ArcGraph:
        """Flatten a DiGraph whose edges carry `travel_s`, `length_m` and `bearing`.

        A restriction naming an edge the graph does not have is left out (an
        extract cut at its edge keeps relations whose ways it lost). `dead_ends`
        are the nodes that end a road in the source data (an import knows them;
        pruning can leave a through node with one way out, which is no place to
        turn); None: every node whose only way out is back is one.
        """
        nodes = tuple(graph.nodes)
        index = {node: i for i, node in enumerate(nodes)}
        first_out = [0]
        heads: list[int] = []
        data: list[Mapping[str, Any]] = []
        for node in nodes:
            for succ, attrs in graph.adj[node].items():
                heads.append(index[succ])
                data.append(attrs)
            first_out.append(len(heads))
        starts = np.asarray(first_out, dtype=np.int64)
        head = np.asarray(heads, dtype=np.int64)
        tail = np.repeat(np.arange(len(nodes), dtype=np.int64), np.diff(starts))
        arc_of = {(int(u), int(v)): a for a, (u, v) in enumerate(zip(tail, head, strict=True))}
        banned: set[tuple[int, int]] = set()
        only: dict[int, int] = {}
        for rule in restrictions:
            ends = [index.get(rule.from_node), index.get(rule.via), index.get(rule.to_node)]
            if None in ends:
                continue
            u, via, w = (int(e) for e in ends if e is not None)
            arc_in, arc_out = arc_of.get((u, via)), arc_of.get((via, w))
            if arc_in is None or arc_out is None:
                continue
            if rule.kind == "no":
                banned.add((arc_in, arc_out))
            else:
                only[arc_in] = arc_out
        one_way_out = np.diff(starts) == 1
        if dead_ends is not None:
            one_way_out &= np.fromiter((node in dead_ends for node in nodes), np.bool_, len(nodes))
        return cls(
            nodes=nodes,
            index=MappingProxyType(index),
            first_out=starts,
            head=head,
            travel_s=np.fromiter((float(d["travel_s"]) for d in data), np.float64, len(data)),
            length_m=np.fromiter((float(d["length_m"]) for d in data), np.float64, len(data)),
            bearing_deg=np.fromiter((float(d["bearing"]) for d in data), np.float64, len(data)),
            reverse=np.fromiter(
                (arc_of.get((int(v), int(u)), NO_ARC) for u, v in zip(tail, head, strict=True)),
                np.int64,
                len(heads),
            ),
            u_turn=one_way_out,
            banned=frozenset(banned),
            only=MappingProxyType(only),
        )

    def out_arcs(self, node: int) -> range:
        """The arcs leaving a node."""
        return range(int(self.first_out[node]), int(self.first_out[node + 1]))

    def may_follow(self, arc: int, nxt: int) -> bool:
        """True if a car that arrived on `arc` may leave its head by `nxt` (which must leave it).

        No U-turn unless the node is a dead end (`u_turn`), no banned turn, and
        where an "only" rule applies, only its turn.
        """
        if nxt == self.reverse[arc] and not self.u_turn[self.head[arc]]:
            return False
        if (arc, nxt) in self.banned:
            return False
        one = self.only.get(arc)
        return one is None or one == nxt


@dataclass(frozen=True, slots=True)
class DriveTree:
    """Quickest drives from one origin to the nodes a search reached."""

    graph: ArcGraph
    origin: int
    time_s: Mapping[int, float]  # node -> quickest drive time
    last_arc: Mapping[int, int]  # node -> the arc that quickest drive arrives on (NO_ARC at the origin)
    previous: Mapping[int, int]  # arc -> the arc driven before it (NO_ARC for the first)

    def arcs_to(self, node: int) -> list[int]:
        """The arcs of the quickest drive to a reached node, in driving order (KeyError if not reached)."""
        arcs: list[int] = []
        arc = self.last_arc[node]
        while arc != NO_ARC:
            arcs.append(arc)
            arc = self.previous[arc]
        arcs.reverse()
        return arcs

    def path(self, arcs: Iterable[int]) -> tuple[str, ...]:
        """Node ids along a drive from the origin over these arcs."""
        graph = self.graph
        return (graph.nodes[self.origin], *(graph.nodes[int(graph.head[arc])] for arc in arcs))


def quickest_drives(
    graph: ArcGraph, origin: int, first_arcs: Iterable[int], targets: Set[int] | None = None
) -> DriveTree:
    """Quickest drives from `origin`, leaving it by one of `first_arcs`, never making a U-turn
    except at a dead end; stops once every node in `targets` is reached (None: search everything).

    Pure: reads the graph and builds its own state, so any number may run at once.
    """
    head, travel_s, first_out = graph.head.tolist(), graph.travel_s.tolist(), graph.first_out.tolist()
    restricted = bool(graph.banned or graph.only)
    reverse, u_turn = graph.reverse.tolist(), graph.u_turn.tolist()
    best: dict[int, float] = {}  # arc -> quickest time to the end of it
    previous: dict[int, int] = {}
    heap: list[tuple[float, int]] = []
    for arc in map(int, first_arcs):
        if travel_s[arc] < best.get(arc, math.inf):
            best[arc] = travel_s[arc]
            previous[arc] = NO_ARC
            heapq.heappush(heap, (travel_s[arc], arc))
    time_s: dict[int, float] = {origin: 0.0}
    last_arc: dict[int, int] = {origin: NO_ARC}
    remaining = None if targets is None else set(targets) - {origin}
    while heap and (remaining is None or remaining):
        t, arc = heapq.heappop(heap)
        if t > best[arc]:
            continue  # a stale entry: this arc was reached sooner since
        node = head[arc]
        if node not in time_s:
            time_s[node] = t
            last_arc[node] = arc
            if remaining is not None:
                remaining.discard(node)
        back = reverse[arc]
        for nxt in range(first_out[node], first_out[node + 1]):
            if nxt == back and not u_turn[node]:
                continue  # no U-turn but at a dead end
            if restricted and not graph.may_follow(arc, nxt):
                continue
            arrive = t + travel_s[nxt]
            if arrive < best.get(nxt, math.inf):
                best[nxt] = arrive
                previous[nxt] = arc
                heapq.heappush(heap, (arrive, nxt))
    return DriveTree(
        graph=graph,
        origin=origin,
        time_s=MappingProxyType(time_s),
        last_arc=MappingProxyType(last_arc),
        previous=MappingProxyType(previous),
    )
