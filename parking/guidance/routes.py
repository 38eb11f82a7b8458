"""Routes to lot entrances, from each board or any road node, read off a table built at start-up."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from parking.config.models import Config, Destination, Lot
from parking.geo import distance_m, turn_deg
from parking.guidance.drive import ArcGraph
from parking.guidance.graph import RoadGraph
from parking.guidance.table import DriveTable
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
class Reach:
    """How soon one lot is reached from an origin, and enough to draw the route there when asked."""

    lot: str
    entrance: str
    drive_s: float
    walk_s: float
    walk_m: float
    origin: int
    heading_deg: float | None
    row: int  # of the entrance node in the drive table
    first_arc: int  # NO_ARC when the origin is the entrance node


@dataclass(frozen=True, slots=True)
class _Entrance:
    lot: Lot
    id: str
    lat: float
    lon: float
    node: int


class RouteTable:
    """Quickest route to every reachable lot, from a board or any road node, over a precomputed table.

    Built once (the drive table from every lot entrance, then each board's
    reaches); read-only after, so queries may run concurrently from any number
    of threads or executors.
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
        self._table = DriveTable(roads.arcs, [e.node for e in self._entrances])
        self._walks: dict[tuple[int, str], tuple[float, float]] = {
            (i, dest): walk_of(config, e.lot, e.lat, e.lon, dest)
            for i, e in enumerate(self._entrances)
            for dest in self._destinations
        }
        self._boards: dict[str, tuple[Reach, ...]] = {
            board.id: tuple(
                self.reaches_from(
                    board.node or roads.nearest_node(board.lat, board.lon),
                    board.facing_deg,
                    board.destination,
                )
            )
            for board in config.boards
        }
        self._board_routes: dict[str, tuple[Route, ...]] = {}

    def routes(self, board_id: str) -> list[Route]:
        """Routes from a board to every lot reachable by road (KeyError if unknown board)."""
        routes = self._board_routes.get(board_id)
        if routes is None:
            routes = self._board_routes[board_id] = tuple(self.route(r) for r in self._boards[board_id])
        return list(routes)

    def reaches(self, board_id: str) -> list[Reach]:
        """How soon a board reaches every lot reachable by road (KeyError if unknown board)."""
        return list(self._boards[board_id])

    def routes_from(self, origin_node: str, heading_deg: float | None, destination_id: str) -> list[Route]:
        """Routes from a road node to every lot reachable by road, walking on to a destination.

        With a heading (a board's facing, a car's direction of travel), edges leaving
        the origin more than NO_TURN_BACK_DEG from it are closed for the first move,
        and arrows are relative to it; with None the first move is free and arrows
        are relative to the first edge. KeyError for an unknown node or destination.
        """
        return [self.route(reach) for reach in self.reaches_from(origin_node, heading_deg, destination_id)]

    def reaches_from(self, origin_node: str, heading_deg: float | None, destination_id: str) -> list[Reach]:
        """As `routes_from`, without drawing the routes: a look-up in the table, microseconds a lot."""
        arcs = self._roads.arcs
        origin = arcs.index[origin_node]
        if destination_id not in self._destinations:
            raise KeyError(destination_id)
        first_arcs = np.asarray(_first_arcs(arcs, origin, heading_deg), dtype=np.int64)
        drive, first = self._table.times_from(origin, first_arcs)
        best: dict[str, Reach] = {}
        for i, entrance in enumerate(self._entrances):
            row = self._table.row(entrance.node)
            drive_s = float(drive[row])
            if drive_s == math.inf:
                continue
            walk_s, walk_m = self._walks[i, destination_id]
            current = best.get(entrance.lot.id)
            if current is None or drive_s + walk_s < current.drive_s + current.walk_s:
                best[entrance.lot.id] = Reach(
                    entrance.lot.id,
                    entrance.id,
                    drive_s,
                    walk_s,
                    walk_m,
                    origin,
                    heading_deg,
                    row,
                    int(first[row]),
                )
        return list(best.values())

    def route(self, reach: Reach) -> Route:
        """The route behind a reach: the roads driven, their length and the arrow of the first turn."""
        arcs = self._roads.arcs
        driven = self._table.arcs_to(reach.row, reach.first_arc)
        nodes = arcs.nodes
        return Route(
            lot=reach.lot,
            entrance=reach.entrance,
            drive_s=reach.drive_s,
            drive_m=float(sum(arcs.length_m[a] for a in driven)),
            walk_s=reach.walk_s,
            walk_m=reach.walk_m,
            arrow=first_turn(
                (
                    (float(arcs.bearing_deg[a]), float(arcs.length_m[a]), choice)
                    for a, choice in zip(
                        driven, _choices(arcs, reach.origin, reach.heading_deg, driven), strict=True
                    )
                ),
                reach.heading_deg,
            ),
            path=(nodes[reach.origin], *(nodes[int(arcs.head[a])] for a in driven)),
        )

    def between_lots(self) -> tuple[dict[str, int], npt.NDArray[np.float64]]:
        """Drive seconds from each lot's first entrance to every other lot: lot -> row, and the matrix.

        inf where a lot cannot be reached from another, and from a lot to itself.
        """
        arcs = self._roads.arcs
        lots = {lot.id: i for i, lot in enumerate(self._config.lots)}
        between = np.full((len(lots), len(lots)), np.inf)
        for lot in self._config.lots:
            start = next(e for e in self._entrances if e.lot.id == lot.id)
            first_arcs = np.asarray(list(arcs.out_arcs(start.node)), dtype=np.int64)
            drive, _ = self._table.times_from(start.node, first_arcs)
            row = between[lots[lot.id]]
            for entrance in self._entrances:
                column = lots[entrance.lot.id]
                if entrance.lot.id != lot.id:
                    row[column] = min(row[column], float(drive[self._table.row(entrance.node)]))
        return lots, between


def _first_arcs(arcs: ArcGraph, origin: int, heading_deg: float | None) -> list[int]:
    """The arcs a car may leave its origin by: all of them, or those not behind its heading."""
    out = arcs.out_arcs(origin)
    if heading_deg is None:
        return list(out)
    return [arc for arc in out if abs(turn_deg(heading_deg, float(arcs.bearing_deg[arc]))) < NO_TURN_BACK_DEG]


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


def first_turn(legs: Iterable[tuple[float, float, bool]], facing_deg: float | None) -> Arrow:
    """The arrow for a drive: the turn at its first real choice within the look-ahead, else ahead.

    `legs` are the (bearing_deg, length_m, choice) of the edges driven, in order;
    `choice` is True where the node the edge leaves offers another way on (a U-turn
    is no other way). A bend where the road has no alternative (a ramp, a roundabout
    entry) is no choice and shows nothing; the first choice shows its turn, ahead
    included. It counts if it lies at most TURN_LOOKAHEAD_M along the route; the
    first leg turns from `facing_deg` (None: the first leg sets the heading).
    """
    heading = facing_deg
    travelled_m = 0.0
    for bearing, length_m, choice in legs:
        if choice and heading is not None:
            return arrow_for(turn_deg(heading, bearing))
        travelled_m += length_m
        if travelled_m > TURN_LOOKAHEAD_M:
            break
        heading = bearing
    return "ahead"


def _choices(arcs: ArcGraph, origin: int, heading_deg: float | None, driven: list[int]) -> Iterator[bool]:
    """Per arc driven, lazily (the arrow reads only the look-ahead): did the node it leaves offer
    another way on?"""
    if driven:
        yield len(_first_arcs(arcs, origin, heading_deg)) > 1
    for came in driven[:-1]:
        node = int(arcs.head[came])
        yield sum(1 for nxt in arcs.out_arcs(node) if arcs.may_follow(came, nxt)) > 1


def arrow_for(turn: float) -> Arrow:
    """Map a signed turn in degrees to one of six board arrows."""
    magnitude = abs(turn)
    if magnitude < TURN_MIN_DEG:
        return "ahead"
    if magnitude >= BACK_MIN_DEG:
        return "back"
    right = turn > 0
    if magnitude < HALF_TURN_MAX_DEG:
        return "ahead_right" if right else "ahead_left"
    return "right" if right else "left"
