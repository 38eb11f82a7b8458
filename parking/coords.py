"""Coordinate systems of Chinese map apps: WGS-84 -> GCJ-02 (Amap, Tencent) -> BD-09 (Baidu).

GCJ-02 is the offset that Chinese law requires of published maps; BD-09 is
Baidu's further offset of GCJ-02. The formulas are the widely published ones
(Krasovsky 1940 ellipsoid; Baidu's x_pi rotation), as in the `coordtransform`,
`eviltransform` and `gcoord` libraries. The offsets apply only in China: a
point outside `CHINA_BOX` is returned unchanged by every conversion here.

Points are (lat, lon) in degrees, in that order, as everywhere in this project.
"""

from __future__ import annotations

import math
from typing import NamedTuple

KRASOVSKY_A_M = 6378245.0  # semi-major axis of the Krasovsky 1940 ellipsoid
KRASOVSKY_EE = 0.00669342162296594323  # its first eccentricity squared
BD09_X_PI = 3.14159265358979324 * 3000.0 / 180.0

# The usual rough bounding box of China (as in eviltransform). It is a box, not
# the border: Hong Kong, Macau and Taiwan, and the neighbours' land inside the
# box, are treated as inside; a Chinese point outside it is treated as outside.
CHINA_LAT_MIN, CHINA_LAT_MAX = 0.8293, 55.8271
CHINA_LON_MIN, CHINA_LON_MAX = 72.004, 137.8347

GCJ02_INVERSE_TOLERANCE_DEG = 1e-10  # about 0.01 mm
GCJ02_INVERSE_MAX_ITERATIONS = 30


class LatLon(NamedTuple):
    """A point in degrees; which datum it is in is the caller's to know."""

    lat: float
    lon: float


def in_china_box(lat: float, lon: float) -> bool:
    """Whether the point lies in the rough bounding box where the Chinese offsets apply."""
    return CHINA_LAT_MIN <= lat <= CHINA_LAT_MAX and CHINA_LON_MIN <= lon <= CHINA_LON_MAX


def wgs84_to_gcj02(lat: float, lon: float) -> LatLon:
    """WGS-84 (GPS) to GCJ-02 (Amap, Tencent); unchanged outside the China box."""
    if not in_china_box(lat, lon):
        return LatLon(lat, lon)
    dlat, dlon = _gcj02_offset(lat, lon)
    return LatLon(lat + dlat, lon + dlon)


def gcj02_to_wgs84(lat: float, lon: float) -> LatLon:
    """GCJ-02 back to WGS-84, by fixed-point iteration of the forward offset (exact to ~1e-10 degrees)."""
    if not in_china_box(lat, lon):
        return LatLon(lat, lon)
    # The offset changes by well under 1e-4 of a degree per degree, so subtracting
    # the offset seen at the current guess converges in a handful of steps.
    wgs_lat, wgs_lon = lat, lon
    for _ in range(GCJ02_INVERSE_MAX_ITERATIONS):
        gcj_lat, gcj_lon = wgs84_to_gcj02(wgs_lat, wgs_lon)
        err_lat, err_lon = gcj_lat - lat, gcj_lon - lon
        if abs(err_lat) < GCJ02_INVERSE_TOLERANCE_DEG and abs(err_lon) < GCJ02_INVERSE_TOLERANCE_DEG:
            break
        wgs_lat, wgs_lon = wgs_lat - err_lat, wgs_lon - err_lon
    return LatLon(wgs_lat, wgs_lon)


def gcj02_to_bd09(lat: float, lon: float) -> LatLon:
    """GCJ-02 to BD-09 (Baidu's bd09ll); unchanged outside the China box."""
    if not in_china_box(lat, lon):
        return LatLon(lat, lon)
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * BD09_X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * BD09_X_PI)
    return LatLon(z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065)


def bd09_to_gcj02(lat: float, lon: float) -> LatLon:
    """BD-09 to GCJ-02 by the published closed-form inverse (good to about 1e-6 degrees)."""
    if not in_china_box(lat, lon):
        return LatLon(lat, lon)
    x, y = lon - 0.0065, lat - 0.006
    z = math.hypot(x, y) - 0.00002 * math.sin(y * BD09_X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * BD09_X_PI)
    return LatLon(z * math.sin(theta), z * math.cos(theta))


def wgs84_to_bd09(lat: float, lon: float) -> LatLon:
    """WGS-84 to BD-09, through GCJ-02; unchanged outside the China box."""
    if not in_china_box(lat, lon):
        return LatLon(lat, lon)
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lon))


def _gcj02_offset(lat: float, lon: float) -> tuple[float, float]:
    """The GCJ-02 offset (dlat, dlon) in degrees at a WGS-84 point."""
    x, y = lon - 105.0, lat - 35.0
    dlat_m = _offset_lat(x, y)
    dlon_m = _offset_lon(x, y)
    rad_lat = math.radians(lat)
    magic = 1 - KRASOVSKY_EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = dlat_m * 180.0 / ((KRASOVSKY_A_M * (1 - KRASOVSKY_EE)) / (magic * sqrt_magic) * math.pi)
    dlon = dlon_m * 180.0 / (KRASOVSKY_A_M / sqrt_magic * math.cos(rad_lat) * math.pi)
    return dlat, dlon


def _offset_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _offset_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret
