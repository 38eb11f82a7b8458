"""Navigation deep links: the right datum per app, names that survive encoding, the WeChat rule."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from parking.coords import wgs84_to_bd09, wgs84_to_gcj02
from signage.navigation import NavLink, is_wechat, links_for

HANGZHOU = (30.274100, 120.155100)  # WGS-84, where the offsets are several hundred metres
LONDON = (51.507200, -0.127600)
REFERER = "wulin.parking-guide"
NAME_ZH = "浙大一院 庆春院区 地下停车场"
HALF_UNIT = 5.1e-7  # links carry 6 decimals


def query(url: str) -> dict[str, str]:
    """The query parameters of a URL, percent-decoded, each given once."""
    parsed = parse_qs(urlsplit(url).query, keep_blank_values=True, strict_parsing=True)
    assert all(len(values) == 1 for values in parsed.values()), url
    return {key: values[0] for key, values in parsed.items()}


def pair(text: str) -> tuple[float, float]:
    first, second = text.split(",")
    return float(first), float(second)


def link(links: list[NavLink], app: str, kind: str) -> NavLink:
    (found,) = [candidate for candidate in links if candidate.app == app and candidate.kind == kind]
    return found


def baidu_destination(url: str) -> dict[str, str]:
    """Baidu's `destination=latlng:lat,lng|name:...` as its parts."""
    return dict(part.split(":", 1) for part in query(url)["destination"].split("|"))


def points(links: list[NavLink]) -> dict[tuple[str, str], tuple[float, float]]:
    """The destination each link carries, as (lat, lon), read back from its URL."""
    found: dict[tuple[str, str], tuple[float, float]] = {}
    for nav in links:
        key = (nav.app, nav.kind)
        params = query(nav.url)
        if key == ("amap", "app"):
            found[key] = (float(params["dlat"]), float(params["dlon"]))
        elif key == ("amap", "web"):
            lon, lat, _name = params["to"].split(",")
            found[key] = (float(lat), float(lon))
        elif nav.app == "baidu":
            found[key] = pair(baidu_destination(nav.url)["latlng"])
        elif nav.app == "tencent":
            found[key] = pair(params["tocoord"])
        elif nav.app == "apple":
            found[key] = pair(params["daddr"])
        elif nav.app == "google":
            found[key] = pair(params["destination"])
        elif nav.app == "geo":
            found[key] = pair(urlsplit(nav.url).path)
            assert params["q"].startswith(urlsplit(nav.url).path + "(")
    return found


class TestCoordinateSystems:
    def test_each_app_gets_its_own_datum(self) -> None:
        links = links_for(*HANGZHOU, "Hospital car park", in_wechat=False, referer=REFERER)
        gcj, bd = wgs84_to_gcj02(*HANGZHOU), wgs84_to_bd09(*HANGZHOU)
        expected = {
            ("amap", "app"): gcj,
            ("amap", "web"): gcj,
            ("baidu", "app"): bd,
            ("baidu", "web"): bd,
            ("tencent", "app"): gcj,
            ("tencent", "web"): gcj,
            ("apple", "web"): HANGZHOU,
            ("google", "web"): HANGZHOU,
            ("geo", "app"): HANGZHOU,
        }
        found = points(links)
        assert found.keys() == expected.keys()
        for key, point in expected.items():
            assert found[key] == pytest.approx(point, abs=HALF_UNIT), key
        # the three datums really differ here, so the comparison above can tell them apart
        assert abs(gcj.lon - HANGZHOU[1]) > 1e-3
        assert abs(bd.lon - gcj.lon) > 1e-3

    def test_the_links_say_which_datum_they_carry(self) -> None:
        links = links_for(*HANGZHOU, "Hospital car park", in_wechat=False, referer=REFERER)
        assert query(link(links, "amap", "app").url)["dev"] == "0"  # already offset
        assert query(link(links, "amap", "web").url)["coordinate"] == "gaode"
        for kind in ("app", "web"):
            assert query(link(links, "baidu", kind).url)["coord_type"] == "bd09ll"

    def test_outside_china_every_link_carries_the_unshifted_point(self) -> None:
        links = links_for(*LONDON, "Hospital car park", in_wechat=False, referer=REFERER)
        found = points(links)
        assert len(found) == len(links) == 9
        for key, point in found.items():
            assert point == pytest.approx(LONDON, abs=HALF_UNIT), key
        for kind in ("app", "web"):
            assert query(link(links, "baidu", kind).url)["coord_type"] == "wgs84"


class TestNames:
    def test_a_chinese_name_round_trips_through_every_link(self) -> None:
        links = links_for(*HANGZHOU, NAME_ZH, in_wechat=False, referer=REFERER)
        assert all(nav.url.isascii() for nav in links)  # percent-encoded, not raw UTF-8
        assert query(link(links, "amap", "app").url)["dname"] == NAME_ZH
        assert query(link(links, "amap", "web").url)["to"].split(",")[2] == NAME_ZH
        for kind in ("app", "web"):
            assert baidu_destination(link(links, "baidu", kind).url)["name"] == NAME_ZH
            assert query(link(links, "tencent", kind).url)["to"] == NAME_ZH
        assert query(link(links, "geo", "app").url)["q"].endswith(f"({NAME_ZH})")
        assert link(links, "geo", "app").url.endswith(")")  # Android's documented form: q=lat,lng(label)

    def test_separators_in_a_name_cannot_break_an_apps_syntax(self) -> None:
        name = "Tower, East | Gate: B (2)"
        links = links_for(*HANGZHOU, name, in_wechat=False, referer=REFERER)
        assert query(link(links, "amap", "web").url)["to"].split(",")[2] == "Tower East | Gate: B (2)"
        assert baidu_destination(link(links, "baidu", "app").url)["name"] == "Tower East Gate B (2)"
        assert query(link(links, "geo", "app").url)["q"].endswith("(Tower, East | Gate: B 2)")
        assert query(link(links, "tencent", "web").url)["to"] == name  # a plain parameter: kept as is

    def test_spaces_are_encoded_as_percent_20_not_plus(self) -> None:
        links = links_for(*HANGZHOU, "Mall garage", in_wechat=False, referer=REFERER)
        assert "Mall%20garage" in link(links, "tencent", "app").url
        assert "+" not in link(links, "tencent", "app").url

    def test_an_empty_name_still_gives_valid_links(self) -> None:
        links = links_for(*HANGZHOU, "  ", in_wechat=False, referer=REFERER)
        assert query(link(links, "tencent", "web").url)["to"] == "P"


class TestWeChat:
    def test_inside_wechat_only_web_links_are_offered(self) -> None:
        links = links_for(*HANGZHOU, NAME_ZH, in_wechat=True, referer=REFERER)
        assert [(nav.app, nav.kind) for nav in links] == [
            ("amap", "web"),
            ("baidu", "web"),
            ("tencent", "web"),
            ("apple", "web"),
            ("google", "web"),
        ]
        assert all(nav.url.startswith("https://") for nav in links)

    def test_elsewhere_app_schemes_come_first_for_each_app(self) -> None:
        links = links_for(*HANGZHOU, NAME_ZH, in_wechat=False, referer=REFERER)
        schemes = [(nav.app, nav.kind, urlsplit(nav.url).scheme) for nav in links]
        assert schemes == [
            ("amap", "app", "amapuri"),
            ("amap", "web", "https"),
            ("baidu", "app", "baidumap"),
            ("baidu", "web", "https"),
            ("tencent", "app", "qqmap"),
            ("tencent", "web", "https"),
            ("apple", "web", "https"),
            ("google", "web", "https"),
            ("geo", "app", "geo"),
        ]

    @pytest.mark.parametrize(
        ("user_agent", "wechat"),
        [
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
                "like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN",
                True,
            ),
            (
                "Mozilla/5.0 (Linux; Android 13; V2183A) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/5235 MMWEBSDK/20230805 "
                "MMWEBID/1234 MicroMessenger/8.0.42.2460(0x28002A35) WeChat/arm64 Weixin NetType/5G",
                True,
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
                "like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
                False,
            ),
            ("", False),
        ],
    )
    def test_is_wechat(self, user_agent: str, wechat: bool) -> None:
        assert is_wechat(user_agent) is wechat


def test_the_referer_reaches_every_app_that_asks_for_it() -> None:
    links = links_for(*HANGZHOU, NAME_ZH, in_wechat=False, referer=REFERER)
    assert query(link(links, "amap", "app").url)["sourceApplication"] == REFERER
    assert query(link(links, "amap", "web").url)["src"] == REFERER
    for kind in ("app", "web"):
        assert query(link(links, "baidu", kind).url)["src"] == REFERER
        assert query(link(links, "tencent", kind).url)["referer"] == REFERER
