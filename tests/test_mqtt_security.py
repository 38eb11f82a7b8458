"""The engine against a broker that requires TLS and a username and password."""

from __future__ import annotations

import asyncio
import getpass
import logging
import shutil
import ssl
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import aiomqtt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from parking.app.keys import INGEST
from parking.config import Config
from parking.config.models import TlsConfig
from parking.simulation import publisher
from parking.simulation.publisher import run_simulation
from parking.types import ConnectionState
from sensors.net import free_port
from tests.helpers.engine import board_first_line, eventually, mqtt_site, ready
from tests.helpers.logs import LogCounter, records
from tests.helpers.reconnect import RecordedSleep, ingest_for, run_until_slept
from tests.helpers.services import PrivateBroker, unavailable
from tests.helpers.simulation import site

Client = TestClient[web.Request, web.Application]
StartEngine = Callable[[Config], Awaitable[Client]]
USER, PASSWORD = "guide", "s3cret-pw"
WRONG_PASSWORD = "not-the-password-42"


def _run(*argv: str, cwd: Path) -> None:
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def secure_broker(tmp_path: Path) -> Iterator[PrivateBroker]:
    """A private Mosquitto with a TLS listener (a CA made for this test) and a password file."""
    for tool in ("openssl", "mosquitto_passwd"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} is not installed")
    _run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test-ca",
         "-keyout", "ca.key", "-out", "ca.crt", cwd=tmp_path)  # fmt: skip
    _run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
         "-keyout", "server.key", "-out", "server.csr", cwd=tmp_path)  # fmt: skip
    (tmp_path / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
         "-CAcreateserial", "-days", "1", "-extfile", "san.ext", "-out", "server.crt",
         cwd=tmp_path)  # fmt: skip
    _write_password_file(tmp_path)
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\n"
        f"user {getpass.getuser()}\n"  # as root, mosquitto would drop to a user who cannot read tmp_path
        f"cafile {tmp_path / 'ca.crt'}\n"
        f"certfile {tmp_path / 'server.crt'}\nkeyfile {tmp_path / 'server.key'}\n"
        f"allow_anonymous false\npassword_file {tmp_path / 'passwords'}\npersistence false\n"
    )
    with PrivateBroker(port, conf) as broker:
        yield broker


@pytest.fixture
def password_broker(tmp_path: Path) -> Iterator[PrivateBroker]:
    """A private Mosquitto with a password file and no TLS (the simulator does not speak TLS)."""
    if shutil.which("mosquitto_passwd") is None:
        unavailable("mosquitto_passwd is not installed")
    _write_password_file(tmp_path)
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nuser {getpass.getuser()}\n"
        f"allow_anonymous false\npassword_file {tmp_path / 'passwords'}\npersistence false\n"
    )
    with PrivateBroker(port, conf) as broker:
        yield broker


def _write_password_file(directory: Path) -> None:
    _run("mosquitto_passwd", "-c", "-b", "passwords", USER, PASSWORD, cwd=directory)
    (directory / "passwords").chmod(0o600)


def secure_site(prefix: str, broker: PrivateBroker, password: str) -> Config:
    config = mqtt_site(prefix, "127.0.0.1", broker.port)
    tls = TlsConfig(enabled=True, ca_file=str(broker.conf.parent / "ca.crt"))
    mqtt = config.mqtt.model_copy(update={"tls": tls, "username": USER, "password": password})
    return config.model_copy(update={"mqtt": mqtt})


async def test_feeds_arrive_over_tls_with_username_and_password(
    start_engine: StartEngine, secure_broker: PrivateBroker, prefix: str
) -> None:
    client = await start_engine(secure_site(prefix, secure_broker, PASSWORD))
    await eventually(lambda: ready(client), 200)
    context = ssl.create_default_context(cafile=str(secure_broker.conf.parent / "ca.crt"))
    async with aiomqtt.Client(
        "127.0.0.1", secure_broker.port, username=USER, password=PASSWORD, tls_context=context
    ) as publisher:
        await publisher.publish(f"{prefix}/parking/hospital/status", b'{"free": 21}', qos=1)
    await eventually(lambda: board_first_line(client), ("hospital", "17"))


async def test_a_wrong_password_keeps_the_engine_retrying_and_not_ready(
    start_engine: StartEngine, secure_broker: PrivateBroker, prefix: str
) -> None:
    config = secure_site(prefix, secure_broker, "wrong")
    fast = config.mqtt.model_copy(update={"reconnect_min_s": 0.01, "reconnect_max_s": 0.01})
    client = await start_engine(config.model_copy(update={"mqtt": fast}))

    async def attempts() -> bool:
        return client.app[INGEST].reconnects >= 2

    await eventually(attempts, True)
    assert await ready(client) == 503
    assert (await client.get("/healthz")).status == 200


async def test_a_refused_login_is_an_error_on_every_attempt_and_waits_the_longest_delay(
    secure_broker: PrivateBroker, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = secure_site(prefix, secure_broker, WRONG_PASSWORD)
    sleep = RecordedSleep(wanted=3)
    ingest, sink = ingest_for(config, sleep)
    with caplog.at_level(logging.DEBUG, logger="sensors.ingest"):
        await run_until_slept(ingest, sleep)

    errors = records(caplog, logging.ERROR)
    assert len(errors) == 3  # one per attempt, not a warning once and then silence
    assert all("refused the login" in r.getMessage() and repr(USER) in r.getMessage() for r in errors)
    assert not records(caplog, logging.WARNING)
    assert not records(caplog, logging.DEBUG)
    assert sleep.delays == [config.mqtt.reconnect_max_s] * 3  # not the ladder from reconnect_min_s
    assert WRONG_PASSWORD not in caplog.text
    assert ConnectionState.CONNECTED not in sink.states


async def test_a_refused_simulator_login_is_an_error_on_every_attempt(
    password_broker: PrivateBroker, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(publisher, "RECONNECT_MIN_S", 0.01)
    monkeypatch.setattr(publisher, "RECONNECT_MAX_S", 0.02)
    refusals = LogCounter("refused the login", wanted=2)
    sim_logger = logging.getLogger("parking.simulation.publisher")
    sim_logger.addHandler(refusals)
    stop = asyncio.Event()
    try:
        with caplog.at_level(logging.DEBUG, logger="parking.simulation.publisher"):
            task = asyncio.create_task(
                run_simulation(
                    site(),
                    "127.0.0.1",
                    password_broker.port,
                    username=USER,
                    password=WRONG_PASSWORD,
                    stop=stop,
                ),
                name="test-simulation",
            )
            async with asyncio.timeout(10):
                await refusals.reached.wait()
            stop.set()
            await task
    finally:
        sim_logger.removeHandler(refusals)
    levels = [r.levelno for r in caplog.records if r.name == "parking.simulation.publisher"]
    assert levels.count(logging.ERROR) >= 2
    assert logging.WARNING not in levels
    assert WRONG_PASSWORD not in caplog.text
