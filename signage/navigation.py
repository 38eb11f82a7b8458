"""Navigation deep links: one tap from the driver's phone into a map app, routed to a lot's entrance.

Each app gets the datum it expects (see docs/navigation.md for the sources):
Amap and Tencent GCJ-02, Baidu BD-09 (`coord_type=bd09ll`), Apple Maps, Google
Maps and `geo:` WGS-84. Outside China no offset applies, so every link carries
the WGS-84 point (Baidu's then says `coord_type=wgs84`).

Presentation only: which lot to send the driver to is decided elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlencode

from parking.coords import in_china_box, wgs84_to_bd09, wgs84_to_gcj02

LinkKind = Literal["app", "web"]
"""`app`: a scheme that launches an installed app; `web`: an https link (it may hand over to the app)."""

COORD_DECIMALS = 6  # about 0.1 m; Amap's and Baidu's APIs take no more than 6 decimals
FALLBACK_NAME = "P"  # the parking sign, when a place has no name to show


@dataclass(frozen=True, slots=True)
class NavLink:
    """One way to navigate to a place: which app, its label in English and Chinese, the URL and its kind."""

    app: str
    label_en: str
    label_zh: str
    url: str
    kind: LinkKind


def is_wechat(user_agent: str) -> bool:
    """Whether the request comes from WeChat's built-in browser (its user agent says MicroMessenger)."""
    return "micromessenger" in user_agent.lower()


def links_for(lat: float, lon: float, name: str, *, in_wechat: bool, referer: str) -> list[NavLink]:
    """Navigation links to a WGS-84 point, one app at a time, its app scheme before its web link.

    Inside WeChat app-launching schemes are blocked, so only the web links are
    returned there. `referer` names the caller to the apps that ask for it
    (Amap `src`/`sourceApplication`, Baidu `src`, Tencent `referer`).
    """
    links = [
        *_amap(lat, lon, name, referer),
        *_baidu(lat, lon, name, referer),
        *_tencent(lat, lon, name, referer),
        *_apple_google_geo(lat, lon, name),
    ]
    if in_wechat:
        return [link for link in links if link.kind == "web"]
    return links


def _amap(lat: float, lon: float, name: str, referer: str) -> list[NavLink]:
    gcj_lat, gcj_lon = wgs84_to_gcj02(lat, lon)
    app = _url(
        "amapuri://route/plan/",
        [
            ("sourceApplication", referer),
            ("dlat", _deg(gcj_lat)),
            ("dlon", _deg(gcj_lon)),
            ("dname", _name(name)),
            ("dev", "0"),  # the point is already GCJ-02: Amap must not offset it again
            ("t", "0"),  # drive
        ],
    )
    web = _url(
        "https://uri.amap.com/navigation",
        [
            ("to", f"{_deg(gcj_lon)},{_deg(gcj_lat)},{_name(name, drop=',')}"),
            ("mode", "car"),
            ("coordinate", "gaode"),
            ("callnative", "1"),
            ("src", referer),
        ],
    )
    return [
        NavLink("amap", "Amap", "高德地图", app, "app"),
        NavLink("amap", "Amap (web)", "高德地图网页版", web, "web"),
    ]


def _baidu(lat: float, lon: float, name: str, referer: str) -> list[NavLink]:
    # BD-09 computed here rather than coord_type=wgs84, so the link does not depend on
    # every app version honouring coord_type; outside China the point is WGS-84 and says so.
    bd_lat, bd_lon = wgs84_to_bd09(lat, lon)
    coord_type = "bd09ll" if in_china_box(lat, lon) else "wgs84"
    destination = f"latlng:{_deg(bd_lat)},{_deg(bd_lon)}|name:{_name(name, drop='|:,')}"
    app = _url(
        "baidumap://map/direction",
        [("destination", destination), ("coord_type", coord_type), ("mode", "driving"), ("src", referer)],
    )
    web = _url(
        "https://api.map.baidu.com/direction",
        [
            ("destination", destination),
            ("coord_type", coord_type),
            ("mode", "driving"),
            ("output", "html"),
            ("src", referer),
        ],
    )
    return [
        NavLink("baidu", "Baidu Maps", "百度地图", app, "app"),
        NavLink("baidu", "Baidu Maps (web)", "百度地图网页版", web, "web"),
    ]


def _tencent(lat: float, lon: float, name: str, referer: str) -> list[NavLink]:
    gcj_lat, gcj_lon = wgs84_to_gcj02(lat, lon)
    tocoord = f"{_deg(gcj_lat)},{_deg(gcj_lon)}"
    app = _url(
        "qqmap://map/routeplan",
        [
            ("type", "drive"),
            ("fromcoord", "CurrentLocation"),  # required by the app scheme
            ("to", _name(name)),
            ("tocoord", tocoord),
            ("referer", referer),
        ],
    )
    web = _url(
        "https://apis.map.qq.com/uri/v1/routeplan",
        [("type", "drive"), ("to", _name(name)), ("tocoord", tocoord), ("referer", referer)],
    )
    return [
        NavLink("tencent", "Tencent Maps", "腾讯地图", app, "app"),
        NavLink("tencent", "Tencent Maps (web)", "腾讯地图网页版", web, "web"),
    ]


def _apple_google_geo(lat: float, lon: float, name: str) -> list[NavLink]:
    point = f"{_deg(lat)},{_deg(lon)}"
    apple = _url("https://maps.apple.com/", [("daddr", point), ("dirflg", "d")])
    google = _url(
        "https://www.google.com/maps/dir/",
        [("api", "1"), ("destination", point), ("travelmode", "driving")],
    )
    # literal parentheses, as in Android's documented form geo:0,0?q=lat,lng(label)
    geo = _url(f"geo:{point}", [("q", f"{point}({_name(name, drop='()')})")], safe=",:()")
    return [
        NavLink("apple", "Apple Maps", "Apple 地图", apple, "web"),
        NavLink("google", "Google Maps", "谷歌地图", google, "web"),
        NavLink("geo", "Other map app", "其他地图应用", geo, "app"),
    ]


def _url(base: str, params: list[tuple[str, str]], safe: str = ",:") -> str:
    # Percent-encode everything but the separators the apps' own syntax uses inside
    # a value; quote, not quote_plus: some apps do not read "+" as a space.
    return f"{base}?{urlencode(params, quote_via=quote, safe=safe)}"


def _deg(value: float) -> str:
    return f"{value:.{COORD_DECIMALS}f}"


def _name(name: str, drop: str = "") -> str:
    """The name shown in the app; characters that are separators in that app's syntax become spaces."""
    if drop:
        name = re.sub(f"[{re.escape(drop)}]", " ", name)
    return " ".join(name.split()) or FALLBACK_NAME
