"""The driver's page and the board display in a real browser: headless Chromium driven by Playwright.

Screenshots land in test-artifacts/ (kept out of git) for a person to look at.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from playwright.async_api import Browser, Page

from parking.app.keys import FEED
from parking.coords import wgs84_to_bd09, wgs84_to_gcj02
from parking.observations import LotObservation
from tests.helpers.browser import shot, watch
from tests.helpers.engine import StartEngine, eventually, mqtt_site, publish, ready
from tests.helpers.web import WECHAT_IOS, every_lot_full

PHONE = {"width": 390, "height": 844}
DESKTOP_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
)
Client = TestClient[web.Request, web.Application]

# the tower's entrance in tests/helpers/site.py: where every navigation link must point
TOWER = (29.9991, 120.0031)


def coordinates(url: str) -> tuple[float, float]:
    """(lat, lon) a navigation link points at, in whatever datum it uses."""
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}

    def pair(text: str) -> tuple[float, float]:
        first, second = text.split(",")[:2]
        return float(first), float(second)

    if "dlat" in query:  # Amap app
        return float(query["dlat"]), float(query["dlon"])
    if "tocoord" in query:  # Tencent
        return pair(query["tocoord"])
    if "daddr" in query:  # Apple
        return pair(query["daddr"])
    if "destination" in query:  # Baidu (latlng:..|name:..) and Google
        return pair(query["destination"].removeprefix("latlng:").split("|")[0])
    if "to" in query:  # Amap web: lon,lat,name
        lon, lat = pair(query["to"])
        return lat, lon
    return pair(parts.path)  # geo:lat,lon


EXPECTED_SYSTEM = {"amap": wgs84_to_gcj02, "tencent": wgs84_to_gcj02, "baidu": wgs84_to_bd09}


def check_links(links: list[dict[str, Any]]) -> None:
    for link in links:
        lat, lon = coordinates(link["href"])
        app = link["app"].split("-")[0]
        convert = EXPECTED_SYSTEM.get(app)
        want = convert(*TOWER) if convert else TOWER
        assert (lat, lon) == pytest.approx(want, abs=2e-6), link


async def open_go(
    browser: Browser, client: Client, *, user_agent: str, locale: str, phone: bool
) -> tuple[Page, list[str], int]:
    context = await browser.new_context(
        user_agent=user_agent,
        locale=locale,
        viewport=PHONE if phone else {"width": 1280, "height": 900},
        is_mobile=phone,
        extra_http_headers={"Accept-Language": locale},
    )
    page = await context.new_page()
    problems = watch(page)
    loaded: list[int] = []

    async def count(response: Any) -> None:
        if "event-stream" not in response.headers.get("content-type", ""):
            loaded.append(len(await response.body()))

    page.on("response", count)
    await page.goto(str(client.make_url("/go/north")), wait_until="networkidle")
    return page, problems, sum(loaded)


@pytest.fixture
async def site(aiohttp_client: Any) -> Client:
    from parking.app.factory import create_app
    from parking.clock import ScaledClock
    from tests.helpers.site import T0, site_config

    # a running clock from the specs' Wednesday morning: the tower's hours hold at any time of the run
    app = create_app(site_config(), ingest=False, clock=ScaledClock(T0))
    client: Client = await aiohttp_client(app)
    feed = client.app[FEED]
    feed.observe("lot", LotObservation("hospital", free=0, categories={"general": 0, "disabled": 0}))
    feed.observe("lot", LotObservation("tower", free=90, categories={"general": 80, "ev": 10}))
    return client


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "user_agent", "locale", "phone", "heading"),
    [
        ("go-wechat-ios-zh", WECHAT_IOS, "zh-CN", True, "停车引导"),
        ("go-desktop-en", DESKTOP_UA, "en-US", False, "Parking guide"),
        (
            "go-phone-en",
            WECHAT_IOS.replace(" MicroMessenger/8.0.47(0x18002f2c)", ""),
            "en-GB",
            True,
            "Parking guide",
        ),
    ],
)
async def test_the_go_page_in_a_browser(
    browser: Browser, site: Client, name: str, user_agent: str, locale: str, phone: bool, heading: str
) -> None:
    page, problems, weight = await open_go(browser, site, user_agent=user_agent, locale=locale, phone=phone)
    await page.screenshot(path=shot(name), full_page=True)
    assert problems == []
    assert await page.locator("h1").inner_text() == heading
    assert await page.locator("#best-name").inner_text() == "Nongfa Tower garage"
    links = await page.locator(".best a.btn").evaluate_all(
        "els => els.map(e => ({app: e.dataset.app, href: e.getAttribute('href')}))"
    )
    apps = {link["app"].split("-")[0] for link in links}
    assert apps == {"amap", "baidu", "tencent", "apple", "google", "geo"} - (
        {"geo"} if "MicroMessenger" in user_agent else set()
    )
    check_links(links)
    if "MicroMessenger" in user_agent:
        assert all(link["href"].startswith("https://") for link in links)
    assert weight < 50_000


@pytest.mark.slow
async def test_the_go_page_refreshes_without_a_reload(browser: Browser, site: Client) -> None:
    page, problems, _ = await open_go(browser, site, user_agent=DESKTOP_UA, locale="en-US", phone=False)
    site.app[FEED].observe("lot", LotObservation("tower", free=12, categories={"general": 2, "ev": 10}))
    await page.locator(".best .n").filter(has_text="2").wait_for(timeout=5000)
    assert problems == []


@pytest.mark.slow
async def test_when_every_lot_fills_the_display_shows_queue_and_the_go_page_says_to_queue(
    browser: Browser, site: Client
) -> None:
    display = await browser.new_page(viewport={"width": 1280, "height": 500})
    problems = watch(display)
    await display.goto(str(site.make_url("/boards/north/display")))
    await display.locator('.row.full[data-lot="hospital"]').wait_for(timeout=5000)
    go, go_problems, _ = await open_go(browser, site, user_agent=DESKTOP_UA, locale="en-US", phone=False)
    every_lot_full(site)
    queue = display.locator('.row.queue[data-lot="hospital"] .d')
    await queue.filter(has_text="QUEUE").wait_for(timeout=5000)
    await display.screenshot(path=shot("display-queue"))
    background = await queue.evaluate("e => getComputedStyle(e).backgroundColor")
    assert background == "rgb(255, 176, 0)"  # amber, the digits black: unlike a count or FULL
    await (
        go.locator(".best .queue")
        .filter(has_text="Every car park is full: queue here")
        .wait_for(timeout=5000)
    )
    await go.screenshot(path=shot("go-queue"), full_page=True)
    assert await go.locator(".best a.btn").count() > 0  # still one tap to the entrance
    assert problems == go_problems == []


@pytest.mark.slow
@pytest.mark.mosquitto
async def test_a_board_display_changes_when_a_lot_fills_over_mqtt(
    browser: Browser, start_engine: StartEngine, mosquitto: tuple[str, int], prefix: str
) -> None:
    client = await start_engine(mqtt_site(prefix, *mosquitto))
    await eventually(lambda: ready(client), 200)
    topic = f"{prefix}/parking/hospital/status"
    await publish(*mosquitto, (topic, b'{"free": 54, "categories": {"general": 50, "disabled": 4}}'))
    page = await browser.new_page(viewport={"width": 1280, "height": 500})
    problems = watch(page)
    await page.goto(str(client.make_url("/boards/north/display")))
    first = page.locator('.row[data-lot="hospital"] .d')
    await first.filter(has_text="50").wait_for(timeout=5000)
    await page.screenshot(path=shot("display-before"))
    await publish(*mosquitto, (topic, b'{"free": 0, "categories": {"general": 0, "disabled": 0}}'))
    await page.locator('.row.full[data-lot="hospital"] .d').filter(has_text="FULL").wait_for(timeout=5000)
    await page.screenshot(path=shot("display-after"))
    assert problems == []
