"""The forecast through the real app: from the store's history, the trend without one, the ops line."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import jsonschema
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from openapi_spec_validator import validate

from parking.app.factory import FORECAST_TASK, create_app
from parking.app.keys import FORECASTS, LIVE, STORE, TASKS
from parking.observations import LotObservation
from tests.helpers.site import T0, site_config
from tests.helpers.sites import ops_site
from tests.test_ops import log_in

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[[web.Application], Awaitable[Client]]

NOW = T0 + timedelta(minutes=10)  # a Wednesday, 08:10 at the site (UTC)


def usual_wednesday(at: datetime) -> int:
    """The tower's known Wednesday morning: 170 free at 08:00, two spaces fewer each minute."""
    minutes = (at - at.replace(hour=8, minute=0)).total_seconds() / 60
    return max(0, min(210, round(170 - 2 * minutes)))


async def write_history(dsn: str, weeks: int) -> None:
    """Five-minute summaries for the tower, 07:30 to 09:30 on each of the `weeks` Wednesdays before NOW."""
    rows = []
    for week in range(1, weeks + 1):
        bucket = T0 - timedelta(weeks=week, minutes=30)
        while bucket < T0 - timedelta(weeks=week) + timedelta(minutes=90):
            last_at = bucket + timedelta(minutes=4)
            free = usual_wednesday(last_at)
            rows.append(("tower", bucket, free, free, free, last_at, 210, 5))
            bucket += timedelta(minutes=5)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table(
            "lot_history_5m",
            records=rows,
            columns=["lot", "bucket", "min_free", "max_free", "last_free", "last_at", "capacity", "samples"],
        )
    finally:
        await conn.close()


async def store_client(aiohttp_client: MakeClient, dsn: str, weeks: int) -> Client:
    config = site_config()
    config = config.model_copy(update={"store": config.store.model_copy(update={"dsn": dsn})})
    client = await aiohttp_client(create_app(config, ingest=False, clock=lambda: NOW))
    await write_history(dsn, weeks)
    client.app[LIVE].apply(LotObservation("tower", free=150), NOW)  # 20 fewer than a usual 08:10
    await client.app[FORECASTS].refresh(client.app[STORE], NOW)  # what the background task does
    return client


PROFILE_4 = {"method": "weekday-profile", "weeks": 4}


async def test_the_forecast_follows_the_weekday_profile_from_the_current_count(
    pg_dsn: str, aiohttp_client: MakeClient
) -> None:
    client = await store_client(aiohttp_client, pg_dsn, weeks=4)
    assert client.app[TASKS].health()[FORECAST_TASK] == "running"
    response = await client.get("/api/v1/lots/tower/forecast")
    assert response.status == 200
    body = await response.json()
    # a usual Wednesday loses 30, 60 and 120 spaces from 08:10: from 150, clamped at 0
    assert body == {
        "lot": "tower",
        "at": "2026-11-25T08:10:00Z",
        "free": 150,
        "capacity": 210,
        "horizons": [
            {
                "minutes": 15,
                "at": "2026-11-25T08:25:00Z",
                "free": 120,
                "method": "weekday-profile",
                "weeks": 4,
            },
            {
                "minutes": 30,
                "at": "2026-11-25T08:40:00Z",
                "free": 90,
                "method": "weekday-profile",
                "weeks": 4,
            },
            {
                "minutes": 60,
                "at": "2026-11-25T09:10:00Z",
                "free": 30,
                "method": "weekday-profile",
                "weeks": 4,
            },
        ],
    }
    one = await (await client.get("/api/v1/lots/tower")).json()
    assert one["forecast"] == body["horizons"]
    every = await (await client.get("/api/v1/lots")).json()
    by_id: dict[str, Any] = {lot["id"]: lot for lot in every["lots"]}
    assert by_id["tower"]["forecast"] == body["horizons"]
    # the hospital has no history and no trend: its count (unknown here) is not forecast
    assert {h["method"] for h in by_id["hospital"]["forecast"]} == {"none"}


async def test_one_week_of_history_is_too_short_and_the_trend_answers(
    pg_dsn: str, aiohttp_client: MakeClient
) -> None:
    client = await store_client(aiohttp_client, pg_dsn, weeks=1)
    body = await (await client.get("/api/v1/lots/tower/forecast")).json()
    # one reading: no fill rate yet, so the count is held, and said so
    assert [(h["free"], h["method"], h["weeks"]) for h in body["horizons"]] == [(150, "none", 0)] * 3


async def test_an_unknown_lot_is_404(aiohttp_client: MakeClient) -> None:
    client = await aiohttp_client(create_app(site_config(), ingest=False, clock=lambda: NOW))
    response = await client.get("/api/v1/lots/nowhere/forecast")
    assert response.status == 404
    assert "nowhere" in (await response.json())["error"]["message"]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def filling(client: Client, clock: Clock) -> None:
    """The tower loses 2 spaces a minute for 10 minutes up to NOW: 60 to 40 free."""
    for minute in range(11):
        clock.now = NOW - timedelta(minutes=10 - minute)
        client.app[LIVE].apply(LotObservation("tower", free=60 - 2 * minute), clock.now)


async def test_without_a_store_the_trend_forecasts(aiohttp_client: MakeClient) -> None:
    clock = Clock(NOW)
    client = await aiohttp_client(create_app(site_config(), ingest=False, clock=clock))
    assert FORECAST_TASK not in client.app[TASKS].health()
    filling(client, clock)
    body = await (await client.get("/api/v1/lots/tower/forecast")).json()
    assert [(h["free"], h["method"], h["weeks"]) for h in body["horizons"]] == [
        (10, "trend", 0),
        (0, "trend", 0),
        (0, "trend", 0),
    ]


@pytest.mark.parametrize("path", ["/ops/api/state", "/ops"])
async def test_the_ops_console_says_when_a_lot_will_be_full(aiohttp_client: MakeClient, path: str) -> None:
    clock = Clock(NOW)
    client = await aiohttp_client(create_app(ops_site(), ingest=False, clock=clock))
    filling(client, clock)
    await log_in(client)
    response = await client.get(path)
    if path == "/ops":
        # 40 free at 08:10 and 2 a minute fewer: 10 at 08:25, -20 (0) at 08:40; interpolated, 08:30
        assert "full by about 08:30" in await response.text()
    else:
        lots = {lot["id"]: lot for lot in (await response.json())["lots"]}
        assert lots["tower"]["full_by"] == "08:30"  # not 08:40, the first horizon at 0
        assert lots["street"]["full_by"] is None


async def test_the_answers_and_examples_follow_the_openapi_document(aiohttp_client: MakeClient) -> None:
    clock = Clock(NOW)
    client = await aiohttp_client(create_app(site_config(), ingest=False, clock=clock))
    filling(client, clock)
    spec = await (await client.get("/api/v1/openapi.json")).json()
    validate(spec)

    def check(name: str, value: Any) -> None:
        schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
        jsonschema.Draft202012Validator(schema).validate(value)

    check("LotForecast", await (await client.get("/api/v1/lots/tower/forecast")).json())
    check("Lot", await (await client.get("/api/v1/lots/tower")).json())
    check("LotList", await (await client.get("/api/v1/lots")).json())
    path = spec["paths"]["/api/v1/lots/{lot_id}/forecast"]["get"]["responses"]["200"]["content"]
    for example in path["application/json"]["examples"].values():
        check("LotForecast", example["value"])
    for name in ("HospitalLotFull", "OfficeLotOpen", "LotUnknown"):
        check("ForecastHorizons", spec["components"]["examples"][name]["value"]["forecast"])


class Unreachable:
    """A store whose database has gone: every connection attempt fails as asyncpg's would."""

    class _Pool:
        def acquire(self, timeout: float) -> Any:
            raise OSError("connection refused")

    pool = _Pool()


async def test_a_failed_refresh_keeps_the_profiles_until_they_are_too_old(
    pg_dsn: str, aiohttp_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = await store_client(aiohttp_client, pg_dsn, weeks=4)
    forecasts, view = client.app[FORECASTS], client.app[LIVE].view("tower")
    with caplog.at_level(logging.DEBUG, logger="parking.app.forecasts"):
        await forecasts.refresh(Unreachable(), NOW + timedelta(minutes=3))  # type: ignore[arg-type]
        await forecasts.refresh(Unreachable(), NOW + timedelta(minutes=6))  # type: ignore[arg-type]
    levels = [r.levelno for r in caplog.records if "history not read" in r.message]
    assert levels == [logging.WARNING, logging.DEBUG]  # said once, then quietly
    later = forecasts.forecast("tower", view, NOW + timedelta(minutes=6))
    assert {h.method for h in later.horizons} == {"weekday-profile"}
    stale = forecasts.forecast("tower", view, NOW + timedelta(minutes=16))  # past MAX_PROFILE_AGE
    assert {h.method for h in stale.horizons} == {"none"}  # one reading: no trend either
