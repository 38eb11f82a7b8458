"""WGS-84 / GCJ-02 / BD-09 conversions against reference values published with well-known libraries."""

from __future__ import annotations

import pytest

from parking.coords import (
    GCJ02_INVERSE_TOLERANCE_DEG,
    bd09_to_gcj02,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china_box,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from parking.geo import distance_m

# (wgs lat, wgs lon, gcj lat, gcj lon): googollee/eviltransform, python/test.py and
# go/transform_test.go ("TESTS": shanghai, shenzhen, beijing); checked there to 6 decimals.
EVILTRANSFORM = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]


class TestReferenceValues:
    def test_wgs84_to_gcj02_matches_coordtransform(self) -> None:
        # wandergis/coordtransform, test/app.js: wgs84togcj02(116.404, 39.915)
        # -> [116.41024449916938, 39.91640428150164] (lon, lat); the same figures are
        # asserted exactly in hutool's CoordinateUtilTest and coordtransform_rs.
        lat, lon = wgs84_to_gcj02(39.915, 116.404)
        assert lat == pytest.approx(39.91640428150164, abs=1e-12)
        assert lon == pytest.approx(116.41024449916938, abs=1e-12)

    def test_gcj02_to_bd09_matches_coordtransform(self) -> None:
        # wandergis/coordtransform, test/app.js: gcj02tobd09(116.404, 39.915)
        # -> [116.41036949371029, 39.92133699351021]
        lat, lon = gcj02_to_bd09(39.915, 116.404)
        assert lat == pytest.approx(39.92133699351021, abs=1e-12)
        assert lon == pytest.approx(116.41036949371029, abs=1e-12)

    def test_bd09_to_gcj02_matches_coordtransform(self) -> None:
        # wandergis/coordtransform, test/app.js: bd09togcj02(116.404, 39.915)
        # -> [116.39762729119315, 39.90865673957631]
        lat, lon = bd09_to_gcj02(39.915, 116.404)
        assert lat == pytest.approx(39.90865673957631, abs=1e-12)
        assert lon == pytest.approx(116.39762729119315, abs=1e-12)

    @pytest.mark.parametrize(("wgs_lat", "wgs_lon", "gcj_lat", "gcj_lon"), EVILTRANSFORM)
    def test_wgs84_to_gcj02_matches_eviltransform(
        self, wgs_lat: float, wgs_lon: float, gcj_lat: float, gcj_lon: float
    ) -> None:
        lat, lon = wgs84_to_gcj02(wgs_lat, wgs_lon)
        assert lat == pytest.approx(gcj_lat, abs=1e-9)
        assert lon == pytest.approx(gcj_lon, abs=1e-9)

    def test_gcoord_reference_point(self) -> None:
        # hujiulong/gcoord, test/unit/crs/WGS84.spec.js and GCJ02.spec.js, point [123, 45]
        # (lon, lat), checked there with toBeCloseTo(x, 5).
        assert wgs84_to_gcj02(45, 123) == pytest.approx((45.00197815, 123.00607541), abs=5e-6)
        assert wgs84_to_bd09(45, 123) == pytest.approx((45.0083293, 123.0124491), abs=5e-6)
        assert gcj02_to_bd09(45, 123) == pytest.approx((45.00636899, 123.00636499), abs=5e-6)

    def test_gcoord_city_fixture(self) -> None:
        # hujiulong/gcoord, test/fixtures/china-cities.json, 郑州市 (Zhengzhou): values taken
        # from the map providers themselves, to 7 decimals; gcoord checks WGS84->GCJ02 to
        # 4 decimals and GCJ02->BD09 to 6.
        wgs, gcj, bd = (34.7478004, 113.6192856), (34.7466173, 113.6253334), (34.7528605, 113.6317519)
        assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=5e-5)
        assert gcj02_to_bd09(*gcj) == pytest.approx(bd, abs=5e-7)


class TestRoundTrips:
    @pytest.mark.parametrize(("wgs_lat", "wgs_lon", "gcj_lat", "gcj_lon"), EVILTRANSFORM)
    def test_gcj02_to_wgs84_inverts_the_forward_offset(
        self, wgs_lat: float, wgs_lon: float, gcj_lat: float, gcj_lon: float
    ) -> None:
        lat, lon = gcj02_to_wgs84(gcj_lat, gcj_lon)
        # eviltransform's own bar for its exact inverse is 0.5 m; ours is far tighter
        assert distance_m(lat, lon, wgs_lat, wgs_lon) < 0.001

    @pytest.mark.parametrize(
        ("lat", "lon"), [(30.2741, 120.1551), (39.9087, 116.3975), (22.3193, 114.1694), (45.7, 126.6)]
    )
    def test_wgs84_gcj02_wgs84(self, lat: float, lon: float) -> None:
        back = gcj02_to_wgs84(*wgs84_to_gcj02(lat, lon))
        assert back == pytest.approx((lat, lon), abs=1e-9)

    @pytest.mark.parametrize(("lat", "lon"), [(30.2741, 120.1551), (34.8769, 113.7728), (45.7, 126.6)])
    def test_gcj02_to_wgs84_is_exact_to_the_tolerance_in_both_coordinates(
        self, lat: float, lon: float
    ) -> None:
        # Hangzhou, Zhengzhou, Harbin: the iteration stops only once latitude and longitude both agree
        forward = wgs84_to_gcj02(*gcj02_to_wgs84(lat, lon))
        assert abs(forward.lat - lat) < GCJ02_INVERSE_TOLERANCE_DEG
        assert abs(forward.lon - lon) < GCJ02_INVERSE_TOLERANCE_DEG

    @pytest.mark.parametrize(("lat", "lon"), [(30.2741, 120.1551), (39.9087, 116.3975), (45.7, 126.6)])
    def test_gcj02_bd09_gcj02_within_the_closed_form_error(self, lat: float, lon: float) -> None:
        back = bd09_to_gcj02(*gcj02_to_bd09(lat, lon))
        assert distance_m(*back, lat, lon) < 0.5

    def test_the_offsets_are_hundreds_of_metres_not_zero(self) -> None:
        # Hangzhou: a conversion that silently did nothing would pass the round trips
        lat, lon = 30.2741, 120.1551
        assert 100 < distance_m(lat, lon, *wgs84_to_gcj02(lat, lon)) < 1000
        assert 500 < distance_m(lat, lon, *wgs84_to_bd09(lat, lon)) < 2000


class TestOutsideChina:
    @pytest.mark.parametrize(
        ("lat", "lon"),
        [(51.5072, -0.1276), (40.7128, -74.0060), (-33.8688, 151.2093), (35.6762, 139.6503), (45, 183)],
    )
    def test_points_outside_the_box_are_unchanged(self, lat: float, lon: float) -> None:
        assert not in_china_box(lat, lon)
        for convert in (wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02, wgs84_to_bd09):
            assert convert(lat, lon) == (lat, lon)

    @pytest.mark.parametrize(("lat", "lon"), [(0.8293, 72.004), (55.8271, 137.8347)])
    def test_the_corners_of_the_box_are_inside(self, lat: float, lon: float) -> None:
        assert in_china_box(lat, lon)

    @pytest.mark.parametrize(("lat", "lon"), [(0.8292, 100.0), (30.0, 137.8348), (56.0, 120.0)])
    def test_just_past_the_box_is_outside(self, lat: float, lon: float) -> None:
        assert not in_china_box(lat, lon)

    @pytest.mark.parametrize(
        ("lat", "lon"),
        [(22.3193, 114.1694), (25.0330, 121.5654), (1.2903, 103.8519), (37.5665, 126.9780)],
    )
    def test_the_box_is_a_box_not_the_border(self, lat: float, lon: float) -> None:
        # Hong Kong and Taipei, but also Singapore and Seoul, lie inside it and are shifted
        assert in_china_box(lat, lon)
        assert wgs84_to_gcj02(lat, lon) != (lat, lon)
