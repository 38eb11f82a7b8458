"""What tests over real HTTP share: client types, a clock that stands still until told, every lot full,
and the user agent of WeChat on an iPhone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from aiohttp.test_utils import TestClient

from parking.app.keys import FEED
from parking.observations import LotObservation, SpotObservation

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[[web.Application], Awaitable[Client]]
WECHAT_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN"
)


class FakeClock:
    """A clock that says `now` until a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def every_lot_full(client: Client) -> None:
    """Every lot of the test site heard from and full: the answer is a queue, at the hospital from north.

    No driver is on the way yet, and a space frees at the hospital about every
    24 s (a `mean_stay_s` of 2,400 s over its 100 occupied spaces), before the
    31 s drive there is over: it is where a space comes soonest.
    """
    feed = client.app[FEED]
    feed.observe("lot", LotObservation("hospital", free=0, categories={"general": 0, "disabled": 0}))
    feed.observe("lot", LotObservation("tower", free=0, categories={"general": 0, "ev": 0}))
    feed.observe("lot", LotObservation("mall", free=0))
    for n in range(1, 11):  # every general bay reports, every one taken
        feed.observe("spot", SpotObservation("street", f"S{n:02d}", occupied=True))
