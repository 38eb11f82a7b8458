"""Fixtures for tests that talk to real services: Mosquitto on 127.0.0.1:1883, or a private one;
PostgreSQL on 127.0.0.1:5432 (a fresh database per test, dropped after), or a private one; headless
Chromium. And the fixtures several test modules share. Plain helpers live in tests/helpers/."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from parking.app.factory import create_app
from parking.config import Config
from parking.guidance.service import GuidanceService
from parking.roads.load import build_guidance
from parking.store.embedded import EmbeddedPostgres
from sensors.net import free_port
from tests.helpers.browser import CHROMIUM, FLAGS, HAVE_CHROMIUM
from tests.helpers.services import (
    POSTGRES_ADMIN_DSN,
    SHARED_BROKER,
    SHARED_POSTGRES,
    PrivateBroker,
    forget_session,
    reachable,
    unavailable,
)
from tests.helpers.site import site_config

if TYPE_CHECKING:
    from playwright.async_api import Browser


@pytest.fixture
def mosquitto() -> tuple[str, int]:
    """The machine's Mosquitto; skipped with a reason if it is not running (failed under CI)."""
    if not reachable(*SHARED_BROKER):
        unavailable("no MQTT broker on 127.0.0.1:1883 (start mosquitto)")
    return SHARED_BROKER


@pytest.fixture
def prefix() -> str:
    """A topic prefix unique to this test, so runs never see each other's messages."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[PrivateBroker]:
    """A started private Mosquitto on a free port; stopped after the test."""
    if not (shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").exists()):
        unavailable("the mosquitto binary is not installed")
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    with PrivateBroker(port, conf) as broker:
        yield broker


@pytest.fixture
async def start_engine(
    aiohttp_client: Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]],
) -> AsyncIterator[Callable[[Config], Awaitable[TestClient[web.Request, web.Application]]]]:
    """Start the app with its MQTT ingest; afterwards close it and drop its broker session."""
    started: list[tuple[TestClient[web.Request, web.Application], Config]] = []

    async def start(config: Config) -> TestClient[web.Request, web.Application]:
        client = await aiohttp_client(create_app(config))
        started.append((client, config))
        return client

    yield start
    for client, config in started:
        await client.close()
        if (config.mqtt.host, config.mqtt.port) == SHARED_BROKER:
            forget_session(config.mqtt.client_id)


@pytest.fixture
async def pg_dsn() -> AsyncIterator[str]:
    """A fresh, empty database on the machine's PostgreSQL, dropped after the test."""
    import asyncpg

    if not reachable(*SHARED_POSTGRES):
        unavailable("no PostgreSQL on 127.0.0.1:5432")
    name = f"parking_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def private_postgres() -> AsyncIterator[EmbeddedPostgres]:
    """A PostgreSQL of our own on a free port, which the test may stop and start; stopped after."""
    from parking.store.embedded import EmbeddedPostgres, find_binaries

    if find_binaries() is None:
        unavailable("no PostgreSQL server binaries (initdb, pg_ctl)")
    # not under pytest's own temporary directory (0700): as root the server runs as nobody,
    # who must reach its data directory
    base = Path(tempfile.mkdtemp(prefix="parking-pg-"))
    os.chmod(base, 0o755)
    server = EmbeddedPostgres(base / "pg", fast=True, tcp_port=free_port())
    try:
        await server.start()
        yield server
    finally:
        await server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium; skipped with a reason if it is not installed (failed under CI)."""
    from playwright.async_api import async_playwright

    if not HAVE_CHROMIUM:
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        await browser.close()


@pytest.fixture
def guidance() -> GuidanceService:
    """The test site's guidance service."""
    return build_guidance(site_config())
