"""Nearest road node to a position: a k-d tree over node positions in metres.

Nodes are placed on a sphere of the Earth's mean radius (earth-centred x, y, z
in metres), so the straight-line (chord) distance the tree measures grows with
the great-circle distance everywhere: the nearest node is the same as a
haversine scan would find, with no projection error far from the centre of the
graph and no seam at the antimeridian.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from scipy.spatial import cKDTree

from parking.geo import EARTH_RADIUS_M


class NodeIndex:
    """Road nodes in a k-d tree; read-only once built, safe to query from many threads."""

    __slots__ = ("_ids", "_tree")

    def __init__(self, coords: Mapping[str, tuple[float, float]]) -> None:
        if not coords:
            raise ValueError("a node index needs at least one node")
        self._ids = tuple(coords)
        lat_lon = np.radians(np.array([coords[node] for node in self._ids], dtype=np.float64))
        lat, lon = lat_lon[:, 0], lat_lon[:, 1]
        points = EARTH_RADIUS_M * np.column_stack(
            (np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat))
        )
        self._tree = cKDTree(points)

    def __len__(self) -> int:
        return len(self._ids)

    def snap(self, lat: float, lon: float) -> tuple[str, float]:
        """The node nearest to a WGS-84 position and its great-circle distance in metres."""
        chord_m, i = self._tree.query(_point_m(lat, lon))
        return self._ids[int(i)], _arc_m(float(chord_m))


def _point_m(lat: float, lon: float) -> tuple[float, float, float]:
    p, lam = math.radians(lat), math.radians(lon)
    return (
        EARTH_RADIUS_M * math.cos(p) * math.cos(lam),
        EARTH_RADIUS_M * math.cos(p) * math.sin(lam),
        EARTH_RADIUS_M * math.sin(p),
    )


def _arc_m(chord_m: float) -> float:
    """Great-circle distance for a chord through the sphere (the haversine distance)."""
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, chord_m / (2 * EARTH_RADIUS_M)))
