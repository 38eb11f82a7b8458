"""The ops dashboard in headless Chromium: log in, watch a lot change live, set a board message.

Screenshots land in test-artifacts/ (kept out of git) for a person to look at.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from playwright.async_api import Browser

from parking.app.factory import create_app
from parking.app.keys import FEED
from parking.observations import LotObservation
from tests.helpers.browser import shot, watch
from tests.helpers.site import T0
from tests.helpers.sites import PASSWORD, ops_site

Client = TestClient[web.Request, web.Application]
TABLET = {"width": 1024, "height": 1366}
pytestmark = pytest.mark.slow


async def test_the_dashboard_after_a_login_live_and_with_an_override(
    browser: Browser, pg_dsn: str, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> None:
    config = ops_site(secure_cookies=True)  # Chromium keeps Secure cookies for http://127.0.0.1
    config = config.model_copy(update={"store": config.store.model_copy(update={"dsn": pg_dsn})})
    now = {"at": T0}
    client = await aiohttp_client(create_app(config, ingest=False, clock=lambda: now["at"]))
    feed = client.app[FEED]
    for minutes, free in enumerate((150, 140, 131, 120)):  # a morning filling up
        now["at"] = T0 + timedelta(minutes=minutes)
        feed.observe("lot", LotObservation("tower", free=free))
    feed.observe("lot", LotObservation("hospital", free=30))

    context = await browser.new_context(viewport=TABLET)
    page = await context.new_page()
    problems = watch(page)
    await page.goto(str(client.make_url("/ops")))
    assert page.url.endswith("/ops/login")
    await page.fill("#user", "nurse")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/ops")
    tower = page.locator('#lots tr[data-lot="tower"] .free')
    assert (await tower.inner_text()).startswith("120")

    # a lot changes: the dashboard follows without a reload
    feed.observe("lot", LotObservation("tower", free=77))
    await tower.filter(has_text="77").wait_for(timeout=5000)

    # the board's own display, open beside the dashboard, takes an ops message at once
    display = await context.new_page()
    await display.goto(str(client.make_url("/boards/north/display")))
    await page.select_option("#message-target", "north")
    await page.fill("#message-text", "Emergency vehicles only")
    await page.fill("#message-reason", "major incident drill")
    await page.click("#message-form button[type=submit]")
    await page.wait_for_url("**/ops")
    await display.locator(".message").filter(has_text="Emergency vehicles only").wait_for(timeout=5000)
    await (
        page.locator('[data-board="north"] pre')
        .filter(has_text="Emergency vehicles only")
        .wait_for(timeout=5000)
    )
    await page.locator("#overrides").filter(has_text="major incident drill").wait_for(timeout=5000)
    await page.screenshot(path=shot("ops-dashboard"), full_page=True)
    await display.screenshot(path=shot("ops-board-message"))
    assert problems == []
    await context.close()
