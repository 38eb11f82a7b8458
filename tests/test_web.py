"""The HTTP API over real HTTP, with the state fed directly (no broker)."""

from __future__ import annotations

import contextlib

import jsonschema
import pytest
from openapi_spec_validator import validate

from parking.app.factory import create_app
from parking.app.keys import BOARDS, FEED, METRICS, TASKS
from parking.observations import GateCounterObservation, LotObservation, SpotObservation
from tests.helpers.site import T0, site_config
from tests.helpers.web import Client, FakeClock, MakeClient, every_lot_full


@pytest.fixture
async def client(aiohttp_client: MakeClient) -> Client:
    app = create_app(site_config(), ingest=False, clock=FakeClock(T0))
    return await aiohttp_client(app)


def feed(client: Client) -> None:
    engine = client.app[FEED]
    engine.observe("lot", LotObservation("hospital", free=104, categories={"disabled": 4}))  # counted empty
    engine.observe("gate", GateCounterObservation("hospital", "north", 0, 0))
    engine.observe("lot", LotObservation("tower", free=80, categories={"ev": 3}))
    engine.observe("lot", LotObservation("mall", free=300))
    for n in range(1, 11):  # every general bay reports; S01 is free
        engine.observe("spot", SpotObservation("street", f"S{n:02d}", occupied=n > 1))


class TestLots:
    async def test_lists_every_lot_with_live_availability(self, client: Client) -> None:
        feed(client)
        response = await client.get("/api/v1/lots")
        assert response.status == 200
        body = await response.json()
        lots = {lot["id"]: lot for lot in body["lots"]}
        assert set(lots) == {"hospital", "tower", "street", "mall"}
        assert lots["tower"]["free"] == 80
        assert lots["tower"]["categories"]["ev"] == {
            "free": 3,
            "capacity": 10,
            "status": "open",
            "estimated": False,
        }
        assert lots["tower"]["updated_at"] == "2026-11-25T08:00:00Z"
        assert lots["tower"]["entrances"] == [{"id": "main", "lat": 29.9991, "lon": 120.0031}]

    async def test_a_lot_systems_total_is_shown_as_sent_and_general_is_an_estimate(
        self, client: Client
    ) -> None:
        client.app[FEED].observe("lot", LotObservation("tower", free=209, capacity=210))
        body = await (await client.get("/api/v1/lots/tower")).json()
        assert (body["free"], body["capacity"]) == (209, 210)
        assert body["categories"]["general"] == {
            "free": 199,
            "capacity": 200,
            "status": "open",
            "estimated": True,
        }
        assert body["categories"]["ev"]["free"] is None
        anomalies = client.app[METRICS].registry.get_sample_value(
            "parking_anomalies_total", {"lot": "tower", "reason": "clamped_above_capacity"}
        )
        assert anomalies is None

    async def test_a_lot_with_no_data_is_unknown_with_null_free(self, client: Client) -> None:
        body = await (await client.get("/api/v1/lots/tower")).json()
        assert (body["status"], body["free"], body["updated_at"]) == ("unknown", None, None)

    async def test_unknown_lot_is_a_json_404(self, client: Client) -> None:
        response = await client.get("/api/v1/lots/nope")
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "not_found"


class TestBoards:
    async def test_board_json_follows_the_contract(self, client: Client) -> None:
        feed(client)
        response = await client.get("/api/v1/boards/north")
        assert response.status == 200
        body = await response.json()
        assert set(body) == {"board", "version", "lines", "message", "ttl_s"}
        assert body["lines"][0]["lot"] == "hospital"
        assert set(body["lines"][0]) == {"lot", "label", "free", "display", "arrow", "minutes", "walk_m"}
        assert response.headers["Cache-Control"] == "max-age=5"

    async def test_etag_gives_304_until_the_board_changes(self, client: Client) -> None:
        feed(client)
        first = await client.get("/api/v1/boards/north")
        etag = first.headers["ETag"]
        same = await client.get("/api/v1/boards/north", headers={"If-None-Match": etag})
        assert same.status == 304
        # a change on a lot this board does not show keeps the answer valid
        client.app[FEED].observe("spot", SpotObservation("street", "S02", occupied=False))
        client.app[FEED].observe("lot", LotObservation("tower", free=80, categories={"ev": 2}))
        # a change it shows makes a new version
        client.app[FEED].observe("gate", GateCounterObservation("hospital", "north", 5, 0))
        changed = await client.get("/api/v1/boards/north", headers={"If-None-Match": etag})
        assert changed.status == 200
        assert changed.headers["ETag"] != etag
        assert (await changed.json())["lines"][0]["free"] == 95

    async def test_text_format_for_led_controllers(self, client: Client) -> None:
        feed(client)
        response = await client.get("/api/v1/boards/north?format=text")
        assert response.content_type == "text/plain"
        text = await response.text()
        assert text.splitlines()[0].split()[:2] == ["Hospital", "100"]
        ascii_response = await client.get("/api/v1/boards/north?format=text&charset=ascii")
        (await ascii_response.read()).decode("ascii")
        assert ascii_response.headers["ETag"] != response.headers["ETag"]

    async def test_with_every_lot_full_the_board_says_queue_with_arrow_and_minutes_in_every_charset(
        self, client: Client
    ) -> None:
        every_lot_full(client)
        [line] = (await (await client.get("/api/v1/boards/north")).json())["lines"]
        assert (line["lot"], line["display"], line["arrow"], line["free"]) == ("hospital", "QUEUE", "left", 0)
        assert line["minutes"] >= 1
        minutes = f"{line['minutes']}min"
        texts = {
            charset: (await (await client.get(f"/api/v1/boards/north?format=text&charset={charset}")).read())
            for charset in ("utf-8", "ascii", "gb2312")
        }
        assert texts["utf-8"].decode().split() == ["Hospital", "QUEUE", "←", minutes]
        assert texts["ascii"].decode("ascii").split() == ["Hospital", "QUEUE", "<-", minutes]
        assert texts["gb2312"].decode("gb2312").split() == ["Hospital", "QUEUE", "←", minutes]  # like FULL

    async def test_bad_format_is_a_json_400(self, client: Client) -> None:
        response = await client.get("/api/v1/boards/north?format=xml")
        assert response.status == 400
        assert "format" in (await response.json())["error"]["message"]

    async def test_identical_answers_carry_identical_etags_across_restarts(
        self, aiohttp_client: MakeClient
    ) -> None:
        etags, versions = [], []
        for minutes in (0, 7):  # two engines, started at different times, fed the same
            app = create_app(site_config(), ingest=False, clock=FakeClock(T0.replace(minute=minutes)))
            client = await aiohttp_client(app)
            feed(client)
            response = await client.get("/api/v1/boards/north")
            etags.append(response.headers["ETag"])
            versions.append((await response.json())["version"])
            await client.close()
        assert etags[0] == etags[1]
        assert versions[0] == versions[1]

    @pytest.mark.parametrize(
        ("header", "status"),
        [
            ("{etag}", 304),
            ("W/{etag}", 304),
            ('"other", {etag}', 304),
            ("*", 304),
            ("zz{etag}zz", 200),
            ('"other"', 200),
            ("{etag_inner}", 200),
        ],
    )
    async def test_if_none_match_is_parsed_as_a_list_not_searched(
        self, client: Client, header: str, status: int
    ) -> None:
        feed(client)
        etag = (await client.get("/api/v1/boards/north")).headers["ETag"]
        value = header.format(etag=etag, etag_inner=etag.strip('"'))
        response = await client.get("/api/v1/boards/north", headers={"If-None-Match": value})
        assert response.status == status

    async def test_a_bug_while_rendering_is_a_logged_json_500_not_a_404(
        self, client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        def broken(board: str) -> None:
            raise KeyError("a bug, not a missing board")

        monkeypatch.setattr(client.app[BOARDS], "get", broken)
        response = await client.get("/api/v1/boards/north")
        assert response.status == 500
        assert (await response.json())["error"] == {"code": "internal_error", "message": "internal error"}
        [record] = [r for r in caplog.records if r.levelname == "ERROR"]
        assert record.exc_info is not None
        assert record.exc_info[0] is KeyError

    async def test_unknown_board_is_a_json_404(self, client: Client) -> None:
        response = await client.get("/api/v1/boards/south")
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "not_found"

    async def test_wrong_method_is_a_json_405_that_says_what_is_allowed(self, client: Client) -> None:
        response = await client.post("/api/v1/boards/north")
        assert response.status == 405
        assert "GET" in response.headers["Allow"]
        assert (await response.json())["error"]["code"] == "method_not_allowed"

    async def test_unknown_path_is_a_json_404(self, client: Client) -> None:
        response = await client.get("/api/v2/nothing")
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "not_found"


class TestOperations:
    async def test_healthz(self, client: Client) -> None:
        assert (await (await client.get("/healthz")).json()) == {"status": "ok"}

    async def test_readyz_without_ingest_is_ready(self, client: Client) -> None:
        response = await client.get("/readyz")
        assert response.status == 200
        checks = (await response.json())["checks"]
        assert checks == {"live_site": "ready", "guidance": "ready", "availability-ticker": "running"}

    async def test_a_crashed_background_task_makes_readyz_unready(
        self, client: Client, caplog: pytest.LogCaptureFixture
    ) -> None:
        async def crash() -> None:
            raise RuntimeError("the ticker hit a bug")

        await client.app[TASKS].stop("availability-ticker")
        task = client.app[TASKS].start("availability-ticker", crash())
        with contextlib.suppress(RuntimeError):
            await task
        response = await client.get("/readyz")
        assert response.status == 503
        body = await response.json()
        assert body["status"] == "not_ready"
        assert body["checks"]["availability-ticker"] == "crashed"
        assert any("availability-ticker crashed" in r.getMessage() for r in caplog.records)

    async def test_metrics_expose_free_spaces_and_request_latency(self, client: Client) -> None:
        feed(client)
        await client.get("/api/v1/boards/north")
        text = await (await client.get("/metrics")).text()
        assert 'parking_lot_free{category="general",lot="tower"} 77.0' in text
        assert 'parking_feed_messages_total{feed="lot",result="applied"} 3.0' in text  # hospital, tower, mall
        assert (
            'parking_http_request_duration_seconds_count{method="GET",route="/api/v1/boards/{board_id}"'
            in text
        )

    async def test_openapi_document_is_valid_and_describes_the_board_we_serve(self, client: Client) -> None:
        spec = await (await client.get("/api/v1/openapi.json")).json()
        validate(spec)  # OpenAPI 3.1: raises on any error in the document
        feed(client)
        board = await (await client.get("/api/v1/boards/north")).json()
        schema = {"$ref": "#/components/schemas/Board", "components": spec["components"]}
        jsonschema.Draft202012Validator(schema).validate(board)
        lots = await (await client.get("/api/v1/lots")).json()
        lot_list = {"$ref": "#/components/schemas/LotList", "components": spec["components"]}
        jsonschema.Draft202012Validator(lot_list).validate(lots)
        examples = spec["paths"]["/api/v1/boards/{board_id}"]["get"]["responses"]["200"]["content"]
        for example in examples["application/json"]["examples"].values():
            jsonschema.Draft202012Validator(schema).validate(example["value"])

    async def test_a_queue_answer_follows_the_openapi_document(self, client: Client) -> None:
        spec = await (await client.get("/api/v1/openapi.json")).json()
        every_lot_full(client)
        board = await (await client.get("/api/v1/boards/north")).json()
        assert [line["display"] for line in board["lines"]] == ["QUEUE"]
        schema = {"$ref": "#/components/schemas/Board", "components": spec["components"]}
        jsonschema.Draft202012Validator(schema).validate(board)

    async def test_answers_name_the_server_without_a_version_and_forbid_sniffing(
        self, client: Client
    ) -> None:
        feed(client)
        etag = (await client.get("/api/v1/boards/north")).headers["ETag"]
        for response in [
            await client.get("/healthz"),
            await client.get("/api/v1/boards/north", headers={"If-None-Match": etag}),  # 304
            await client.get("/api/v2/nothing"),  # 404, no route
            await client.post("/api/v1/boards/north"),  # 405
            await client.get("/api/v1/boards/north"),
            await client.get("/api/v1/boards/north?format=text&charset=gb2312"),
            await client.get("/api/v1/guidance?board=north"),
            await client.get("/api/v1/guidance?lat=nan&lon=1"),  # 400 from a handler
            await client.get("/go/north"),
            await client.get("/go/nope"),  # HTML 404
            await client.get("/qr/north.svg"),
            await client.get("/metrics"),
            await client.get("/readyz"),
        ]:
            assert response.headers["Server"] == "parking-guide", response.url
            assert response.headers["X-Content-Type-Options"] == "nosniff", response.url
        stream = await client.get("/api/v1/boards/north/stream")
        assert stream.headers["Server"] == "parking-guide"
        assert stream.headers["X-Content-Type-Options"] == "nosniff"
        stream.close()

    async def test_openapi_document_is_served(self, client: Client) -> None:
        body = await (await client.get("/api/v1/openapi.json")).json()
        assert body["openapi"].startswith("3.")
        assert "/api/v1/boards/{board_id}" in body["paths"]
