"""Quickest drives with no U-turns: an arc-state Dijkstra over a flat copy of the road graph.

The search state is the directed edge (arc) a car arrived on, not the node it is
at, because where a car may go next depends on where it came from: at a node it
does not leave by the arc straight back (v -> u right after u -> v) unless that
is the node's only way out (a dead end). A node search cannot express that; it
would either allow U-turns or lose routes that pass a node twice (round the
block and back through the same junction).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import networkx as nx

NO_ARC = -1


@dataclass(frozen=True, slots=True)
class ArcGraph:
    """The road graph as flat tuples: nodes numbered 0..n-1, arcs grouped by their tail node."""

    nodes: tuple[str, ...]
    index: Mapping[str, int]
    first_out: tuple[int, ...]  # arcs leaving node v are first_out[v] .. first_out[v + 1] - 1
    head: tuple[int, ...]
    travel_s: tuple[float, ...]
    length_m: tuple[float, ...]
    bearing_deg: tuple[float, ...]
    reverse: tuple[int, ...]  # the arc v -> u of each arc u -> v, or NO_ARC

    @classmethod
    def from_digraph(cls, graph: nx.DiGraph) -> ArcGraph:
        """Flatten a DiGraph whose edges carry `travel_s`, `length_m` and `bearing`."""
        nodes = tuple(graph.nodes)
        index = {node: i for i, node in enumerate(nodes)}
        first_out = [0]
        heads: list[int] = []
        data: list[Mapping[str, Any]] = []
        arc_of: dict[tuple[int, int], int] = {}
        for u, node in enumerate(nodes):
            for succ, attrs in graph.adj[node].items():
                arc_of[u, index[succ]] = len(heads)
                heads.append(index[succ])
                data.append(attrs)
            first_out.append(len(heads))
        tails = [u for u in range(len(nodes)) for _ in range(first_out[u], first_out[u + 1])]
        return cls(
            nodes=nodes,
            index=MappingProxyType(index),
            first_out=tuple(first_out),
            head=tuple(heads),
            travel_s=tuple(float(d["travel_s"]) for d in data),
            length_m=tuple(float(d["length_m"]) for d in data),
            bearing_deg=tuple(float(d["bearing"]) for d in data),
            reverse=tuple(arc_of.get((v, u), NO_ARC) for u, v in zip(tails, heads, strict=True)),
        )

    def out_arcs(self, node: int) -> range:
        """The arcs leaving a node."""
        return range(self.first_out[node], self.first_out[node + 1])


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
        return (graph.nodes[self.origin], *(graph.nodes[graph.head[arc]] for arc in arcs))


def quickest_drives(
    graph: ArcGraph, origin: int, first_arcs: Iterable[int], targets: Set[int] | None = None
) -> DriveTree:
    """Quickest drives from `origin`, leaving it by one of `first_arcs`, never making a U-turn
    except at a dead end; stops once every node in `targets` is reached (None: search everything).

    Pure: reads the graph and builds its own state, so any number may run at once.
    """
    head, travel_s, reverse, first_out = graph.head, graph.travel_s, graph.reverse, graph.first_out
    best: dict[int, float] = {}  # arc -> quickest time to the end of it
    previous: dict[int, int] = {}
    heap: list[tuple[float, int]] = []
    for arc in first_arcs:
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
        start, stop = first_out[node], first_out[node + 1]
        for nxt in range(start, stop):
            if nxt == back and stop - start > 1:
                continue  # no U-turn unless the way back is the only way out
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
