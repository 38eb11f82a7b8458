"""Pending arrivals only from credible answers: a flood from one address cannot make a board lie."""

from __future__ import annotations

from datetime import timedelta

import pytest

from parking.app.factory import create_app
from parking.app.keys import FEED, OUTLOOK, PENDING
from parking.guidance.credible import (
    MIN_PER_WINDOW,
    REFUSED_OVER_TRAFFIC,
    REFUSED_RATE_LIMITED,
    REPLACED,
    ArrivalBudget,
)
from parking.guidance.drivers import Sent
from parking.guidance.pending import PendingArrivals
from parking.observations import LotObservation
from tests.helpers.site import T0, site_config
from tests.helpers.web import Client, FakeClock, MakeClient

FLOOD = 2_000


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def sent(eta_s: float = 60.0) -> Sent:
    return Sent("hospital", T0, eta_s, "general", T0 + s(eta_s + 300))


class TestBudget:
    def test_an_origin_counts_at_most_twice_its_traffic_per_window(self) -> None:
        budget = ArrivalBudget()
        cap = budget.cap(120.0)  # 120 drivers an hour pass: 30 in 15 minutes, twice that counts
        assert cap == 60
        verdicts = [budget.judge("north", 120.0, f"10.0.0.{n % 250}", f"d{n}", T0 + s(n)) for n in range(100)]
        assert sum(v.counts for v in verdicts) == 60
        assert {v.reason for v in verdicts[60:]} == {REFUSED_OVER_TRAFFIC}
        assert [v.anomaly for v in verdicts].index(True) == 60  # every ask beyond the traffic is flagged
        later = budget.judge("north", 120.0, "10.0.1.1", "new", T0 + timedelta(minutes=16, seconds=59))
        assert later.counts  # the window moved on

    def test_a_quiet_board_still_counts_a_few(self) -> None:
        assert ArrivalBudget().cap(0.0) == MIN_PER_WINDOW

    def test_one_address_writes_at_most_60_a_minute_and_is_served_again_the_next(self) -> None:
        budget = ArrivalBudget()
        verdicts = [
            budget.judge("position", 100_000.0, "10.0.0.1", f"d{n}", T0 + s(n / 10)) for n in range(100)
        ]
        assert sum(v.counts for v in verdicts) == 60
        assert verdicts[60].reason == REFUSED_RATE_LIMITED
        assert budget.judge("position", 100_000.0, "10.0.0.1", "d", T0 + s(60)).counts

    def test_a_device_s_repeat_within_its_eta_replaces_and_after_it_adds(self) -> None:
        budget = ArrivalBudget()
        first = sent(eta_s=60.0)
        assert budget.judge("north", 600.0, "a", "phone", T0).replaces is None
        budget.recorded("phone", first)
        again = budget.judge("north", 600.0, "a", "phone", T0 + s(30))
        assert (again.counts, again.reason, again.replaces) == (True, REPLACED, first)
        assert budget.judge("north", 600.0, "a", "phone", T0 + s(60)).replaces is None


class TestWithdraw:
    def test_a_replaced_answer_leaves_the_count_and_the_arrivals_to_come(self) -> None:
        pending = PendingArrivals(slack_s=300)
        expires = pending.add("hospital", T0, 60.0, weight=0.5)
        pending.add("hospital", T0, 90.0)
        assert pending.withdraw("hospital", T0 + s(60), expires, 0.5) == 0.5
        assert pending.count("hospital", T0) == 1.0
        assert pending.arrived_per_h("hospital", T0 + s(120), timedelta(hours=1)) == 1.0  # only the other
        assert pending.withdraw("hospital", T0 + s(60), expires, 0.5) == 0.0  # once


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def client(aiohttp_client: MakeClient, clock: FakeClock) -> Client:
    config = site_config(
        **{
            "site: {name: Test site, timezone: UTC}": "site: {name: Test site, timezone: UTC}\n"
            "guidance: {board_follow_rate: 0, pending_slack_s: 300}"
        }
    )
    client = await aiohttp_client(create_app(config, ingest=False, clock=clock))
    feed = client.app[FEED]
    feed.observe("lot", LotObservation("hospital", free=34, categories={"general": 30, "disabled": 4}))
    feed.observe("lot", LotObservation("tower", free=80))
    feed.observe("lot", LotObservation("mall", free=300))  # room elsewhere: a hospital expected full is FULL
    return client


async def board_line(client: Client, clock: FakeClock, lot: str) -> str:
    """What the north board shows for `lot`, with the pending arrivals as of now (boards read a snapshot)."""
    client.app[OUTLOOK].refresh(clock.now)
    body = await (await client.get("/api/v1/boards/north")).json()
    return next(line["display"] for line in body["lines"] if line["lot"] == lot)


async def test_a_flood_from_one_address_leaves_the_hospital_board_true(
    client: Client, clock: FakeClock
) -> None:
    shown = [await board_line(client, clock, "hospital")]
    for n in range(FLOOD):  # wrk from one laptop on the hospital Wi-Fi: no cookie, one user agent
        clock.now = T0 + s(n * 0.01)
        response = await client.get("/api/v1/guidance?board=north", headers={"User-Agent": "wrk/4.2"})
        assert response.status == 200  # every answer is served
        if n % 20 == 19:  # what the board shows as the flood goes on (boards re-read every refresh_s)
            shown.append(await board_line(client, clock, "hospital"))
    assert set(shown) == {"30"}, shown  # never FULL while 30 spaces are free
    pending = client.app[PENDING].count("hospital", clock.now)
    assert pending == 1  # one device, one driver on the way
    metrics = await (await client.get("/metrics")).text()
    assert 'parking_guidance_arrivals_uncounted_total{reason="replaced"} 59.0' in metrics
    # the board's budget (twice its 120 drivers an hour, over 15 minutes: 60) is spent, like the address's
    assert f'parking_guidance_arrivals_uncounted_total{{reason="over_traffic"}} {FLOOD - 60}.0' in metrics
    anomalies = next(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith('parking_guidance_demand_anomalies_total{origin="north"}')
    )
    assert anomalies > FLOOD * 0.9  # nearly every ask was beyond what the board's traffic explains


async def test_a_flood_from_many_devices_of_one_address_counts_60_a_minute(
    client: Client, clock: FakeClock
) -> None:
    for n in range(FLOOD):  # rotating user agents do not make more drivers than one address may
        clock.now = T0 + s(n * 0.01)
        await client.get("/api/v1/guidance?board=north", headers={"User-Agent": f"bot-{n}"})
    assert sum(client.app[PENDING].counts(clock.now).values()) == 60  # spread over the lots, not herded
