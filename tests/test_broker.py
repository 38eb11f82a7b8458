"""The embedded broker and the simulator's publishing loop, against a real (in-process) broker."""

from __future__ import annotations

import asyncio
import logging
import random
import socket

import aiomqtt
import pytest

from parking.config import Config
from parking.errors import MqttError
from parking.observations import Observation
from parking.simulation import publisher, simulator
from parking.simulation.broker import EmbeddedBroker
from parking.simulation.publisher import run_simulation
from sensors.net import free_port, port_is_free
from sensors.topics import TopicTemplate
from tests.helpers.logs import LogCounter
from tests.helpers.simulation import WEDNESDAY_06, decode, site

# A guard against hanging, not a timed assertion: on localhost everything arrives in milliseconds.
RECEIVE_TIMEOUT_S = 10.0


async def receive(client: aiomqtt.Client, count: int) -> list[aiomqtt.Message]:
    """The next `count` messages the client receives."""
    received: list[aiomqtt.Message] = []
    async with asyncio.timeout(RECEIVE_TIMEOUT_S):
        async for message in client.messages:
            received.append(message)
            if len(received) == count:
                break
    return received


async def subscribe_to_feeds(client: aiomqtt.Client, config: Config) -> None:
    for entry in config.feeds:
        await client.subscribe(TopicTemplate(entry.format, entry.topic).subscription, qos=1)


def decoded(config: Config, messages: list[aiomqtt.Message]) -> list[Observation]:
    out = []
    for message in messages:
        assert isinstance(message.payload, bytes)
        out.append(decode(config, message.topic.value, message.payload))
    return out


def snapshot_size(config: Config) -> int:
    return len(simulator.SiteSimulator(config, random.Random(0)).initial_messages(WEDNESDAY_06))


@pytest.fixture
def fast_reconnect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(publisher, "RECONNECT_MIN_S", 0.02)
    monkeypatch.setattr(publisher, "RECONNECT_MAX_S", 0.1)


async def test_embedded_broker_delivers_a_qos1_message() -> None:
    async with EmbeddedBroker(host="127.0.0.1", port=0) as broker:
        assert broker.port > 0
        assert broker.url == f"mqtt://127.0.0.1:{broker.port}"
        async with (
            aiomqtt.Client("127.0.0.1", broker.port, identifier="test-sub") as subscriber,
            aiomqtt.Client("127.0.0.1", broker.port, identifier="test-pub") as publisher,
        ):
            await subscriber.subscribe("parking/+/status", qos=1)
            await publisher.publish("parking/tower/status", b'{"free": 3}', qos=1)
            [message] = await receive(subscriber, 1)
    assert message.topic.value == "parking/tower/status"
    assert message.payload == b'{"free": 3}'
    assert message.qos == 1


async def test_simulation_publishes_decodable_feeds() -> None:
    config = site()
    expected = snapshot_size(config)
    async with EmbeddedBroker() as broker, aiomqtt.Client("127.0.0.1", broker.port) as subscriber:
        await subscribe_to_feeds(subscriber, config)
        stop = asyncio.Event()
        task = asyncio.create_task(
            run_simulation(
                config, "127.0.0.1", broker.port, interval_s=0.01, time_scale=60, seed=1, stop=stop
            ),
            name="test-simulation",
        )
        messages = await receive(subscriber, expected + 20)  # the snapshot, then changes
        stop.set()
        await task
    observations = decoded(config, messages)
    assert {obs.lot for obs in observations} == {lot.id for lot in config.lots}


async def test_a_late_subscriber_gets_the_retained_state() -> None:
    config = site()
    async with EmbeddedBroker() as broker:
        stop = asyncio.Event()
        task = asyncio.create_task(
            run_simulation(config, "127.0.0.1", broker.port, interval_s=60, seed=2, stop=stop),
            name="test-simulation",
        )
        async with aiomqtt.Client("127.0.0.1", broker.port) as probe:
            # the snapshot has been published once its last topic holds a message
            await probe.subscribe("parking/street/spots/S12", qos=1)
            await receive(probe, 1)
        async with aiomqtt.Client("127.0.0.1", broker.port) as late:
            await subscribe_to_feeds(late, config)
            messages = await receive(late, snapshot_size(config))
        stop.set()
        await task
    assert all(message.retain for message in messages)
    assert {obs.lot for obs in decoded(config, messages)} == {lot.id for lot in config.lots}


async def test_simulation_waits_for_a_broker_and_warns_once(
    fast_reconnect: None, caplog: pytest.LogCaptureFixture
) -> None:
    config = site()
    port = free_port()
    stop = asyncio.Event()
    failures = LogCounter("unavailable", wanted=3)
    sim_logger = logging.getLogger("parking.simulation.publisher")
    sim_logger.addHandler(failures)
    try:
        with caplog.at_level(logging.DEBUG, logger="parking.simulation.publisher"):
            task = asyncio.create_task(
                run_simulation(config, "127.0.0.1", port, interval_s=0.01, seed=3, stop=stop),
                name="test-simulation",
            )
            async with asyncio.timeout(RECEIVE_TIMEOUT_S):
                await failures.reached.wait()
            async with EmbeddedBroker(port=port), aiomqtt.Client("127.0.0.1", port) as subscriber:
                await subscribe_to_feeds(subscriber, config)
                messages = await receive(subscriber, 10)
                stop.set()
                await task
    finally:
        sim_logger.removeHandler(failures)
    assert decoded(config, messages)
    warnings = [
        r for r in caplog.records if r.name == "parking.simulation.publisher" and r.levelno >= logging.WARNING
    ]
    assert len(warnings) == 1
    assert failures.count >= 3


async def test_simulation_survives_a_broker_restart(fast_reconnect: None) -> None:
    config = site()
    stop = asyncio.Event()
    async with EmbeddedBroker() as first:
        port = first.port
        task = asyncio.create_task(
            run_simulation(config, "127.0.0.1", port, interval_s=0.01, time_scale=60, seed=4, stop=stop),
            name="test-simulation",
        )
        async with aiomqtt.Client("127.0.0.1", port) as subscriber:
            await subscribe_to_feeds(subscriber, config)
            await receive(subscriber, 5)
    assert not task.done()
    async with EmbeddedBroker(port=port), aiomqtt.Client("127.0.0.1", port) as subscriber:
        await subscribe_to_feeds(subscriber, config)
        # the reconnected simulator publishes a fresh snapshot: every lot is heard from again
        messages = await receive(subscriber, snapshot_size(config))
        stop.set()
        await task
    assert {obs.lot for obs in decoded(config, messages)} == {lot.id for lot in config.lots}


async def test_a_port_in_use_is_a_clear_error_not_a_crash() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert not port_is_free("127.0.0.1", port)
        with pytest.raises(MqttError, match="is in use"):
            async with EmbeddedBroker(port=port):
                pass
