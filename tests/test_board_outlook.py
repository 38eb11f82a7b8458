"""Boards and answers see one model: a board's first choice is what the guidance endpoint answers there.

Over real HTTP on the test site; the outlook is refreshed by hand (the ticker
would do it every guidance.refresh_s).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from parking.app.factory import create_app
from parking.app.keys import FEED, GUIDANCE, LIVE, OUTLOOK, PENDING
from parking.observations import LotObservation
from parking.overrides import Override
from tests.helpers.site import T0, site_config
from tests.helpers.web import Client, FakeClock, MakeClient


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def client(aiohttp_client: MakeClient, clock: FakeClock) -> Client:
    # 2,400 drivers an hour pass the board, half of them follow its first line
    config = site_config(
        **{
            "site: {name: Test site, timezone: UTC}": "site: {name: Test site, timezone: UTC}\n"
            "guidance: {board_follow_rate: 0.5, board_traffic_per_h: 2400, pending_slack_s: 60}"
        }
    )
    client = await aiohttp_client(create_app(config, ingest=False, clock=clock))
    feed = client.app[FEED]
    feed.observe("lot", LotObservation("hospital", free=10, categories={"general": 10, "disabled": 0}))
    feed.observe("lot", LotObservation("tower", free=80))
    feed.observe("lot", LotObservation("mall", free=300))
    return client


async def board_lines(client: Client) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/boards/north")
    lines: list[dict[str, Any]] = (await response.json())["lines"]
    return lines


async def answer_first(client: Client) -> str:
    response = await client.get("/api/v1/guidance?board=north")
    lot: str = (await response.json())["lots"][0]["lot"]
    return lot


def best(client: Client) -> str | None:
    app = client.app
    decision = app[GUIDANCE].for_board("north", app[LIVE].views(), app[OUTLOOK].for_board("general"))
    return None if decision.best is None else decision.best.lot


async def test_the_boards_first_choice_is_the_answer_at_the_board(client: Client) -> None:
    assert best(client) == "hospital"
    assert await answer_first(client) == "hospital"


async def test_followers_of_a_board_become_pending_arrivals_and_move_its_first_choice(
    client: Client, clock: FakeClock
) -> None:
    outlook, pending = client.app[OUTLOOK], client.app[PENDING]
    # every 5 s, 2,400/h x 0.5 x 5 s = 1.67 drivers head for the hospital
    for _ in range(6):
        clock.now += timedelta(seconds=5)
        outlook.refresh(clock.now)
    # 10 free, 10 on their way: it may be full, but found full a space frees at its gate in seconds
    assert pending.count("hospital", clock.now) == pytest.approx(10.0)
    assert best(client) == "hospital"
    for _ in range(12):
        clock.now += timedelta(seconds=5)
        outlook.refresh(clock.now)
    # some 5 beyond its spaces on their way: the wait at its gate for those ahead, found full, costs
    # more than the way on to the mall
    assert pending.count("hospital", clock.now) > 10  # beyond its spaces
    assert best(client) == "mall"
    assert await answer_first(client) == "mall"
    lines = await board_lines(client)
    assert [line["lot"] for line in lines][:2] == ["hospital", "mall"]  # pinned, then the choice


async def test_reads_of_a_board_are_not_drivers(client: Client) -> None:
    for _ in range(50):
        await board_lines(client)
    assert client.app[PENDING].counts(T0) == {}


async def test_board_answers_change_on_a_refresh_not_on_an_answer(client: Client, clock: FakeClock) -> None:
    version = client.app[LIVE].version
    for _ in range(10):
        await answer_first(client)
    assert client.app[LIVE].version == version  # answers alone re-rank no board
    client.app[OUTLOOK].refresh(clock.now)
    assert client.app[LIVE].version > version


async def test_a_hold_back_or_closure_reaches_the_board_at_once(client: Client) -> None:
    # the ops overrides reach guidance through the live site's views, with no refresh
    live = client.app[LIVE]
    live.set_override(Override("close", "hospital", "ops", T0, "resurfacing"), T0)
    assert best(client) == "mall"
    assert await answer_first(client) == "mall"
    live.clear_override("close", "hospital")
    live.set_override(Override("hold", "hospital", "ops", T0, "a funeral", spaces=2), T0)
    assert best(client) == "hospital"  # 8 left
    live.set_override(Override("hold", "hospital", "ops", T0, "a funeral", spaces=10), T0)
    assert best(client) == "mall"  # none left
