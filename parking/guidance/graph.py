"""The directed road graph (networkx): nodes with coordinates, edges with travel time."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import networkx as nx

from parking.config.models import Roads
from parking.geo import bearing_deg, distance_m
from parking.guidance.drive import ArcGraph, TurnRestriction
from parking.guidance.spatial import NodeIndex


class RoadGraph:
    """The road network, built once and read-only, safe to query from many threads at once.

    `graph` is a frozen networkx DiGraph whose edges carry `travel_s`, `length_m`,
    `bearing` and `name` (build or edit a DiGraph, then wrap it: the wrapped graph
    is frozen in place and any later change raises). Beside it, built once: a
    spatial index for the nearest node and the flat arcs the route search runs on.
    """

    __slots__ = ("_arcs", "_coords", "_dead_ends", "_graph", "_index", "_restrictions")

    def __init__(
        self,
        graph: nx.DiGraph,
        coords: Mapping[str, tuple[float, float]],
        restrictions: Iterable[TurnRestriction] = (),
        dead_ends: Iterable[str] | None = None,
    ) -> None:
        missing = [node for node in graph if node not in coords]
        if missing:
            raise ValueError(f"road nodes without coordinates: {missing[:5]}")
        self._graph: nx.DiGraph = nx.freeze(graph)
        self._coords: Mapping[str, tuple[float, float]] = MappingProxyType({n: coords[n] for n in graph})
        self._index = NodeIndex(self._coords)
        self._restrictions = tuple(restrictions)
        self._dead_ends = None if dead_ends is None else frozenset(dead_ends).intersection(graph)
        self._arcs = ArcGraph.from_digraph(graph, self._restrictions, self._dead_ends)

    @property
    def graph(self) -> nx.DiGraph:
        """The frozen networkx graph."""
        return self._graph

    @property
    def coords(self) -> Mapping[str, tuple[float, float]]:
        """Node id -> (lat, lon), read-only."""
        return self._coords

    @property
    def restrictions(self) -> tuple[TurnRestriction, ...]:
        """The turn restrictions the routes obey (from an OpenStreetMap extract)."""
        return self._restrictions

    @property
    def dead_ends(self) -> frozenset[str] | None:
        """The nodes that end a road in the source data, where a U-turn is allowed (None: not known,
        every node whose only way out is back counts as one)."""
        return self._dead_ends

    @property
    def arcs(self) -> ArcGraph:
        """The graph as flat arrays, for the route search."""
        return self._arcs

    def snap(self, lat: float, lon: float) -> tuple[str, float]:
        """The node nearest to a position, and the great-circle distance to it in metres."""
        return self._index.snap(lat, lon)

    def nearest_node(self, lat: float, lon: float) -> str:
        """The node nearest to a position."""
        return self._index.snap(lat, lon)[0]


def build_road_graph(roads: Roads) -> RoadGraph:
    """Build the directed graph from config ways; two-way ways give an edge each way."""
    graph = nx.DiGraph()
    for node, (lat, lon) in roads.nodes.items():
        graph.add_node(node, lat=lat, lon=lon)
    for way in roads.ways:
        speed_mps = way.speed_kmh / 3.6
        for a, b in itertools.pairwise(way.nodes):
            pairs = [(a, b)] if way.oneway else [(a, b), (b, a)]
            for u, v in pairs:
                (lat1, lon1), (lat2, lon2) = roads.nodes[u], roads.nodes[v]
                length = distance_m(lat1, lon1, lat2, lon2)
                graph.add_edge(
                    u,
                    v,
                    travel_s=length / speed_mps,
                    length_m=length,
                    bearing=bearing_deg(lat1, lon1, lat2, lon2),
                    name=way.name,
                )
    return RoadGraph(graph, roads.nodes)
