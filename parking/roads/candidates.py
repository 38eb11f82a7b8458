"""Where a board could stand: nodes on the main roads that lead towards a destination, 0.5-2 km out."""

from __future__ import annotations

from dataclasses import dataclass

from parking.geo import distance_m
from parking.roads.osm import OsmRoads

MAIN_ROADS = frozenset({"motorway", "trunk", "primary", "secondary", "tertiary"})
NEAR_M, FAR_M, IDEAL_M = 500.0, 2000.0, 1000.0
SECTOR_DEG = 45.0  # one candidate per road and direction of travel, to this resolution


@dataclass(frozen=True, slots=True)
class BoardCandidate:
    """A road node a board could stand by, facing the traffic that drives towards the destination."""

    node: str
    road: str
    facing_deg: float
    distance_m: float
    lat: float
    lon: float


def board_candidates(osm: OsmRoads, lat: float, lon: float, most: int = 12) -> list[BoardCandidate]:
    """Per named main road and direction, the node nearest IDEAL_M out whose traffic drives closer."""
    graph, coords = osm.graph, osm.coords
    away = {node: distance_m(lat, lon, *coords[node]) for node in graph}
    best: dict[tuple[str, int], BoardCandidate] = {}
    for u, v, data in graph.edges(data=True):
        name = str(data.get("name", ""))
        if not name or osm.highway.get((u, v)) not in MAIN_ROADS:
            continue
        if not NEAR_M <= away[u] <= FAR_M or away[v] >= away[u]:
            continue  # too near, too far, or driving away from the destination
        bearing = float(data["bearing"])
        key = (name, round(bearing / SECTOR_DEG) % round(360 / SECTOR_DEG))
        current = best.get(key)
        if current is None or abs(away[u] - IDEAL_M) < abs(current.distance_m - IDEAL_M):
            best[key] = BoardCandidate(u, name, round(bearing), away[u], *coords[u])
    return sorted(best.values(), key=lambda c: abs(c.distance_m - IDEAL_M))[:most]
