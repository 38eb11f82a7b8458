"""Read an OpenStreetMap extract (.osm XML or .osm.pbf) into the directed road graph cars can drive.

pyosmium (libosmium) reads the file in one pass with node locations cached:
drivable ways become edges (one-way streets, `oneway=-1`, roundabouts and
motorways in their direction only), each with a travel time from its
`maxspeed` or a default for its highway type; turn restrictions with a via node
become turn rules; ways are cut where the extract lost their nodes; and only
the largest strongly connected component is kept, so every node can reach every
other. Each node's dead-end flag is taken from the source data before that
pruning (a road cut at the extract's edge is not a dead end), so the no-U-turn
rule holds at a through node that pruning left with one way out. Parking
amenities (`amenity=parking`) are collected as candidate lots.
docs/guidance.md has the rules and defaults.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import osmium

from parking.errors import ParkingGuideError
from parking.geo import EARTH_RADIUS_M, bearing_deg, distance_m
from parking.guidance.drive import TurnKind, TurnRestriction
from parking.guidance.graph import RoadGraph

logger = logging.getLogger(__name__)

# km/h where a way has no usable maxspeed; links drive like their road's lower end
DEFAULT_SPEED_KMH: Mapping[str, float] = {
    "motorway": 100.0,
    "trunk": 80.0,
    "primary": 50.0,
    "secondary": 50.0,
    "tertiary": 40.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "road": 30.0,
    "living_street": 10.0,
    "service": 15.0,
    "motorway_link": 60.0,
    "trunk_link": 50.0,
    "primary_link": 40.0,
    "secondary_link": 40.0,
    "tertiary_link": 30.0,
}
# maxspeed zones as written in OSM (country:zone), where a number is not given
ZONE_SPEED_KMH: Mapping[str, float] = {
    "urban": 50.0,
    "rural": 80.0,
    "motorway": 120.0,
    "trunk": 100.0,
    "living_street": 10.0,
    "walk": 7.0,
    "zone30": 30.0,
    "zone:30": 30.0,
}
NO_CARS = frozenset({"no", "private", "agricultural", "forestry", "delivery", "emergency", "destination_no"})
SKIPPED_SERVICE = frozenset({"driveway", "emergency_access", "drive-through"})
SPACE_M2 = 25.0  # one parking space with its share of aisle, for amenities without a capacity tag
# spaces assumed for a parking mapped as a point without a capacity tag, by its parking=* type
POINT_CAPACITY: Mapping[str, int] = {"underground": 200, "multi-storey": 200, "rooftop": 100}
POINT_CAPACITY_DEFAULT = 20
EDGE_M = 30.0  # a road ending this close to the extract's bounding box runs on outside it
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh)?\s*$")


class OsmImportError(ParkingGuideError):
    """An extract cannot be read, or holds no drivable road."""


@dataclass(frozen=True, slots=True)
class ParkingFeature:
    """An `amenity=parking` of the extract: a candidate lot."""

    osm_id: str  # "n123" or "w456"
    name: str
    lat: float
    lon: float
    capacity: int
    capacity_estimated: bool  # from the area, no capacity tag
    parking: str  # surface, multi-storey, underground, street_side, ...
    ref: str = ""
    access: str = ""
    outline: tuple[tuple[float, float], ...] = ()  # (lat, lon) of an area's nodes; () for a point


@dataclass(frozen=True, slots=True)
class ParkingEntrance:
    """An `amenity=parking_entrance` node: where cars drive into a car park."""

    osm_id: str
    name: str
    ref: str
    lat: float
    lon: float


@dataclass(slots=True)
class ImportStats:
    """What the import found and kept."""

    ways: int = 0
    oneway_ways: int = 0
    reversed_ways: int = 0  # oneway=-1
    roundabout_ways: int = 0
    cut_ways: int = 0  # ways the extract had lost nodes of, cut there
    restrictions_read: int = 0
    restrictions_kept: int = 0
    nodes_before_scc: int = 0
    nodes_dropped_scc: int = 0
    dead_ends: int = 0  # nodes that end a road in the source data (U-turns allowed there)
    cut_roads: list[str] = field(default_factory=list)  # names of the roads cut at the extract's edge
    parking: int = 0


@dataclass(slots=True)
class OsmRoads:
    """The drivable graph of an extract, with its turn rules and parking amenities."""

    graph: nx.DiGraph
    coords: dict[str, tuple[float, float]]
    restrictions: list[TurnRestriction]
    parking: list[ParkingFeature]
    stats: ImportStats = field(default_factory=ImportStats)
    dead_ends: frozenset[str] = frozenset()  # kept nodes that end a road in the source data
    entrances: list[ParkingEntrance] = field(default_factory=list)
    highway: dict[tuple[str, str], str] = field(default_factory=dict)  # edge -> its way's highway=*

    def road_graph(self) -> RoadGraph:
        """The graph as guidance reads it."""
        return RoadGraph(self.graph, self.coords, self.restrictions, self.dead_ends)


@dataclass(slots=True)
class _Ways:
    """What the one pass keeps of the drivable ways: node refs by way, every node's neighbours."""

    refs: dict[int, list[int]] = field(default_factory=dict)  # -1 where the extract lost a node
    highway: dict[int, str] = field(default_factory=dict)
    neighbours: dict[int, set[int]] = field(default_factory=dict)  # lost nodes included
    names: dict[int, str] = field(default_factory=dict)
    lost: set[int] = field(default_factory=set)  # ways that lost a node


@dataclass(slots=True)
class _Read:
    """Everything one pass over the extract keeps, before pruning to the largest component."""

    graph: nx.DiGraph = field(default_factory=nx.DiGraph)
    coords: dict[str, tuple[float, float]] = field(default_factory=dict)
    ways: _Ways = field(default_factory=_Ways)
    rules: list[tuple[TurnKind, int, int, int]] = field(default_factory=list)
    parking: list[ParkingFeature] = field(default_factory=list)
    entrances: list[ParkingEntrance] = field(default_factory=list)
    stats: ImportStats = field(default_factory=ImportStats)


def read_osm(path: Path) -> OsmRoads:
    """Read an extract (.osm, .osm.pbf, .osm.bz2, ...) into the largest strongly connected drivable graph."""
    if not path.is_file():
        raise OsmImportError(f"{path}: no such file")
    read = _Read()
    processor = osmium.FileProcessor(str(path)).with_locations()
    processor = processor.with_filter(osmium.filter.KeyFilter("highway", "amenity", "type"))
    try:
        for obj in processor:
            if isinstance(obj, osmium.osm.Way):
                _read_way(obj, read)
            elif isinstance(obj, osmium.osm.Node):
                _read_node(obj, read)
            elif isinstance(obj, osmium.osm.Relation) and obj.tags.get("type") == "restriction":
                read.stats.restrictions_read += 1
                read.rules.extend(_restriction(obj, read.ways.refs))
    except RuntimeError as exc:  # libosmium's errors (a corrupt or truncated file) arrive as RuntimeError
        raise OsmImportError(f"{path}: {exc}") from exc
    if read.graph.number_of_nodes() == 0:
        raise OsmImportError(f"{path}: no drivable road in the extract")
    return _pruned(read, _bounds(path))


def _read_way(obj: osmium.osm.Way, read: _Read) -> None:
    """A car park's outline becomes a parking feature; a highway joins the graph."""
    if obj.tags.get("amenity") == "parking":
        feature = _parking_way(obj)
        if feature is not None:
            read.parking.append(feature)
    if "highway" in obj.tags:
        _add_way(obj, read.graph, read.coords, read.ways, read.stats)


def _read_node(obj: osmium.osm.Node, read: _Read) -> None:
    """A car park drawn as a point, or a car park's entrance."""
    amenity = obj.tags.get("amenity")
    if amenity == "parking" and obj.location.valid():
        read.parking.append(_parking_node(obj))
    elif amenity == "parking_entrance" and obj.location.valid():
        read.entrances.append(
            ParkingEntrance(
                f"n{obj.id}",
                obj.tags.get("name") or "",
                obj.tags.get("ref") or "",
                obj.location.lat,
                obj.location.lon,
            )
        )


def _pruned(read: _Read, bounds: tuple[float, float, float, float] | None) -> OsmRoads:
    """The largest strongly connected component, with the dead ends of the source data kept."""
    stats, ways = read.stats, read.ways
    stats.nodes_before_scc = read.graph.number_of_nodes()
    dead_ends = _dead_ends(ways, read.coords, bounds, stats)
    largest = max(nx.strongly_connected_components(read.graph), key=len)
    graph = read.graph.subgraph(largest).copy()
    stats.nodes_dropped_scc = stats.nodes_before_scc - graph.number_of_nodes()
    coords = {node: read.coords[node] for node in graph}
    restrictions = [
        TurnRestriction(kind, str(a), str(via), str(b))
        for kind, a, via, b in read.rules
        if graph.has_edge(str(a), str(via)) and graph.has_edge(str(via), str(b))
    ]
    stats.restrictions_kept = len(restrictions)
    stats.parking = len(read.parking)
    kept_dead_ends = frozenset(node for node in dead_ends if node in graph)
    stats.dead_ends = len(kept_dead_ends)
    highway = {}
    for way, refs in ways.refs.items():
        for a, b in itertools.pairwise(refs):
            for edge in ((str(a), str(b)), (str(b), str(a))):
                if graph.has_edge(*edge):
                    highway[edge] = ways.highway[way]
    return OsmRoads(graph, coords, restrictions, read.parking, stats, kept_dead_ends, read.entrances, highway)


def _bounds(path: Path) -> tuple[float, float, float, float] | None:
    """(south, west, north, east) of the extract's header box; None without one.

    The extent of the nodes read is no substitute: in a small extract a real dead
    end is often the outermost node.
    """
    reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
    try:
        box = reader.header().box()
    finally:
        reader.close()
    if not box.valid():
        return None
    return box.bottom_left.lat, box.bottom_left.lon, box.top_right.lat, box.top_right.lon


def _dead_ends(
    ways: _Ways,
    coords: Mapping[str, tuple[float, float]],
    bounds: tuple[float, float, float, float] | None,
    stats: ImportStats,
) -> set[str]:
    """The nodes with one neighbour in the source data and not at its edge; counts the cut ways."""

    def at_edge(node: int) -> bool:
        if bounds is None:
            return False
        south, west, north, east = bounds
        lat, lon = coords[str(node)]
        return (
            min(
                distance_m(lat, lon, south, lon),
                distance_m(lat, lon, north, lon),
                distance_m(lat, lon, lat, west),
                distance_m(lat, lon, lat, east),
            )
            <= EDGE_M
        )

    ends = {node for node, near in ways.neighbours.items() if len(near) == 1 and str(node) in coords}
    edge = {node for node in ends if at_edge(node)}
    cut = set(ways.lost)
    for way, refs in ways.refs.items():
        if refs and (refs[0] in edge or refs[-1] in edge):
            cut.add(way)  # an extract clipped by dropping the way's outer nodes: it ends at the edge
    stats.cut_ways = len(cut)
    stats.cut_roads = sorted({ways.names[way] for way in cut if ways.names.get(way)})
    return {str(node) for node in ends - edge}


def drivable(tags: Mapping[str, str]) -> bool:
    """True for a way a car may drive along (a road type we know, not closed to cars)."""
    highway = tags.get("highway", "")
    if highway not in DEFAULT_SPEED_KMH or tags.get("area") == "yes":
        return False
    if highway == "service" and tags.get("service") in SKIPPED_SERVICE:
        return False
    for key in ("motorcar", "motor_vehicle", "vehicle", "access"):
        value = tags.get(key)
        if value is not None:
            return value not in NO_CARS  # the most specific key that is set decides
    return True


def direction(tags: Mapping[str, str]) -> int:
    """1: only in the way's order; -1: only against it; 0: both ways."""
    oneway = tags.get("oneway", "")
    if oneway in ("yes", "true", "1"):
        return 1
    if oneway in ("-1", "reverse"):
        return -1
    if oneway in ("no", "false", "0", "reversible", "alternating"):
        return 0  # reversible lanes change direction by the hour: neither is safe to assume
    if tags.get("junction") in ("roundabout", "circular") or tags.get("highway") == "motorway":
        return 1
    return 0


def speed_kmh(tags: Mapping[str, str]) -> float:
    """The way's maxspeed if it is a number or a known zone, else the default for its highway type."""
    value = tags.get("maxspeed", "")
    match = _NUMBER.match(value)
    if match:
        speed = float(match[1]) * (1.609344 if match[2] == "mph" else 1.0)
        if speed > 0:
            return speed
    zone = value.split(":", 1)[-1].lower() if ":" in value else ""
    if zone in ZONE_SPEED_KMH:
        return ZONE_SPEED_KMH[zone]
    return DEFAULT_SPEED_KMH.get(tags.get("highway", ""), 30.0)


def _add_way(
    way: osmium.osm.Way,
    graph: nx.DiGraph,
    coords: dict[str, tuple[float, float]],
    ways: _Ways,
    stats: ImportStats,
) -> None:
    tags = {tag.k: tag.v for tag in way.tags}
    if not drivable(tags):
        return
    stats.ways += 1
    way_dir = direction(tags)
    stats.oneway_ways += way_dir != 0
    stats.reversed_ways += way_dir == -1
    stats.roundabout_ways += tags.get("junction") in ("roundabout", "circular")
    speed_mps = speed_kmh(tags) / 3.6
    name = tags.get("name", "")
    refs: list[int] = []
    every = [node.ref for node in way.nodes]
    for node in way.nodes:
        if not node.location.valid():
            ways.lost.add(way.id)  # outside the extract: the way is cut here, its pieces stay
            refs.append(-1)
            continue
        refs.append(node.ref)
        coords.setdefault(str(node.ref), (node.location.lat, node.location.lon))
    for a, b in itertools.pairwise(every):
        if a != b:
            ways.neighbours.setdefault(a, set()).add(b)
            ways.neighbours.setdefault(b, set()).add(a)
    ways.refs[way.id] = refs
    ways.names[way.id] = name
    ways.highway[way.id] = tags["highway"]
    for a, b in itertools.pairwise(refs):
        if a < 0 or b < 0 or a == b:
            continue
        pairs = {1: [(a, b)], -1: [(b, a)], 0: [(a, b), (b, a)]}[way_dir]
        for u, v in pairs:
            (lat1, lon1), (lat2, lon2) = coords[str(u)], coords[str(v)]
            length = distance_m(lat1, lon1, lat2, lon2)
            travel = length / speed_mps
            current = graph.get_edge_data(str(u), str(v))
            if current is not None and current["travel_s"] <= travel:
                continue  # two ways between one pair of nodes: the quicker one
            graph.add_edge(
                str(u),
                str(v),
                travel_s=travel,
                length_m=length,
                bearing=bearing_deg(lat1, lon1, lat2, lon2),
                name=name,
            )


def _restriction(
    relation: osmium.osm.Relation, way_nodes: Mapping[int, list[int]]
) -> Iterable[tuple[TurnKind, int, int, int]]:
    """The (kind, from node, via node, to node) turns of a restriction relation with a via node."""
    value = relation.tags.get("restriction") or relation.tags.get("restriction:motorcar") or ""
    kind: TurnKind
    if value.startswith("no_"):
        kind = "no"
    elif value.startswith("only_"):
        kind = "only"
    else:
        return []
    members: dict[str, list[tuple[str, int]]] = {"from": [], "via": [], "to": []}
    for member in relation.members:
        if member.role in members:
            members[member.role].append((member.type, member.ref))
    if len(members["from"]) != 1 or len(members["to"]) != 1 or len(members["via"]) != 1:
        return []
    (from_type, from_way), (to_type, to_way), (via_type, via) = (
        members["from"][0],
        members["to"][0],
        members["via"][0],
    )
    if from_type != "w" or to_type != "w" or via_type != "n":
        return []  # via a way: rare, and not modelled
    before = _next_to(way_nodes.get(from_way, []), via)
    after = _next_to(way_nodes.get(to_way, []), via)
    if kind == "only" and (len(before) != 1 or len(after) != 1):
        return []  # an "only" through the middle of a way is ambiguous: leave it out
    return [(kind, a, via, b) for a in before for b in after]


def _next_to(refs: list[int], via: int) -> list[int]:
    """The nodes beside `via` on a way (one at an end of the way, two in its middle)."""
    out: list[int] = []
    for i, ref in enumerate(refs):
        if ref == via:
            out.extend(
                n for n in (refs[i - 1] if i else -1, refs[i + 1] if i + 1 < len(refs) else -1) if n >= 0
            )
    return out


def _parking_node(node: osmium.osm.Node) -> ParkingFeature:
    kind = node.tags.get("parking") or "surface"
    capacity, estimated = _capacity(
        node.tags.get("capacity"), POINT_CAPACITY.get(kind, POINT_CAPACITY_DEFAULT) * SPACE_M2
    )
    return ParkingFeature(
        f"n{node.id}",
        node.tags.get("name") or "",
        node.location.lat,
        node.location.lon,
        capacity,
        estimated,
        kind,
        node.tags.get("ref") or "",
        node.tags.get("access") or "",
    )


def _parking_way(way: osmium.osm.Way) -> ParkingFeature | None:
    points = [(n.location.lat, n.location.lon) for n in way.nodes if n.location.valid()]
    if len(points) < 3:
        return None
    lat = sum(p[0] for p in points) / len(points)
    lon = sum(p[1] for p in points) / len(points)
    capacity, estimated = _capacity(way.tags.get("capacity"), _area_m2(points))
    return ParkingFeature(
        f"w{way.id}",
        way.tags.get("name") or "",
        lat,
        lon,
        capacity,
        estimated,
        way.tags.get("parking") or "surface",
        way.tags.get("ref") or "",
        way.tags.get("access") or "",
        tuple(points),
    )


def _capacity(tag: str | None, area_m2: float) -> tuple[int, bool]:
    if tag is not None and tag.strip().isdigit() and int(tag) > 0:
        return int(tag), False
    return max(1, round(area_m2 / SPACE_M2)), True


def _area_m2(points: list[tuple[float, float]]) -> float:
    """Area of a small polygon given in degrees (shoelace on a local flat projection)."""
    lat0 = math.radians(sum(p[0] for p in points) / len(points))
    xy = [
        (math.radians(lon) * EARTH_RADIUS_M * math.cos(lat0), math.radians(lat) * EARTH_RADIUS_M)
        for lat, lon in points
    ]
    twice = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in itertools.pairwise([*xy, xy[0]]))
    return abs(twice) / 2.0
