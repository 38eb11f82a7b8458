"""The directed road graph (networkx): nodes with coordinates, edges with travel time."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import networkx as nx

from parking.config.models import Roads
from parking.geo import bearing_deg, distance_m


@dataclass(frozen=True, slots=True)
class RoadGraph:
    """A directed graph; edges carry `travel_s`, `length_m`, `bearing` and `name`."""

    graph: nx.DiGraph
    coords: dict[str, tuple[float, float]]

    def nearest_node(self, lat: float, lon: float) -> str:
        """The graph node closest to a position (linear scan; fine at config scale)."""
        scale = math.cos(math.radians(lat))
        return min(
            self.coords,
            key=lambda n: (self.coords[n][0] - lat) ** 2 + ((self.coords[n][1] - lon) * scale) ** 2,
        )


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
    return RoadGraph(graph=graph, coords=dict(roads.nodes))
