"""The ops dashboard and its APIs: no login, no data; CSRF on every POST; bad values refused clearly."""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from parking.app.factory import create_app
from parking.app.keys import LIVE
from parking.config import Config
from parking.observations import LotObservation
from tests.helpers.site import T0
from tests.helpers.sites import PASSWORD, ops_site

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[[web.Application], Awaitable[Client]]


async def start(aiohttp_client: MakeClient, config: Config) -> Client:
    client = await aiohttp_client(create_app(config, ingest=False, clock=lambda: T0))
    client.app[LIVE].apply(LotObservation("tower", free=120), T0)
    return client


async def login_token(client: Client) -> str:
    page = await (await client.get("/ops/login")).text()
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


async def log_in(client: Client, password: str = PASSWORD) -> str:
    """Log in; return the session's CSRF token."""
    token = await login_token(client)
    response = await client.post(
        "/ops/login", data={"csrf": token, "user": "nurse", "password": password}, allow_redirects=False
    )
    assert response.status == 303, await response.text()
    state = await (await client.get("/ops/api/state")).json()
    return str(state["csrf_token"])


@pytest.fixture
async def client(aiohttp_client: MakeClient) -> Client:
    return await start(aiohttp_client, ops_site())


class TestNoLoginNoData:
    async def test_the_page_sends_to_the_login_form(self, client: Client) -> None:
        response = await client.get("/ops", allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"] == "/ops/login"

    @pytest.mark.parametrize(
        "path",
        [
            "/ops/api/state",
            "/ops/api/overrides",
            "/ops/api/summary",
            "/ops/api/audit",
            "/ops/events",
            "/ops/charts/tower.svg",
        ],
    )
    async def test_apis_answer_401(self, client: Client, path: str) -> None:
        response = await client.get(path)
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "unauthorized"

    async def test_posts_answer_401_or_go_to_the_login(self, client: Client) -> None:
        api = await client.post(
            "/ops/api/overrides", json={"kind": "close", "target": "tower", "reason": "x"}
        )
        assert api.status == 401
        form = await client.post("/ops/overrides", data={"kind": "close"}, allow_redirects=False)
        assert form.status == 303
        assert client.app[LIVE].overrides() == []

    async def test_a_forged_or_tampered_cookie_is_no_session(self, client: Client) -> None:
        await log_in(client)
        cookie = next(c for c in client.session.cookie_jar if c.key == "pg_ops")
        signature = cookie.value.partition(".")[2]
        forged = base64.urlsafe_b64encode(orjson.dumps({"u": "nurse", "s": "x", "e": 2**40})).decode()
        client.session.cookie_jar.clear()
        client.session.cookie_jar.update_cookies({"pg_ops": forged.rstrip("=") + "." + signature})
        assert (await client.get("/ops/api/state")).status == 401


class TestLogin:
    async def test_the_session_cookie_is_httponly_samesite_and_secure_by_default(
        self, aiohttp_client: MakeClient
    ) -> None:
        client = await start(aiohttp_client, ops_site(secure_cookies=True))
        form = await client.get("/ops/login")
        login_cookie = form.cookies["pg_login"]
        assert login_cookie["secure"]
        token = login_cookie.value  # (a client does not send a Secure cookie back over plain HTTP)
        response = await client.post(
            "/ops/login",
            data={"csrf": token, "user": "nurse", "password": PASSWORD},
            headers={"Cookie": f"pg_login={token}"},
            allow_redirects=False,
        )
        cookie = response.cookies["pg_ops"]
        assert cookie["httponly"]
        assert cookie["secure"]
        assert cookie["samesite"] == "Strict"
        assert cookie["path"] == "/ops"

    async def test_the_login_form_needs_its_csrf_token(self, client: Client) -> None:
        await client.get("/ops/login")
        response = await client.post("/ops/login", data={"user": "nurse", "password": PASSWORD})
        assert response.status == 403

    async def test_a_wrong_password_is_logged_without_the_password(
        self, client: Client, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.INFO)
        token = await login_token(client)
        wrong = "hunter2-not-it"
        response = await client.post("/ops/login", data={"csrf": token, "user": "nurse", "password": wrong})
        assert response.status == 401
        assert "Wrong user or password" in await response.text()
        assert "wrong password for user 'nurse'" in caplog.text
        assert wrong not in caplog.text
        assert (await client.get("/ops/api/state")).status == 401

    async def test_wrong_passwords_are_slow_to_repeat(self, client: Client) -> None:
        token = await login_token(client)
        for _ in range(5):
            await client.post("/ops/login", data={"csrf": token, "user": "nurse", "password": "wrong-one"})
        response = await client.post(
            "/ops/login", data={"csrf": token, "user": "nurse", "password": PASSWORD}
        )
        assert response.status == 429
        assert int(response.headers["Retry-After"]) > 0
        assert (await client.get("/ops/api/state")).status == 401

    @pytest.mark.parametrize(
        ("fields", "status", "says"),
        [
            ({"user": "", "password": "x"}, 400, "Give a user"),
            ({"user": "n" * 65, "password": "x"}, 400, "too long"),
            ({"user": "nurse", "password": "x" * 300}, 400, "too long"),
        ],
    )
    async def test_malformed_logins_are_refused_clearly(
        self, client: Client, fields: dict[str, str], status: int, says: str
    ) -> None:
        token = await login_token(client)
        response = await client.post("/ops/login", data={"csrf": token, **fields})
        assert response.status == status
        assert says in await response.text()

    async def test_a_trusted_proxy_header_names_the_user(self, aiohttp_client: MakeClient) -> None:
        client = await start(aiohttp_client, ops_site(users=[], proxy_header="X-Remote-User"))
        assert (await client.get("/ops/api/state")).status == 401
        response = await client.get("/ops/api/state", headers={"X-Remote-User": "charge-nurse"})
        assert response.status == 200
        assert (await response.json())["user"] == "charge-nurse"
        untrusted = await start(
            aiohttp_client, ops_site(users=[], proxy_header="X-Remote-User", trusted_proxies=["10.9.9.9"])
        )
        assert (await untrusted.get("/ops/api/state", headers={"X-Remote-User": "x"})).status == 401

    async def test_logging_out_ends_the_session(self, client: Client) -> None:
        csrf = await log_in(client)
        response = await client.post("/ops/logout", data={"csrf": csrf}, allow_redirects=False)
        assert response.status == 303
        assert (await client.get("/ops/api/state")).status == 401


class TestOverrides:
    async def test_without_the_csrf_token_nothing_changes(self, client: Client) -> None:
        await log_in(client)
        body = {"kind": "close", "target": "tower", "reason": "event"}
        assert (await client.post("/ops/api/overrides", json=body)).status == 403
        form = await client.post("/ops/overrides", data=body)
        assert form.status == 403
        assert client.app[LIVE].overrides() == []

    async def test_a_closure_shows_at_once_on_boards_and_in_the_api_and_reopens(self, client: Client) -> None:
        csrf = await log_in(client)
        headers = {"X-CSRF-Token": csrf}
        body = {"kind": "close", "target": "hospital", "reason": "flooded", "minutes": 60}
        response = await client.post("/ops/api/overrides", json=body, headers=headers)
        assert response.status == 200, await response.text()
        assert (await client.get("/api/v1/lots/hospital")).status == 200
        assert (await (await client.get("/api/v1/lots/hospital")).json())["status"] == "closed"
        board = await (await client.get("/api/v1/boards/north")).json()
        assert next(line for line in board["lines"] if line["lot"] == "hospital")["display"] == "CLOSED"
        listed = await (await client.get("/ops/api/overrides")).json()
        assert listed["overrides"][0]["until"] == "2026-11-25T09:00:00Z"
        reopen = {"action": "clear", "kind": "close", "target": "hospital", "reason": "pumped dry"}
        assert (await client.post("/ops/api/overrides", json=reopen, headers=headers)).status == 200
        assert (await (await client.get("/api/v1/lots/hospital")).json())["status"] != "closed"

    async def test_the_dashboard_form_sets_a_board_message(self, client: Client) -> None:
        csrf = await log_in(client)
        fields = {"csrf": csrf, "kind": "message", "target": "north", "message": "Emergency vehicles only"}
        response = await client.post("/ops/overrides", data={**fields, "reason": "major incident"})
        assert response.status == 200  # after the redirect: the dashboard
        assert "Emergency vehicles only" in await response.text()
        board = await (await client.get("/api/v1/boards/north")).json()
        assert board["message"] == "Emergency vehicles only"
        assert board["lines"] == []

    @pytest.mark.parametrize(
        ("fields", "says"),
        [
            (
                {"kind": "hold", "target": "tower", "spaces": 0},
                "spaces must be from 1 to the lot's capacity (210)",
            ),
            ({"kind": "hold", "target": "tower", "spaces": 211}, "spaces must be from 1"),
            ({"kind": "hold", "target": "tower", "spaces": "many"}, "spaces must be a whole number"),
            ({"kind": "hold", "target": "tower"}, "spaces is required"),
            ({"kind": "message", "target": "north", "message": "x" * 65}, "message is too long"),
            ({"kind": "message", "target": "north", "message": "a\nb"}, "no control characters"),
            ({"kind": "close", "target": "tower", "minutes": 99999}, "minutes must be from 1 to 10080"),
            ({"kind": "close", "target": "tower", "minutes": "soon"}, "minutes must be a whole number"),
            ({"kind": "close", "target": "tower", "until": "2020-01-01T00:00:00Z"}, "in the future"),
            ({"kind": "close", "target": "tower", "until": "2026-11-25T10:00:00"}, "time zone"),
            ({"kind": "close", "target": "nowhere"}, "no lot 'nowhere'"),
            ({"kind": "message", "target": "nowhere", "message": "x"}, "no board 'nowhere'"),
            ({"kind": "explode", "target": "tower"}, "kind must be one of close, hold, message"),
            ({"kind": "close", "target": "tower", "colour": "red"}, "unknown field 'colour'"),
            ({"kind": "close", "target": "tower", "reason": ""}, "reason is required"),
            ({"kind": "close", "target": "tower", "reason": "r" * 501}, "reason is too long"),
            ({"action": "clear", "kind": "close", "target": "tower"}, "no close override stands"),
        ],
    )
    async def test_bad_values_are_refused_with_a_clear_message(
        self, client: Client, fields: dict[str, Any], says: str
    ) -> None:
        csrf = await log_in(client)
        body = {"reason": "testing", **fields}
        response = await client.post("/ops/api/overrides", json=body, headers={"X-CSRF-Token": csrf})
        assert response.status == 400
        assert says in (await response.json())["error"]["message"]
        form = {k: str(v) for k, v in body.items()}
        page = await client.post("/ops/overrides", data={**form, "csrf": csrf})
        assert page.status == 400
        assert client.app[LIVE].overrides() == []

    async def test_an_oversized_body_is_refused(self, client: Client) -> None:
        csrf = await log_in(client)
        body = {"kind": "close", "target": "tower", "reason": "x" * 10_000}
        response = await client.post("/ops/api/overrides", json=body, headers={"X-CSRF-Token": csrf})
        assert response.status == 413


async def test_overrides_and_logins_are_in_the_audit_log(pg_dsn: str, aiohttp_client: MakeClient) -> None:
    config = ops_site()
    config = config.model_copy(update={"store": config.store.model_copy(update={"dsn": pg_dsn})})
    client = await start(aiohttp_client, config)
    csrf = await log_in(client)
    headers = {"X-CSRF-Token": csrf}
    hold = {"kind": "hold", "target": "tower", "spaces": 20, "reason": "VIP visit"}
    await client.post("/ops/api/overrides", json=hold, headers=headers)
    clear = {"action": "clear", "kind": "hold", "target": "tower", "reason": "VIP left"}
    await client.post("/ops/api/overrides", json=clear, headers=headers)
    await client.close()  # the writer flushes on the way out
    conn = await asyncpg.connect(pg_dsn)
    try:
        rows = await conn.fetch(
            "SELECT actor, action, kind, target, detail, reason FROM audit_log ORDER BY id"
        )
        assert await conn.fetchval("SELECT count(*) FROM overrides") == 0
    finally:
        await conn.close()
    assert [tuple(r) for r in rows] == [
        ("nurse", "login", None, None, "from 127.0.0.1", ""),
        ("nurse", "override_set", "hold", "tower", "spaces=20", "VIP visit"),
        ("nurse", "override_cleared", "hold", "tower", "", "VIP left"),
    ]
