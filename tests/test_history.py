"""The history endpoint against buckets computed by hand, and its refusals."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from parking.app.factory import create_app
from parking.app.keys import STORE
from tests.helpers.engine import eventually
from tests.helpers.site import T0, site_config

Client = TestClient[web.Request, web.Application]


def at(hhmmss: str) -> datetime:
    h, m, s = (int(x) for x in hhmmss.split(":"))
    return datetime(2026, 11, 25, h, m, s, tzinfo=UTC)


SNAPSHOTS = [  # (at, free); capacity 210
    ("08:00:00", 100),
    ("08:02:00", 90),
    ("08:04:30", 95),
    ("08:05:10", None),  # unknown
    ("08:15:00", 80),
    ("08:19:59", 70),
    ("08:20:00", 1),  # past `to`: not counted
]
EXPECTED = [  # by hand: free at the end of each bucket, occupied = 210 - free, min, max, samples
    {"start": "2026-11-25T08:00:00Z", "free": 95, "occupied": 115, "min": 90, "max": 100, "samples": 3},
    {"start": "2026-11-25T08:05:00Z", "free": None, "occupied": None, "min": None, "max": None, "samples": 1},
    {"start": "2026-11-25T08:10:00Z", "free": None, "occupied": None, "min": None, "max": None, "samples": 0},
    {"start": "2026-11-25T08:15:00Z", "free": 70, "occupied": 140, "min": 70, "max": 80, "samples": 2},
]


NOW = T0 + timedelta(days=1)  # the engine's own snapshots land a day later, outside these hours


@pytest.fixture
async def client(pg_dsn: str, aiohttp_client: Callable[[web.Application], Awaitable[Client]]) -> Client:
    """The app with the snapshots above written through its own writer (five-minute summaries too)."""
    config = site_config()
    config = config.model_copy(update={"store": config.store.model_copy(update={"dsn": pg_dsn})})
    client = await aiohttp_client(create_app(config, ingest=False, clock=lambda: NOW))
    store = client.app[STORE]
    rows = [(at(t), "tower", free, 210, "open", 0) for t, free in SNAPSHOTS]
    rows.append((at("08:01:00"), "mall", 5, 500, "open", 0))  # another lot: not in tower's history
    for row in rows[:3]:
        store.buffer.add("lot_snapshots", row)
    await eventually(lambda: len(store.buffer) == 0)
    for row in rows[3:]:  # in a second batch: the summaries merge across batches
        store.buffer.add("lot_snapshots", row)
    await eventually(lambda: len(store.buffer) == 0)
    return client


async def test_buckets_match_the_hand_computed_ones(client: Client) -> None:
    response = await client.get(
        "/api/v1/lots/tower/history", params={"from": "2026-11-25T08:00:00Z", "to": "2026-11-25T08:20:00Z"}
    )
    assert response.status == 200
    body = await response.json()
    assert body["buckets"] == EXPECTED
    assert body["step_s"] == 300
    assert body["capacity"] == 210


async def test_the_raw_snapshots_give_the_same_buckets(client: Client, pg_dsn: str) -> None:
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute("DELETE FROM lot_history_5m")  # so only the snapshots can answer
    finally:
        await conn.close()
    params = {"from": "2026-11-25T08:00:30Z", "to": "2026-11-25T08:10:30Z"}  # off the five minutes
    body = await (await client.get("/api/v1/lots/tower/history", params=params)).json()
    assert body["buckets"] == [  # 08:02:00 90, 08:04:30 95, 08:05:10 unknown; then nothing
        {"start": "2026-11-25T08:00:30Z", "free": None, "occupied": None, "min": 90, "max": 95, "samples": 3},
        {
            "start": "2026-11-25T08:05:30Z",
            "free": None,
            "occupied": None,
            "min": None,
            "max": None,
            "samples": 0,
        },
    ]


async def test_a_zone_offset_and_a_step_in_minutes_mean_the_same(client: Client) -> None:
    params = {"from": "2026-11-25T16:00:00+08:00", "to": "2026-11-25T16:20:00+08:00", "step": "5m"}
    body = await (await client.get("/api/v1/lots/tower/history", params=params)).json()
    assert body["buckets"] == EXPECTED


async def test_csv_has_one_row_per_bucket_and_empty_cells_where_unknown(client: Client) -> None:
    params = {"from": "2026-11-25T08:00:00Z", "to": "2026-11-25T08:20:00Z", "step": "300", "format": "csv"}
    response = await client.get("/api/v1/lots/tower/history", params=params)
    assert response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert (await response.text()).splitlines() == [
        "start,free,occupied,min,max,samples",
        "2026-11-25T08:00:00Z,95,115,90,100,3",
        "2026-11-25T08:05:00Z,,,,,1",
        "2026-11-25T08:10:00Z,,,,,0",
        "2026-11-25T08:15:00Z,70,140,70,80,2",
    ]


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"step": "30"}, 400, "step must be from"),
        ({"step": "5 minutes"}, 400, "step must look like"),
        ({"from": "yesterday"}, 400, "ISO 8601"),
        ({"from": "2026-11-25T08:00:00"}, 400, "time zone"),
        ({"from": "2026-11-25T09:00:00Z", "to": "2026-11-25T08:00:00Z"}, 400, "before"),
        ({"from": "2024-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, 400, "at most 400 days"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-11-01T00:00:00Z", "step": "1m"}, 400, "buckets"),
        ({"format": "xml"}, 400, "format"),
        ({"from": "x" * 300}, 400, "too long"),
    ],
)
async def test_bad_values_are_refused_with_a_clear_message(
    client: Client, params: dict[str, str], status: int, says: str
) -> None:
    response = await client.get("/api/v1/lots/tower/history", params=params)
    assert response.status == status
    assert says in (await response.json())["error"]["message"]


async def test_an_unknown_lot_is_404(client: Client) -> None:
    assert (await client.get("/api/v1/lots/nowhere/history")).status == 404


async def test_without_a_store_history_is_503(
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
) -> None:
    client = await aiohttp_client(create_app(site_config(), ingest=False))
    response = await client.get("/api/v1/lots/tower/history")
    assert response.status == 503


async def test_the_answer_follows_the_openapi_document(client: Client) -> None:
    import jsonschema
    from openapi_spec_validator import validate

    spec = await (await client.get("/api/v1/openapi.json")).json()
    validate(spec)
    params = {"from": "2026-11-25T07:00:00Z", "to": "2026-11-25T09:00:00Z"}
    body = await (await client.get("/api/v1/lots/tower/history", params=params)).json()
    schema = {"$ref": "#/components/schemas/LotHistory", "components": spec["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)
