"""Routes to lot entrances: precomputed from each board at startup, or on demand from any road node."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from parking.config.models import Config, Destination, Lot
from parking.geo import distance_m, turn_deg
from parking.guidance.drive import ArcGraph, quickest_drives
from parking.guidance.graph import RoadGraph
from parking.types import Arrow

TURN_LOOKAHEAD_M = 300.0
TURN_MIN_DEG = 35.0
NO_TURN_BACK_DEG = 135.0  # edges leaving a board's node this far from its facing are behind it
HALF_TURN_MAX_DEG = 67.5  # a turn below this is a half turn (ahead_left, ahead_right) ...
BACK_MIN_DEG = 150.0  # ... from this on it is back; left and right lie between


@dataclass(frozen=True, slots=True)
class Route:
    """How to reach one lot from an origin: drive to an entrance, then walk to the destination."""

    lot: str
    entrance: str
    drive_s: float
    drive_m: float
    walk_s: float
    walk_m: float
    arrow: Arrow
    path: tuple[str, ...]  # road nodes driven through, origin first, the entrance's node last


@dataclass(frozen=True, slots=True)
class _Entrance:
    lot: Lot
    id: str
    lat: float
    lon: float
    node: int


class RouteTable:
    """Quickest route to every reachable lot: precomputed per board, or on demand from a road node.

    Read-only once built: queries share nothing they change, so they may run
    concurrently from any number of threads or executors.
    """

    def __init__(self, config: Config, roads: RoadGraph) -> None:
        self._config = config
        self._roads = roads
        self._destinations = config.destination_ids()
        index = roads.arcs.index
        self._entrances = tuple(
            _Entrance(lot, e.id, e.lat, e.lon, index[e.node or roads.nearest_node(e.lat, e.lon)])
            for lot in config.lots
            for e in lot.entrances
        )
        self._targets = frozenset(e.node for e in self._entrances)
        self._boards: dict[str, tuple[Route, ...]] = {
            board.id: tuple(
                self.routes_from(
                    board.node or roads.nearest_node(board.lat, board.lon),
                    board.facing_deg,
                    board.destination,
                )
            )
            for board in config.boards
        }

    def routes(self, board_id: str) -> list[Route]:
        """Routes from a board to every lot reachable by road (KeyError if unknown board)."""
        return list(self._boards[board_id])

    def routes_from(self, origin_node: str, heading_deg: float | None, destination_id: str) -> list[Route]:
        """Routes from a road node to every lot reachable by road, walking on to a destination.

        With a heading (a board's facing, a car's direction of travel), edges leaving
        the origin more than NO_TURN_BACK_DEG from it are closed for the first move,
        and arrows are relative to it; with None the first move is free and arrows
        are relative to the first edge. KeyError for an unknown node or destination.
        """
        arcs = self._roads.arcs
        origin = arcs.index[origin_node]
        if destination_id not in self._destinations:
            raise KeyError(destination_id)
        tree = quickest_drives(arcs, origin, _first_arcs(arcs, origin, heading_deg), self._targets)
        best: dict[str, Route] = {}
        for entrance in self._entrances:
            if entrance.node not in tree.time_s:
                continue
            driven = tree.arcs_to(entrance.node)
            walk_s, walk_m = walk_of(self._config, entrance.lot, entrance.lat, entrance.lon, destination_id)
            route = Route(
                lot=entrance.lot.id,
                entrance=entrance.id,
                drive_s=tree.time_s[entrance.node],
                drive_m=sum(arcs.length_m[arc] for arc in driven),
                walk_s=walk_s,
                walk_m=walk_m,
                arrow=first_turn(((arcs.bearing_deg[a], arcs.length_m[a]) for a in driven), heading_deg),
                path=tree.path(driven),
            )
            current = best.get(route.lot)
            if current is None or route.drive_s + route.walk_s < current.drive_s + current.walk_s:
                best[route.lot] = route
        return list(best.values())


def _first_arcs(arcs: ArcGraph, origin: int, heading_deg: float | None) -> list[int]:
    """The arcs a car may leave its origin by: all of them, or those not behind its heading."""
    out = arcs.out_arcs(origin)
    if heading_deg is None:
        return list(out)
    return [arc for arc in out if abs(turn_deg(heading_deg, arcs.bearing_deg[arc])) < NO_TURN_BACK_DEG]


def walk_metres(config: Config, lat: float, lon: float, destination: Destination) -> float:
    """Estimated walk from a point to a destination: straight-line distance x the detour factor."""
    return distance_m(lat, lon, destination.lat, destination.lon) * config.defaults.walk_detour_factor


def walk_seconds(config: Config, lot: Lot, lat: float, lon: float, destination_id: str) -> float:
    """Walk time from a lot to a destination: configured, or distance x detour / speed."""
    return walk_of(config, lot, lat, lon, destination_id)[0]


def walk_of(config: Config, lot: Lot, lat: float, lon: float, destination_id: str) -> tuple[float, float]:
    """(seconds, metres) of the walk from a lot entrance to a destination.

    A walk time configured for the lot wins (the operator walked it), and its
    distance is that time at walking speed; otherwise the straight line times
    the detour factor, at walking speed.
    """
    speed_mps = config.defaults.walk_speed_mps
    configured = lot.walk_s.get(destination_id)
    if configured is not None:
        return float(configured), configured * speed_mps
    walk_m = walk_metres(config, lat, lon, config.destination_ids()[destination_id])
    return walk_m / speed_mps, walk_m


def first_turn(legs: Iterable[tuple[float, float]], facing_deg: float | None) -> Arrow:
    """The arrow for a drive: its first turn of TURN_MIN_DEG or more within the look-ahead, else ahead.

    `legs` are the (bearing_deg, length_m) of the edges driven, in order. A turn
    counts if the node where it is made lies at most TURN_LOOKAHEAD_M along the
    route; the first leg turns from `facing_deg` (None: the first leg sets the heading).
    """
    heading = facing_deg
    travelled_m = 0.0
    for bearing, length_m in legs:
        if heading is not None:
            turn = turn_deg(heading, bearing)
            if abs(turn) >= TURN_MIN_DEG:
                return arrow_for(turn)
        travelled_m += length_m
        if travelled_m > TURN_LOOKAHEAD_M:
            break
        heading = bearing
    return "ahead"


def arrow_for(turn: float) -> Arrow:
    """Map a signed turn in degrees to one of six board arrows."""
    magnitude = abs(turn)
    if magnitude < TURN_MIN_DEG:
        return "ahead"
    if magnitude >= BACK_MIN_DEG:
        return "back"
    side = "right" if turn > 0 else "left"
    if magnitude < HALF_TURN_MAX_DEG:
        return "ahead_right" if side == "right" else "ahead_left"
    return "right" if side == "right" else "left"
