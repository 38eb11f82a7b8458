"""Board streams (server-sent events) and board liveness, over real HTTP."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import orjson
import pytest
from aiohttp import ClientResponse, ClientSession, web

from parking.app.api import streams
from parking.app.factory import create_app
from parking.app.keys import CLOCK, FEED, SIGNAL
from parking.app.web.server import serve
from parking.config.models import HttpConfig
from parking.observations import GateCounterObservation, LotObservation
from tests.helpers.site import T0, site_config
from tests.helpers.web import Client, FakeClock, MakeClient


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def client(aiohttp_client: MakeClient, clock: FakeClock) -> Client:
    client = await aiohttp_client(create_app(site_config(), ingest=False, clock=clock))
    client.app[FEED].observe(
        "lot", LotObservation("hospital", free=54, categories={"general": 50, "disabled": 4})
    )
    client.app[FEED].observe("lot", LotObservation("tower", free=80))
    return client


async def next_block(response: ClientResponse) -> dict[str, str]:
    """Read one SSE block (up to a blank line) as its fields; comments under ':'."""
    fields: dict[str, str] = {}
    async with asyncio.timeout(5):
        while True:
            line = (await response.content.readline()).decode()
            if line in ("\n", ""):
                if fields or line == "":
                    return fields
                continue
            name, _, value = line.rstrip("\n").partition(":")
            fields[name or ":"] = value.strip()


async def next_event(response: ClientResponse) -> dict[str, str]:
    """The next block with data, skipping retry hints and comments."""
    while True:
        block = await next_block(response)
        if "data" in block or not block:
            return block


class TestStream:
    async def test_sends_the_view_now_and_again_on_every_change(self, client: Client) -> None:
        response = await client.get("/api/v1/boards/north/stream")
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        first = await next_event(response)
        assert first["event"] == "board"
        body = orjson.loads(first["data"])
        assert body["lines"][0]["display"] == "50"
        assert first["id"] == str(body["version"])
        client.app[FEED].observe(
            "lot", LotObservation("hospital", free=0, categories={"general": 0, "disabled": 0})
        )
        second = await next_event(response)
        assert orjson.loads(second["data"])["lines"][0]["display"] == "FULL"
        assert second["id"] != first["id"]
        response.close()

    async def test_a_change_the_board_does_not_show_sends_nothing(self, client: Client) -> None:
        response = await client.get("/api/v1/boards/north/stream")
        first = await next_event(response)
        signal = client.app[SIGNAL]
        # the tower's lot system now splits its total: EV becomes known (the live version moves),
        # general stays 70 (the board shows general spaces, so it does not change)
        before = signal.version
        client.app[FEED].observe(
            "lot", LotObservation("tower", free=80, categories={"general": 70, "ev": 10})
        )
        assert signal.version > before
        await asyncio.sleep(0.05)  # the stream wakes, compares, and sends nothing
        client.app[FEED].observe(
            "lot", LotObservation("hospital", free=53, categories={"general": 49, "disabled": 4})
        )
        event = await next_event(response)
        assert orjson.loads(event["data"])["lines"][0]["display"] == "49"  # the next event is the real change
        assert orjson.loads(event["data"])["lines"][1:] == orjson.loads(first["data"])["lines"][1:]
        response.close()

    async def test_resuming_with_last_event_id_skips_what_was_seen(
        self, client: Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(streams, "KEEPALIVE_S", 0.05)
        first = await client.get("/api/v1/boards/north/stream")
        seen = (await next_event(first))["id"]
        first.close()
        again = await client.get("/api/v1/boards/north/stream", headers={"Last-Event-ID": seen})
        block = await next_block(again)
        while "retry" in block:
            block = await next_block(again)
        assert block == {":": "keep-alive"}  # nothing new: only the keep-alive
        client.app[FEED].observe("gate", GateCounterObservation("hospital", "north", 1, 0))
        client.app[FEED].observe("gate", GateCounterObservation("hospital", "north", 3, 0))
        assert orjson.loads((await next_event(again))["data"])["lines"][0]["display"] == "48"
        again.close()

    async def test_keep_alive_comes_while_changes_the_board_does_not_show_keep_coming(
        self, client: Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(streams, "KEEPALIVE_S", 0.2)
        response = await client.get("/api/v1/boards/north/stream")
        await next_event(response)
        churn = asyncio.create_task(_churn_the_tower(client.app), name="tower-churn")
        try:
            async with asyncio.timeout(2):  # the board is unchanged, yet the stream is not silent
                assert await next_block(response) == {":": "keep-alive"}
        finally:
            churn.cancel()
        response.close()

    async def test_a_dropped_client_frees_its_handler_within_the_keep_alive(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # the real server: aiohttp's test server cancels a handler when its client goes, production's does not
        monkeypatch.setattr(streams, "KEEPALIVE_S", 0.2)
        app = create_app(site_config(), ingest=False, clock=FakeClock(T0))
        server = await serve(app, HttpConfig(), "127.0.0.1", 0)
        try:
            app[FEED].observe("lot", LotObservation("tower", free=80, categories={"general": 70, "ev": 10}))
            signal = app[SIGNAL]
            gone = asyncio.Event()
            churn = asyncio.create_task(_churn_the_tower(app, gone), name="tower-churn")
            try:
                async with ClientSession() as session:
                    response = await session.get(f"http://127.0.0.1:{server.port}/api/v1/boards/north/stream")
                    await next_event(response)
                    assert signal.waiting == 1
                    response.close()  # the client goes away; the live site keeps changing, the board does not
                async with asyncio.timeout(2):
                    await gone.wait()
                await asyncio.sleep(0.3)  # and it does not come back: the handler returned
                assert signal.waiting == 0
            finally:
                churn.cancel()
        finally:
            await server.close()

    async def test_an_unknown_board_is_a_json_404(self, client: Client) -> None:
        response = await client.get("/api/v1/boards/south/stream")
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "not_found"

    async def test_streams_end_cleanly_on_shutdown(self, aiohttp_client: MakeClient) -> None:
        client = await aiohttp_client(create_app(site_config(), ingest=False, clock=FakeClock(T0)))
        responses = [await client.get("/api/v1/boards/north/stream") for _ in range(3)]
        for response in responses:
            await next_event(response)
        await client.app.shutdown()
        assert client.app[SIGNAL].closed
        for response in responses:
            async with asyncio.timeout(5):
                assert await response.content.read() == b""  # the server ended the stream
        await client.close()


class TestStreamBudget:
    async def capped(self, aiohttp_client: MakeClient, **http: int) -> Client:
        config = site_config()
        config = config.model_copy(update={"http": HttpConfig(**http)})
        client = await aiohttp_client(create_app(config, ingest=False, clock=FakeClock(T0)))
        client.app[FEED].observe("lot", LotObservation("tower", free=80))
        return client

    async def test_over_the_board_s_cap_a_stream_gets_503_and_polls_are_still_served(
        self, aiohttp_client: MakeClient
    ) -> None:
        client = await self.capped(aiohttp_client, max_streams_per_board=2)
        streams_open = [await client.get("/api/v1/boards/north/stream") for _ in range(2)]
        for response in streams_open:
            await next_event(response)
        refused = await client.get("/api/v1/boards/north/stream")
        assert refused.status == 503
        assert refused.headers["Retry-After"] == str(streams.BUSY_RETRY_AFTER_S)
        assert "on one board" in (await refused.json())["error"]["message"]
        assert (await client.get("/api/v1/boards/north")).status == 200  # the board can poll
        assert (await client.get("/healthz")).status == 200
        streams_open.pop().close()
        async with asyncio.timeout(5):  # the handler sees its client gone at the next write (test server)
            while client.app[streams.STREAMS].open > 1:  # noqa: ASYNC110 (a count the server keeps)
                await asyncio.sleep(0.01)
        again = await client.get("/api/v1/boards/north/stream")
        assert again.status == 200
        again.close()
        streams_open[0].close()

    async def test_one_address_has_its_own_cap(self, aiohttp_client: MakeClient) -> None:
        client = await self.capped(aiohttp_client, max_streams_per_client=1)
        first = await client.get("/api/v1/boards/north/stream")
        refused = await client.get("/api/v1/boards/north/stream")
        assert refused.status == 503
        assert "from one address" in (await refused.json())["error"]["message"]
        first.close()

    def test_streams_take_at_most_half_the_connections(self) -> None:
        assert streams.StreamBudget(HttpConfig(max_connections=100, max_streams=1024)).limit == 50


class TestLastSeen:
    async def test_a_poll_or_a_stream_marks_the_board_seen(self, client: Client, clock: FakeClock) -> None:
        boards = {b["id"]: b for b in (await (await client.get("/api/v1/boards")).json())["boards"]}
        assert boards["north"]["last_seen_at"] is None
        assert boards["north"]["urls"]["display"] == "/boards/north/display"
        await client.get("/api/v1/boards/north")
        clock.now = T0 + timedelta(seconds=30)
        body = (await (await client.get("/api/v1/boards")).json())["boards"][0]
        assert body["last_seen_at"] == "2026-11-25T08:00:00Z"
        text = await (await client.get("/metrics")).text()
        assert 'parking_board_last_seen_age_seconds{board="north"} 30.0' in text
        response = await client.get("/api/v1/boards/north/stream")
        await next_event(response)
        body = (await (await client.get("/api/v1/boards")).json())["boards"][0]
        assert body["last_seen_at"] == "2026-11-25T08:00:30Z"
        response.close()

    async def test_an_unknown_board_is_never_recorded(self, client: Client) -> None:
        await client.get("/api/v1/boards/south")
        text = await (await client.get("/metrics")).text()
        assert 'board="south"' not in text


async def _churn_the_tower(app: web.Application, gone: asyncio.Event | None = None) -> None:
    """Move the live version every 50 ms with changes the north board does not show (EV spaces).

    With `gone`, set it once no stream handler is waiting any more.
    """
    clock = app[CLOCK]
    assert isinstance(clock, FakeClock)
    n = 0
    while True:
        clock.now += timedelta(seconds=1)  # each a newer message
        if gone is not None and n > 2 and not app[SIGNAL].waiting:
            gone.set()
        n += 1
        ev = 10 - n % 2
        app[FEED].observe("lot", LotObservation("tower", free=70 + ev, categories={"general": 70, "ev": ev}))
        await asyncio.sleep(0.05)
