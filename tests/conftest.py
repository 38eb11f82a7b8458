"""Fixtures for tests that talk to real services: Mosquitto on 127.0.0.1:1883, or a private one;
PostgreSQL on 127.0.0.1:5432 (a fresh database per test, dropped after), or a private one."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from parking.app.factory import create_app
from parking.config import Config
from parking.store.embedded import EmbeddedPostgres
from sensors.net import free_port

SHARED_BROKER = ("127.0.0.1", 1883)
SHARED_POSTGRES = ("127.0.0.1", 5432)
POSTGRES_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
IN_CI = os.environ.get("CI") == "true"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: integration tests must not skip)")
    pytest.skip(reason)


@pytest.fixture
def mosquitto() -> tuple[str, int]:
    """The machine's Mosquitto; skipped with a reason if it is not running (failed under CI)."""
    if not _reachable(*SHARED_BROKER):
        _unavailable("no MQTT broker on 127.0.0.1:1883 (start mosquitto)")
    return SHARED_BROKER


@pytest.fixture
def prefix() -> str:
    """A topic prefix unique to this test, so runs never see each other's messages."""
    return f"test-{uuid.uuid4().hex[:12]}"


@dataclass
class PrivateBroker:
    """A Mosquitto process of our own, which a test may stop and start again."""

    port: int
    conf: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the broker and wait until it accepts connections."""
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.process = subprocess.Popen(
            [binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while not _reachable("127.0.0.1", self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"private mosquitto on port {self.port} did not start")
            time.sleep(0.05)

    def __enter__(self) -> PrivateBroker:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the broker (sessions are kept in memory only, so they go with it)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[PrivateBroker]:
    """A started private Mosquitto on a free port; stopped after the test."""
    if not (shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").exists()):
        _unavailable("the mosquitto binary is not installed")
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    with PrivateBroker(port, conf) as broker:
        yield broker


def forget_session(client_id: str) -> None:
    """Drop a persistent session from the shared broker (connect with a clean session, leave)."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    try:
        client.connect(*SHARED_BROKER)
        client.loop(timeout=1)
        client.disconnect()
    except OSError:
        pass  # the broker is gone: so is the session


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

    if not _reachable(*SHARED_POSTGRES):
        _unavailable("no PostgreSQL on 127.0.0.1:5432")
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
        _unavailable("no PostgreSQL server binaries (initdb, pg_ctl)")
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
