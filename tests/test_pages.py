"""The driver's page behind a QR code and the LED display page, over real HTTP."""

from __future__ import annotations

import asyncio
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from parking.app.api.arrivals import DEVICE_COOKIE
from parking.app.factory import create_app
from parking.app.keys import FEED, PENDING
from parking.app.pages.driver import GO_VIEW_WEIGHT
from parking.observations import LotObservation
from signage.i18n import TEXT, choose_language
from tests.helpers.services import unavailable
from tests.helpers.site import T0, site_config
from tests.helpers.web import WECHAT_IOS, Client, FakeClock, MakeClient, every_lot_full


@pytest.fixture
async def client(aiohttp_client: MakeClient) -> Client:
    client = await aiohttp_client(create_app(site_config(), ingest=False, clock=FakeClock(T0)))
    feed = client.app[FEED]
    feed.observe("lot", LotObservation("hospital", free=0, categories={"general": 0, "disabled": 0}))
    feed.observe("lot", LotObservation("tower", free=90, categories={"general": 80, "ev": 10}))
    return client


async def page(client: Client, path: str, **headers: str) -> tuple[int, str]:
    response = await client.get(path, headers=headers)
    assert response.content_type == "text/html"
    return response.status, await response.text()


class TestGoPage:
    async def test_shows_the_best_lot_with_its_count_minutes_and_one_tap_navigation(
        self, client: Client
    ) -> None:
        status, html = await page(client, "/go/north", **{"Accept-Language": "en-GB,en;q=0.9"})
        assert status == 200
        best = html[html.index('class="best"') : html.index("</article>")]
        assert "Nongfa Tower garage" in best
        assert re.search(r'class="n">80</span> free spaces', best)
        assert "min to Main entrance" in best
        for app in ("amap", "baidu", "tencent", "apple", "google", "geo"):
            assert f'data-app="{app}' in best
        assert "<title>Parking guide · Main Road westbound</title>" in html
        assert '<link rel="icon" href="/favicon.svg"' in html

    async def test_chinese_from_accept_language_and_a_switch_to_english(self, client: Client) -> None:
        _, html = await page(client, "/go/north", **{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
        assert '<html lang="zh-CN">' in html
        assert "停车引导" in html
        assert 'href="?lang=en"' in html
        _, english = await page(client, "/go/north?lang=en", **{"Accept-Language": "zh-CN"})
        assert '<html lang="en">' in english

    async def test_inside_wechat_only_web_links_and_how_to_open_the_browser(self, client: Client) -> None:
        _, html = await page(client, "/go/north", **{"User-Agent": WECHAT_IOS, "Accept-Language": "zh-CN"})
        assert "在浏览器打开" in html
        hrefs = re.findall(r'class="btn" href="([^"]+)"', html)
        assert hrefs
        assert all(href.startswith("https://") for href in hrefs), hrefs

    async def test_a_view_counts_half_a_pending_arrival_and_a_tap_on_navigation_one(
        self, client: Client
    ) -> None:
        first = await client.get("/go/north")
        assert client.app[PENDING].counts(T0) == {"tower": GO_VIEW_WEIGHT}
        cookie = first.cookies[DEVICE_COOKIE]
        assert cookie["httponly"]
        assert cookie["samesite"] == "Lax"
        phone = {"Cookie": f"{DEVICE_COOKIE}={cookie.value}", "User-Agent": "a phone"}
        _, html = await page(client, "/go/north", **phone)  # the same phone again: replaced, not added
        assert client.app[PENDING].counts(T0) == {"tower": GO_VIEW_WEIGHT}
        assert 'data-lot="tower"' in html
        tapped = await client.post("/go/north/going", data={"lot": "tower"}, headers=phone)
        assert tapped.status == 204
        assert client.app[PENDING].counts(T0) == {"tower": 1.0}  # the view's half became one driver
        await page(client, "/go/north", **phone)  # and looking again, they are still one driver
        assert client.app[PENDING].counts(T0) == {"tower": 1.0}
        client.session.cookie_jar.clear()
        await page(client, "/go/north", **{"User-Agent": "another phone"})  # no cookie yet: another device
        assert client.app[PENDING].counts(T0) == {"tower": 1.0 + GO_VIEW_WEIGHT}

    async def test_a_tap_on_a_lot_not_answered_is_a_404(self, client: Client) -> None:
        response = await client.post("/go/north/going", data={"lot": "nowhere"})
        assert response.status == 404
        assert client.app[PENDING].counts(T0) == {}

    async def test_without_fresh_data_it_says_so_and_shows_no_counts(
        self, aiohttp_client: MakeClient
    ) -> None:
        client = await aiohttp_client(create_app(site_config(), ingest=False, clock=FakeClock(T0)))
        _, html = await page(client, "/go/north?lang=en")
        assert "No live parking data right now" in html
        assert 'class="best"' not in html

    async def test_an_unknown_board_is_a_friendly_html_404(self, client: Client) -> None:
        status, html = await page(client, "/go/nope", **{"Accept-Language": "en"})
        assert status == 404
        assert "Sign not found" in html
        assert "<html" in html

    async def test_the_page_is_small(self, client: Client) -> None:
        response = await client.get("/go/north")
        favicon = await client.get("/favicon.svg")
        assert len(await response.read()) + len(await favicon.read()) < 50_000


class TestQueueAnswer:
    """Every car park full: the page says to queue, and when a space is expected, never "0 free spaces".

    From board north the queue is at the hospital: a 31.1 s drive and a 105.0 s walk;
    one of its 100 occupied spaces frees about every 24 s.
    """

    @pytest.fixture
    async def full(self, aiohttp_client: MakeClient) -> Client:
        client = await aiohttp_client(create_app(site_config(), ingest=False, clock=FakeClock(T0)))
        every_lot_full(client)
        return client

    def ahead(self, client: Client) -> None:
        """Ten drivers already on their way to the hospital, and more than enough to the mall and tower."""
        pending = client.app[PENDING]
        pending.add("hospital", T0, 60.0, weight=10)
        pending.add("mall", T0, 60.0, weight=100)
        pending.add("tower", T0, 60.0, weight=100)

    @pytest.mark.parametrize(
        ("lang", "queue"),
        [
            ("en", "Every car park is full: queue here — a space is expected in about 1 min."),
            ("zh", "附近停车场都已满：请在此排队，预计约1分钟有空位。"),
        ],
    )
    async def test_the_best_answer_says_queue_here_and_keeps_the_navigation_to_its_entrance(
        self, full: Client, lang: str, queue: str
    ) -> None:
        _, html = await page(full, f"/go/north?lang={lang}")
        best = html[html.index('class="best"') : html.index("</article>")]
        assert "Hospital car park" in best
        assert queue in best  # a space frees before the 31 s drive is over
        assert TEXT["en"]["free"] not in best
        assert TEXT["zh"]["free"] not in best
        for app in ("amap", "baidu", "tencent", "apple", "google", "geo"):
            assert f'data-app="{app}' in best

    async def test_the_wait_counts_in_when_a_space_comes_and_in_the_minutes_to_the_door(
        self, full: Client
    ) -> None:
        self.ahead(full)
        _, html = await page(full, "/go/north?lang=en")
        best = html[html.index('class="best"') : html.index("</article>")]
        # 11 spaces to free at the hospital, one every 24 s: 264 s from now, 232.9 s after the drive
        assert "a space is expected in about 5 min" in best
        assert "7 min to Main entrance" in best  # drive, wait and walk: 369 s, as the board counts it

    async def test_a_view_is_on_the_way_until_the_wait_is_over(self, full: Client) -> None:
        self.ahead(full)
        await page(full, "/go/north")
        pending, slack_s = full.app[PENDING], 300
        view = GO_VIEW_WEIGHT  # a view alone: not known to drive
        assert pending.count("hospital", T0 + timedelta(seconds=60 + slack_s)) == view  # the ten are gone
        assert pending.count("hospital", T0 + timedelta(seconds=263 + slack_s)) == view
        assert pending.count("hospital", T0 + timedelta(seconds=265 + slack_s)) == 0


class TestGoLots:
    async def test_a_position_refines_the_answer(self, client: Client) -> None:
        status, html = await page(client, "/go/north/lots?lang=en&lat=30.0003&lon=120.0023")
        assert status == 200
        assert 'class="best"' in html
        assert "<html" not in html  # a fragment

    async def test_a_position_off_the_map_says_why_and_keeps_the_boards_advice(self, client: Client) -> None:
        _, html = await page(client, "/go/north/lots?lang=en&lat=31&lon=121")
        assert "outside the area" in html
        assert "Nongfa Tower garage" in html

    @pytest.mark.parametrize("query", ["lat=nan&lon=1", "lat=1e999&lon=2", "lat=&lon=", "lat=30"])
    async def test_bad_positions_never_fail(self, client: Client, query: str) -> None:
        status, html = await page(client, f"/go/north/lots?lang=en&{query}")
        assert status == 200
        assert 'class="note"' in html


class TestDisplay:
    async def test_draws_the_board_as_an_led_sign_fed_by_its_stream(self, client: Client) -> None:
        status, html = await page(client, "/boards/north/display")
        assert status == 200
        assert '/api/v1/boards/"+encodeURIComponent("north")+"/stream' in html
        rows = re.findall(r'class="row (\w+)" role="row" data-lot="(\w+)"', html)
        assert rows[0] == ("full", "hospital")
        assert ("open", "tower") in rows

    async def test_a_queue_line_has_its_own_style(self, aiohttp_client: MakeClient) -> None:
        client = await aiohttp_client(create_app(site_config(), ingest=False, clock=FakeClock(T0)))
        every_lot_full(client)
        _, html = await page(client, "/boards/north/display")
        assert re.findall(r'class="row (\w+)" role="row" data-lot="(\w+)"', html) == [("queue", "hospital")]
        assert ".row.queue .d{" in html
        assert '"QUEUE"?"queue"' in html  # and so does one drawn from the stream

    async def test_an_unknown_board_is_a_404_page(self, client: Client) -> None:
        status, _ = await page(client, "/boards/nope/display")
        assert status == 404


class TestLanguage:
    @pytest.mark.parametrize(
        ("header", "override", "expected"),
        [
            (None, None, "zh"),
            ("en", None, "en"),
            ("en-US,zh;q=0.8", None, "en"),
            ("zh-TW;q=0.5, en;q=0.4", None, "zh"),
            ("fr, de;q=0.9", None, "zh"),
            ("en;q=abc, zh;q=0.1", None, "zh"),
            (";;;,,,q=", None, "zh"),
            ("en;q=0", None, "zh"),
            ("x" * 5000, None, "zh"),
            ("zh", "en", "en"),
            ("zh", "klingon", "zh"),
        ],
    )
    def test_any_accept_language_gives_a_supported_language(
        self, header: str | None, override: str | None, expected: str
    ) -> None:
        assert choose_language(header, override, "zh") == expected


class TestQr:
    async def test_the_png_decodes_to_the_boards_landing_page(self, client: Client, tmp_path: Path) -> None:
        if shutil.which("zbarimg") is None:
            unavailable("zbarimg is not installed (apt-get install zbar-tools)")
        response = await client.get("/qr/north.png")
        assert response.content_type == "image/png"
        image = tmp_path / "north.png"
        image.write_bytes(await response.read())
        zbar = await asyncio.create_subprocess_exec(
            "zbarimg", "--raw", "-q", str(image), stdout=asyncio.subprocess.PIPE
        )
        out, _ = await zbar.communicate()
        assert zbar.returncode == 0
        decoded = out.decode().strip()
        assert decoded == str(client.make_url("/go/north"))

    async def test_the_svg_is_an_svg_and_public_url_wins(self, aiohttp_client: MakeClient) -> None:
        config = site_config(
            **{
                "site: {name: Test site, timezone: UTC}": "site: {name: Test site, timezone: UTC}\n"
                "http: {public_url: 'https://park.example.org/'}"
            }
        )
        client = await aiohttp_client(create_app(config, ingest=False, clock=FakeClock(T0)))
        response = await client.get("/qr/north.svg")
        assert response.content_type == "image/svg+xml"
        assert (await response.text()).lstrip().startswith(("<?xml", "<svg"))
        listing = await client.get("/qr/nope.svg")
        assert listing.status == 404


@pytest.mark.parametrize("board", ["x" * 3000, "%00", "..%2F..%2Fetc", "%E6%9D%BF", "%3Cscript%3E", "%FF%FE"])
@pytest.mark.parametrize(
    "path",
    [
        "/go/{}",
        "/go/{}/lots",
        "/boards/{}/display",
        "/qr/{}.svg",
        "/api/v1/boards/{}",
        "/api/v1/boards/{}/stream",
    ],
)
async def test_board_ids_of_any_shape_are_a_4xx_never_a_500(client: Client, path: str, board: str) -> None:
    response = await client.get(path.format(board))
    assert 400 <= response.status < 500
    if response.content_type == "text/html":
        assert "<script>" not in await response.text()  # escaped, never markup
    else:
        assert response.content_type == "application/json"
