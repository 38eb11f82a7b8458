"""Kill the engine (SIGKILL) in the middle of a stream: the restarted one recovers counts and overrides.

A real `parking-guide run` process against the machine's Mosquitto and
PostgreSQL. What the store had written before the kill is restored before the
engine answers; the stream then carries on through the broker's persistent
session, and the bays' next heartbeat settles what the kill interrupted.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import aiomqtt
import orjson
import pytest
from argon2 import PasswordHasher

from sensors.net import free_port
from tests.helpers.services import SHARED_BROKER, forget_session
from tests.helpers.site import WALL_CLOCK_SITE_YAML

pytestmark = pytest.mark.slow
WAIT_S = 30.0
PASSWORD = "restart-test-password"
BAYS = [f"S{n:02d}" for n in range(1, 11)] + ["E1", "E2"]


def config_text(prefix: str, dsn: str, http_port: int) -> str:
    hashed = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    return WALL_CLOCK_SITE_YAML + (
        f"mqtt: {{port: {SHARED_BROKER[1]}, client_id: {prefix}-engine, reconnect_max_s: 1}}\n"
        f"feeds:\n  - {{format: spot, topic: '{prefix}/parking/{{lot}}/spots/{{spot}}'}}\n"
        f"  - {{format: lot, topic: '{prefix}/parking/{{lot}}/status'}}\n"
        f"  - {{format: gate, topic: '{prefix}/parking/{{lot}}/gates/{{gate}}'}}\n"
        f"http: {{port: {http_port}}}\n"
        f"store: {{dsn: '{dsn}', flush_interval_s: 0.05}}\n"
        f"ops: {{secure_cookies: false, session_secret: {'s' * 40}, "
        f"users: [{{name: nurse, password_hash: '{hashed}'}}]}}\n"
    )


class Engine:
    """`parking-guide run` as a child process."""

    def __init__(self, config: Path, port: int, log: Path) -> None:
        self.config, self.port, self.log = config, port, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "parking.app.cli", "run", "-c", str(self.config)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


async def until(probe: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            result = await probe()
            if result:
                return result
        except (aiohttp.ClientError, OSError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"waited {WAIT_S}s for {what}")
        await asyncio.sleep(0.1)


@pytest.fixture
async def engine(
    pg_dsn: str, tmp_path: Path, prefix: str, mosquitto: tuple[str, int]
) -> AsyncIterator[Engine]:
    port = free_port()
    path = tmp_path / "config.yaml"
    path.write_text(config_text(prefix, pg_dsn, port))
    engine = Engine(path, port, tmp_path / "engine.log")
    yield engine
    engine.stop()
    forget_session(f"{prefix}-engine")


async def publish_the_first_readings(topic: str) -> None:
    """A lot system, gate counters and events, and the street's bays: the state to come back."""
    async with aiomqtt.Client(*SHARED_BROKER) as mqtt:
        await mqtt.publish(f"{topic}/hospital/status", b'{"free": 40}', qos=1)
        await mqtt.publish(f"{topic}/hospital/gates/north", b'{"entries": 500, "exits": 480}', qos=1)
        await mqtt.publish(f"{topic}/hospital/gates/north", b'{"entries": 507, "exits": 481}', qos=1)
        await mqtt.publish(f"{topic}/hospital/gates/south", b'{"event": "exit", "seq": 1}', qos=1)
        await mqtt.publish(f"{topic}/tower/status", b'{"free": 120, "categories": {"ev": 3}}', qos=1)
        for n, bay in enumerate(BAYS):
            await mqtt.publish(f"{topic}/street/spots/{bay}", b"1" if n < 4 else b"0", qos=1)


async def set_overrides_as_ops(http: aiohttp.ClientSession, engine: Engine) -> None:
    """Log in to the ops console and close a lot, hold back spaces and fix a board message."""
    async with http.get(engine.url("/ops/login")) as response:
        token = (await response.text()).split('name="csrf" value="')[1].split('"')[0]
    login = {"csrf": token, "user": "nurse", "password": PASSWORD}
    async with http.post(engine.url("/ops/login"), data=login) as response:
        assert response.status == 200
    async with http.get(engine.url("/ops/api/state")) as response:
        csrf = (await response.json())["csrf_token"]
    for body in (
        {"kind": "close", "target": "mall", "reason": "market day"},
        {"kind": "hold", "target": "tower", "spaces": 20, "reason": "board meeting"},
        {"kind": "message", "target": "north", "message": "Use the east gate", "reason": "works"},
    ):
        async with http.post(
            engine.url("/ops/api/overrides"), json=body, headers={"X-CSRF-Token": csrf}
        ) as response:
            assert response.status == 200, await response.text()


async def flip_bays_while(topic: str, kill: Callable[[], None]) -> None:
    """Bays keep flipping while `kill` ends the engine mid-stream."""

    async def stream() -> None:
        async with aiomqtt.Client(*SHARED_BROKER) as mqtt:
            for round_ in range(40):
                for i, bay in enumerate(BAYS[:6]):
                    payload = b"1" if (round_ + i) % 2 else b"0"
                    await mqtt.publish(f"{topic}/street/spots/{bay}", payload, qos=1)
                await asyncio.sleep(0.02)

    streaming = asyncio.create_task(stream())
    await asyncio.sleep(0.3)
    kill()
    await streaming


async def publish_after_the_restart(topic: str) -> None:
    """The next gate reading and the bays' heartbeat."""
    async with aiomqtt.Client(*SHARED_BROKER) as mqtt:
        await mqtt.publish(f"{topic}/hospital/gates/north", b'{"entries": 509, "exits": 481}', qos=1)
        for bay in BAYS:  # the bays' heartbeat
            await mqtt.publish(f"{topic}/street/spots/{bay}", b"0", qos=1)


async def test_sigkill_mid_stream_then_the_counts_and_overrides_come_back(
    engine: Engine, prefix: str
) -> None:
    topic = f"{prefix}/parking"
    engine.start()
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:

        async def ready() -> bool:
            async with http.get(engine.url("/readyz")) as response:
                return response.status == 200

        async def lots() -> dict[str, Any]:
            async with http.get(engine.url("/api/v1/lots")) as response:
                return {lot["id"]: (lot["free"], lot["status"]) for lot in (await response.json())["lots"]}

        await until(ready, "the engine ready")
        await publish_the_first_readings(topic)

        async def phase_a_applied() -> bool:
            shown = await lots()
            return shown["hospital"][0] == 35 and shown["tower"][0] == 120 and shown["street"][0] == 8

        await until(phase_a_applied, "the first messages applied")
        await set_overrides_as_ops(http, engine)  # as a person would set them
        before = await lots()

        async def flushed() -> bool:
            async with http.get(engine.url("/metrics")) as response:
                text = await response.text()
            written = 'parking_store_written_rows_total{table="observations"} 17.0'
            return "parking_store_backlog_rows 0.0" in text and written in text

        await until(flushed, "the store to have everything so far")

        await flip_bays_while(topic, engine.kill)  # mid-stream

        engine.start()
        await until(ready, "the restarted engine ready")
        after = await lots()
        assert "store: restored" in engine.log.read_text()
        # only the stream's bays moved since: everything else is as it was, restored before any answer
        assert after["hospital"] == before["hospital"] == (35, "open")
        assert after["tower"] == before["tower"] == (100, "open")
        assert after["mall"][1] == "closed"
        async with http.get(engine.url("/api/v1/boards/north")) as response:
            board = orjson.loads(await response.read())
        assert board["message"] == "Use the east gate"
        async with http.get(engine.url("/ops/api/state")) as response:
            assert response.status == 200  # the session outlives the process: ops.session_secret signs it
            assert [o["kind"] for o in (await response.json())["overrides"]] == ["close", "hold", "message"]
        # the gate counters' baseline survived: the next reading moves the count by its delta only
        await publish_after_the_restart(topic)

        async def settled() -> bool:
            shown = await lots()
            return shown["hospital"][0] == 33 and shown["street"][0] == 12

        await until(settled, "the heartbeat and the gate reading after the restart")
