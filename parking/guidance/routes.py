"""Routes from each board to each lot entrance, computed once at startup."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import networkx as nx

from parking.config.models import Board, Config, Destination, Lot
from parking.geo import distance_m, turn_deg
from parking.guidance.graph import RoadGraph
from parking.types import Arrow

TURN_LOOKAHEAD_M = 300.0
TURN_MIN_DEG = 35.0
NO_TURN_BACK_DEG = 135.0  # edges leaving a board's node this far from its facing are behind it


@dataclass(frozen=True, slots=True)
class Route:
    """How to reach one lot from one board: drive, then walk to the destination."""

    lot: str
    entrance: str
    drive_s: float
    drive_m: float
    walk_s: float
    arrow: Arrow
    walk_m: float = 0.0


class RouteTable:
    """Best route from every board to every reachable lot."""

    def __init__(self, config: Config, roads: RoadGraph) -> None:
        self._config = config
        self._roads = roads
        destinations = config.destination_ids()
        self._routes: dict[str, list[Route]] = {}
        for board in config.boards:
            destination = destinations[board.destination]
            self._routes[board.id] = self._board_routes(board, destination)

    def routes(self, board_id: str) -> list[Route]:
        """Routes from a board to every lot reachable by road (KeyError if unknown board)."""
        return self._routes[board_id]

    def _board_routes(self, board: Board, destination: Destination) -> list[Route]:
        origin = board.node or self._roads.nearest_node(board.lat, board.lon)
        times, paths = self._drive_from(origin, board.facing_deg)
        routes: list[Route] = []
        for lot in self._config.lots:
            best: Route | None = None
            for entrance in lot.entrances:
                node = entrance.node or self._roads.nearest_node(entrance.lat, entrance.lon)
                if node not in times:
                    continue
                path: list[str] = paths[node]
                route = Route(
                    lot=lot.id,
                    entrance=entrance.id,
                    drive_s=float(times[node]),
                    drive_m=self._path_length(path),
                    walk_s=walk_seconds(self._config, lot, entrance.lat, entrance.lon, board.destination),
                    arrow=first_turn(self._roads, path, board.facing_deg),
                    walk_m=self._walk_m(lot, entrance.lat, entrance.lon, board.destination),
                )
                if best is None or route.drive_s + route.walk_s < best.drive_s + best.walk_s:
                    best = route
            if best is not None:
                routes.append(best)
        return routes

    def _drive_from(self, origin: str, facing_deg: float) -> tuple[dict[str, float], dict[str, list[str]]]:
        """Shortest drive times and paths from a board; its first move is never back the way it faces.

        Drivers pass a board travelling the way it faces, so the edges leaving its
        node backwards are closed for the first move only (later the route may use
        them): routing starts from a temporary source with just the forward edges.
        """
        graph = self._roads.graph
        source = ("board-origin", origin)  # a tuple: cannot clash with a config node id
        graph.add_node(source)
        try:
            for node in graph.successors(origin):
                edge = graph.edges[origin, node]
                if abs(turn_deg(facing_deg, edge["bearing"])) < NO_TURN_BACK_DEG:
                    graph.add_edge(source, node, **edge)
            times, paths = nx.single_source_dijkstra(graph, source, weight="travel_s")
        finally:
            graph.remove_node(source)
        times[origin], paths[origin] = 0.0, [source]
        return (
            {node: float(t) for node, t in times.items() if node != source},
            {node: [origin, *path[1:]] for node, path in paths.items() if node != source},
        )

    def _walk_m(self, lot: Lot, lat: float, lon: float, destination_id: str) -> float:
        dest = self._config.destination_ids()[destination_id]
        return distance_m(lat, lon, dest.lat, dest.lon) * self._config.defaults.walk_detour_factor

    def _path_length(self, path: list[str]) -> float:
        graph = self._roads.graph
        return float(sum(graph.edges[u, v]["length_m"] for u, v in itertools.pairwise(path)))


def walk_seconds(config: Config, lot: Lot, lat: float, lon: float, destination_id: str) -> float:
    """Walk time from a lot to a destination: configured, or distance x detour / speed."""
    if destination_id in lot.walk_s:
        return float(lot.walk_s[destination_id])
    dest = config.destination_ids()[destination_id]
    defaults = config.defaults
    return distance_m(lat, lon, dest.lat, dest.lon) * defaults.walk_detour_factor / defaults.walk_speed_mps


def first_turn(roads: RoadGraph, path: list[str], facing_deg: float) -> Arrow:
    """The arrow a board shows: the first real turn within the look-ahead, else ahead."""
    graph = roads.graph
    heading = facing_deg
    travelled = 0.0
    for u, v in itertools.pairwise(path):
        edge = graph.edges[u, v]
        turn = turn_deg(heading, edge["bearing"])
        if abs(turn) >= TURN_MIN_DEG:
            return arrow_for(turn)
        travelled += edge["length_m"]
        if travelled > TURN_LOOKAHEAD_M:
            break
        heading = edge["bearing"]
    return "ahead"


def arrow_for(turn: float) -> Arrow:
    """Map a signed turn in degrees to one of six board arrows."""
    magnitude = abs(turn)
    if magnitude < TURN_MIN_DEG:
        return "ahead"
    if magnitude >= 150.0:
        return "back"
    side = "right" if turn > 0 else "left"
    if magnitude < 67.5:
        return "ahead_right" if side == "right" else "ahead_left"
    return "right" if side == "right" else "left"
