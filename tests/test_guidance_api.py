"""GET /api/v1/guidance over real HTTP: ranked lots for a board or a position; bad queries are 4xx."""

from __future__ import annotations

from datetime import timedelta

import jsonschema
import pytest

from parking.app.factory import create_app
from parking.app.keys import FEED, PENDING
from parking.observations import LotObservation, SpotObservation
from tests.helpers.site import T0, site_config
from tests.helpers.web import Client, FakeClock, MakeClient, every_lot_full


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def client(aiohttp_client: MakeClient, clock: FakeClock) -> Client:
    config = site_config(
        **{
            "site: {name: Test site, timezone: UTC}": "site: {name: Test site, timezone: UTC}\n"
            "guidance: {max_snap_m: 200, pending_slack_s: 60}"
        }
    )
    client = await aiohttp_client(create_app(config, ingest=False, clock=clock))
    feed = client.app[FEED]
    feed.observe("lot", LotObservation("hospital", free=104, categories={"general": 100, "disabled": 4}))
    feed.observe("lot", LotObservation("tower", free=80, categories={"ev": 3}))
    feed.observe("lot", LotObservation("mall", free=300))
    feed.observe("spot", SpotObservation("street", "S01", occupied=False))
    return client


async def get(client: Client, query: str, device: int = 0) -> tuple[int, dict]:  # type: ignore[type-arg]
    """A guidance answer; `device` tells phones apart (the API's device is the address and user agent)."""
    response = await client.get(f"/api/v1/guidance?{query}", headers={"User-Agent": f"phone-{device}"})
    return response.status, await response.json()


class TestAnswers:
    async def test_from_a_board_the_lots_are_ranked_with_the_cost_broken_down(self, client: Client) -> None:
        status, body = await get(client, "board=north")
        assert status == 200
        assert body["origin"]["board"] == "north"
        assert body["destination"]["id"] == "general/main"
        lots = body["lots"]
        assert lots[0]["lot"] == "hospital"
        totals = [lot["cost"]["total_s"] for lot in lots]
        assert totals == sorted(totals)
        for lot in lots:
            cost = lot["cost"]
            assert cost["total_s"] == pytest.approx(
                cost["drive_s"] + cost["walk_s"] + cost["full_risk_s"], abs=0.2
            )
            assert lot["minutes"] >= 1
            assert {"id", "lat", "lon"} == set(lot["entrance"])
            assert {link["app"] for link in lot["navigation"]} == {
                "amap",
                "baidu",
                "tencent",
                "apple",
                "google",
                "geo",
            }
        assert body["data"] == "fresh"

    async def test_from_a_position_it_is_snapped_to_the_road_and_says_how_far(self, client: Client) -> None:
        status, body = await get(client, "lat=30.0003&lon=120.0023")  # ~33 m north of n3
        assert status == 200
        assert body["origin"]["node"] == "n3"
        assert 25 < body["origin"]["snap_m"] < 45
        assert body["origin"]["board"] is None
        assert {lot["lot"] for lot in body["lots"]} >= {"hospital", "tower"}

    async def test_another_destination_changes_the_walk(self, client: Client) -> None:
        _, main = await get(client, "board=north")
        _, emergency = await get(client, "board=north&dest=general/emergency")
        walks = {lot["lot"]: lot["walk_m"] for lot in main["lots"]}
        for lot in emergency["lots"]:
            assert lot["walk_m"] != walks[lot["lot"]]

    async def test_a_need_filters_lots_by_their_category(self, client: Client) -> None:
        _, body = await get(client, "board=north&needs=ev")
        assert [(lot["lot"], lot["free"]) for lot in body["lots"]] == [("tower", 3)]
        _, body = await get(client, "board=north&needs=disabled")
        assert [lot["lot"] for lot in body["lots"]] == ["hospital"]

    async def test_a_vehicle_too_tall_for_a_lot_is_not_sent_there(self, aiohttp_client: MakeClient) -> None:
        capacity = "    capacity: {general: 100, disabled: 4}"
        config = site_config(**{capacity: capacity + "\n    height_limit_m: 2.0"})
        client = await aiohttp_client(create_app(config, ingest=False, clock=FakeClock(T0)))
        client.app[FEED].observe("lot", LotObservation("hospital", free=50))
        client.app[FEED].observe("lot", LotObservation("tower", free=80))
        _, low = await get(client, "board=north&needs=height:1.9")
        _, tall = await get(client, "board=north&needs=height:2.4m")
        assert "hospital" in [lot["lot"] for lot in low["lots"]]
        assert "hospital" not in [lot["lot"] for lot in tall["lots"]]

    async def test_every_answer_counts_a_pending_arrival_at_its_first_lot(
        self, client: Client, clock: FakeClock
    ) -> None:
        for device in range(3):
            _, body = await get(client, "board=north", device)
        first = body["lots"][0]
        pending = client.app[PENDING]
        assert pending.count(first["lot"], clock.now) == 3
        assert pending.counts(clock.now) == {first["lot"]: 3}
        # forgotten once the drive time and the slack have passed
        clock.now = T0 + timedelta(seconds=first["drive_s"] + 61)
        assert pending.count(first["lot"], clock.now) == 0

    async def test_no_fresh_data_says_so(self, aiohttp_client: MakeClient) -> None:
        client = await aiohttp_client(create_app(site_config(), ingest=False, clock=FakeClock(T0)))
        status, body = await get(client, "board=north")
        assert status == 200
        assert body["data"] == "stale"
        assert body["lots"] == []

    async def test_inside_wechat_every_navigation_link_is_a_web_link(self, client: Client) -> None:
        response = await client.get(
            "/api/v1/guidance?board=north", headers={"User-Agent": "x MicroMessenger/8.0"}
        )
        links = [link for lot in (await response.json())["lots"] for link in lot["navigation"]]
        assert links
        assert {link["kind"] for link in links} == {"web"}

    async def test_the_answer_follows_the_openapi_document(self, client: Client) -> None:
        spec = await (await client.get("/api/v1/openapi.json")).json()
        _, body = await get(client, "board=north")
        schema = {"$ref": "#/components/schemas/Guidance", "components": spec["components"]}
        jsonschema.Draft202012Validator(schema).validate(body)
        example = spec["paths"]["/api/v1/guidance"]["get"]["responses"]["200"]["content"]["application/json"]
        for value in example["examples"].values():
            jsonschema.Draft202012Validator(schema).validate(value["value"])


class TestBadQueries:
    @pytest.mark.parametrize(
        ("query", "status", "words"),
        [
            ("", 400, "either board"),
            ("board=north&lat=30&lon=120", 400, "either board"),
            ("board=south", 404, "no board"),
            ("board=" + "x" * 500, 400, "too long"),
            ("lat=30", 400, "both lat and lon"),
            ("lat=nan&lon=120", 400, "lat must be a number from"),
            ("lat=30&lon=inf", 400, "lon must be a number from"),
            ("lat=1e308&lon=120", 400, "lat must be a number from"),
            ("lat=91&lon=120", 400, "lat must be a number from"),
            ("lat=north&lon=120", 400, "lat must be a number"),
            ("lat=31&lon=121", 422, "outside the area"),
            ("board=north&dest=general/nowhere", 400, "unknown destination"),
            ("board=north&needs=wings", 400, "unknown need"),
            ("board=north&needs=ev,disabled", 400, "one space category"),
            ("board=north&needs=height:-1", 400, "needs height"),
            ("board=north&needs=height:tall", 400, "needs height"),
        ],
    )
    async def test_is_a_4xx_with_a_clear_json_message(
        self, client: Client, query: str, status: int, words: str
    ) -> None:
        got, body = await get(client, query)
        assert got == status
        assert words in body["error"]["message"]

    async def test_a_queue_answer_follows_the_openapi_document(self, aiohttp_client: MakeClient) -> None:
        client = await aiohttp_client(create_app(site_config(), ingest=False, clock=FakeClock(T0)))
        spec = await (await client.get("/api/v1/openapi.json")).json()
        every_lot_full(client)
        _, body = await get(client, "board=north")
        [lot] = body["lots"]
        assert (lot["lot"], lot["queue"], lot["free"], lot["status"]) == ("hospital", True, 0, "full")
        assert lot["cost"]["wait_s"] == 0.0  # a space frees every 24 s, before the 31 s drive ends
        schema = {"$ref": "#/components/schemas/Guidance", "components": spec["components"]}
        jsonschema.Draft202012Validator(schema).validate(body)

    async def test_a_queue_answer_s_minutes_count_the_wait(self, aiohttp_client: MakeClient) -> None:
        client = await aiohttp_client(create_app(site_config(), ingest=False, clock=FakeClock(T0)))
        every_lot_full(client)
        for device in range(4):  # four drivers told to queue at the hospital before this one
            await get(client, "board=north", device)
        _, body = await get(client, "board=north", 4)
        [lot] = body["lots"]
        assert (lot["lot"], lot["queue"]) == ("hospital", True)
        assert lot["cost"]["wait_s"] == pytest.approx(88.9, abs=0.5)  # 5 x 2,400 s / 104, less the drive
        assert lot["minutes"] == 4  # drive 31 s + walk 105 s + wait 89 s; without the wait, 3
