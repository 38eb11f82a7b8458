"""Candidate lots from an extract's car parks: one lot per car park, its entrances, its capacity's source.

OpenStreetMap maps one car park in pieces: an area and a point inside it, or a
point at each entrance of a garage under the same name, and `amenity=parking_entrance`
nodes where cars drive in. Here the pieces become one lot: a point inside an area
joins the area; features with the same name (or ref) within MERGE_M of each other
join; each parking_entrance node joins the car park whose area holds it or whose
position is nearest within ENTRANCE_M. An unnamed car park with `access=private`
(or `no`) is left out: nobody can be sent there, and a named one is kept because
the name says someone meant it to be found (its access is written beside it).
A capacity without a tag is an estimate, and the lot written says so.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import yaml

from parking.geo import distance_m
from parking.roads.osm import (
    POINT_CAPACITY,
    POINT_CAPACITY_DEFAULT,
    SPACE_M2,
    ParkingEntrance,
    ParkingFeature,
)

MERGE_M = 100.0  # features of one name (or ref) this close are one car park
ENTRANCE_M = 150.0  # a parking_entrance node this close to a car park is one of its entrances
CLOSED = frozenset({"private", "no"})
STREET = frozenset({"street_side", "lane", "inline", "on_kerb", "half_on_kerb"})


@dataclass(slots=True)
class CandidateLot:
    """One car park of the extract, as a lot for config.yaml."""

    features: list[ParkingFeature]
    entrances: list[ParkingEntrance] = field(default_factory=list)

    @property
    def first(self) -> ParkingFeature:
        """The feature the lot is named after: its area, else the first of its points in the extract."""
        return next((f for f in self.features if f.outline), self.features[0])

    @property
    def capacity(self) -> tuple[int, str | None]:
        """Spaces, and why they are a guess (None: tagged)."""
        tagged = [f.capacity for f in self.features if not f.capacity_estimated]
        if tagged:
            return max(tagged), None
        first = self.first
        if first.outline:
            return (
                first.capacity,
                f"no capacity tag: area {first.capacity * SPACE_M2:.0f} m2 / {SPACE_M2:.0f} m2",
            )
        kind = first.parking
        return first.capacity, (
            f"no capacity tag: a point, {POINT_CAPACITY.get(kind, POINT_CAPACITY_DEFAULT)} assumed for"
            f" parking={kind}"
        )


@dataclass(slots=True)
class LotsReport:
    """What became of the extract's car parks."""

    features: int = 0
    private_skipped: int = 0
    merged: int = 0  # features that joined another's lot
    entrances_used: int = 0
    entrances_unmatched: int = 0
    estimated: int = 0
    lots: int = 0

    def lines(self) -> list[str]:
        """The report, for the import's printout."""
        return [
            f"  lots:          {self.lots} from {self.features} amenity=parking features;",
            f"                 {self.merged} merged (one name or ref within {MERGE_M:.0f} m, point in area),",
            f"                 {self.private_skipped} left out (access=private or no, and no name),",
            f"                 {self.estimated} capacities estimated (capacity_estimated: true),",
            f"                 {self.entrances_used} amenity=parking_entrance nodes as entrances"
            f" ({self.entrances_unmatched} with no car park within {ENTRANCE_M:.0f} m)",
        ]


def candidate_lots(
    features: list[ParkingFeature], entrances: list[ParkingEntrance]
) -> tuple[list[CandidateLot], LotsReport]:
    """The extract's car parks as lots: private unnamed ones left out, pieces of one car park joined."""
    report = LotsReport(features=len(features))
    kept = [f for f in features if f.name or f.access not in CLOSED]
    report.private_skipped = len(features) - len(kept)
    parent = list(range(len(kept)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in itertools.combinations(range(len(kept)), 2):
        a, b = kept[i], kept[j]
        same = (a.name and a.name.casefold() == b.name.casefold()) or (a.ref and a.ref == b.ref)
        inside = (a.outline and not b.outline and _inside(b.lat, b.lon, a.outline)) or (
            b.outline and not a.outline and _inside(a.lat, a.lon, b.outline)
        )
        if inside or (same and distance_m(a.lat, a.lon, b.lat, b.lon) <= MERGE_M):
            parent[root(j)] = root(i)
    groups: dict[int, CandidateLot] = {}
    for i, feature in enumerate(kept):
        groups.setdefault(root(i), CandidateLot([])).features.append(feature)
    lots = list(groups.values())  # in the extract's order, as before the merge
    report.merged = len(kept) - len(lots)
    for entrance in entrances:
        lot = _owner(entrance, lots)
        if lot is None:
            report.entrances_unmatched += 1
        else:
            lot.entrances.append(entrance)
            report.entrances_used += 1
    report.lots = len(lots)
    report.estimated = sum(lot.capacity[1] is not None for lot in lots)
    return lots, report


def _owner(entrance: ParkingEntrance, lots: list[CandidateLot]) -> CandidateLot | None:
    best: tuple[float, CandidateLot] | None = None
    for lot in lots:
        for f in lot.features:
            if f.outline and _inside(entrance.lat, entrance.lon, f.outline):
                return lot
            gap = min(
                [distance_m(entrance.lat, entrance.lon, f.lat, f.lon)]
                + [distance_m(entrance.lat, entrance.lon, lat, lon) for lat, lon in f.outline]
            )
            if gap <= ENTRANCE_M and (best is None or gap < best[0]):
                best = (gap, lot)
    return None if best is None else best[1]


def _inside(lat: float, lon: float, outline: tuple[tuple[float, float], ...]) -> bool:
    """Point in polygon (ray casting on lat/lon: car parks are small)."""
    inside = False
    for (lat1, lon1), (lat2, lon2) in itertools.pairwise([*outline, outline[0]]):
        if (lat1 > lat) != (lat2 > lat) and lon < lon1 + (lat - lat1) * (lon2 - lon1) / (lat2 - lat1):
            inside = not inside
    return inside


def lots_yaml(lots: list[CandidateLot], attribution: str) -> str:
    """The lots as a `lots:` list for config.yaml, an estimated capacity marked by a comment and its flag."""
    out = [
        f"# lots from amenity=parking, {attribution}",
        "# capacity_estimated: true marks a capacity without an OSM tag: count the spaces, then set it false",
        "lots:",
    ]
    for lot in lots:
        first = lot.first
        capacity, guess = lot.capacity
        pieces = ", ".join(f.osm_id for f in lot.features)
        out.append(
            f"# {pieces}"
            + (f"; {guess}" if guess else "")
            + (f"; access={first.access}" if first.access else "")
        )
        if lot.entrances:
            entrances = [
                {"id": f"e{i + 1}", "lat": round(e.lat, 7), "lon": round(e.lon, 7)}
                for i, e in enumerate(lot.entrances)
            ]
        else:
            points = [f for f in lot.features if not f.outline] or [first]
            entrances = [
                {"id": "main" if i == 0 else f"e{i + 1}", "lat": round(f.lat, 7), "lon": round(f.lon, 7)}
                for i, f in enumerate(points)
            ]
        entry = {
            "id": f"osm-{first.osm_id}",
            "name": next((f.name for f in lot.features if f.name), "") or f"Parking {first.osm_id}",
            "kind": "street" if first.parking in STREET else "public",
            "feed": "lot",
            "lat": round(first.lat, 7),
            "lon": round(first.lon, 7),
            "capacity": {"general": capacity},
            **({"capacity_estimated": True} if guess else {}),
            "entrances": entrances,
        }
        out.append(yaml.safe_dump([entry], sort_keys=False, allow_unicode=True).rstrip("\n"))
    return "\n".join(out) + "\n"
