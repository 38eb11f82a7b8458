"""MqttIngest's reconnect loop, run directly with an injected sleep: delays are recorded, never waited."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from parking.config import Config
from parking.observations import Observation
from parking.types import ConnectionState
from sensors.ingest import Dispatcher, MqttIngest
from sensors.net import free_port
from tests.test_ingest_mqtt import mqtt_site

# A guard against hanging, not a timed assertion: each attempt fails in milliseconds.
WAIT_S = 10.0


class RecordingSink:
    """A FeedSink that keeps the connection states it was told about."""

    def __init__(self) -> None:
        self.states: list[ConnectionState] = []
        self.takeovers = 0

    def observe(self, feed: str, obs: Observation) -> None:
        pass

    def reject(self, feed: str, reason: str, topic: str, payload: bytes, detail: str) -> None:
        pass

    def connection_changed(self, state: ConnectionState) -> None:
        self.states.append(state)

    def session_taken_over(self) -> None:
        self.takeovers += 1


class RecordedSleep:
    """Stands in for asyncio.sleep: records each delay and returns at once, until `wanted` delays."""

    def __init__(self, wanted: int) -> None:
        self.wanted = wanted
        self.delays: list[float] = []
        self.reached = asyncio.Event()

    async def __call__(self, delay_s: float) -> None:
        self.delays.append(delay_s)
        if len(self.delays) < self.wanted:
            return
        self.reached.set()
        await asyncio.Event().wait()  # park the loop here until the test cancels it


def ingest_for(config: Config, sleep: RecordedSleep) -> tuple[MqttIngest, RecordingSink]:
    sink = RecordingSink()
    dispatcher = Dispatcher(config.feeds, sink, config.mqtt.max_payload_bytes)
    return MqttIngest(config.mqtt, dispatcher, sink, sleep=sleep), sink


async def run_until_slept(ingest: MqttIngest, sleep: RecordedSleep) -> None:
    """Run the ingest until it has chosen `sleep.wanted` delays, then cancel it."""
    task = asyncio.create_task(ingest.run(), name="test-ingest")
    reached = asyncio.create_task(sleep.reached.wait(), name="test-ingest-slept")
    try:
        await asyncio.wait({task, reached}, timeout=WAIT_S, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # the loop never ends by itself: raise what stopped it
        assert reached.done(), f"only {len(sleep.delays)} of {sleep.wanted} attempts in {WAIT_S}s"
    finally:
        for pending in (task, reached):
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending


def records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "sensors.ingest" and r.levelno == level]


async def test_an_unreachable_broker_warns_once_and_backs_off_up_the_ladder(
    caplog: pytest.LogCaptureFixture, prefix: str
) -> None:
    config = mqtt_site(prefix, "127.0.0.1", free_port())  # nothing listens there
    mqtt = config.mqtt.model_copy(update={"reconnect_min_s": 0.5, "reconnect_max_s": 4.0})
    sleep = RecordedSleep(wanted=6)
    ingest, sink = ingest_for(config.model_copy(update={"mqtt": mqtt}), sleep)
    with caplog.at_level(logging.DEBUG, logger="sensors.ingest"):
        await run_until_slept(ingest, sleep)

    steps = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]  # doubling from reconnect_min_s, capped at reconnect_max_s
    for delay, step in zip(sleep.delays, steps, strict=True):
        assert max(0.5, step * 0.75) <= delay <= min(4.0, step * 1.25)
    assert len(records(caplog, logging.WARNING)) == 1
    assert len(records(caplog, logging.DEBUG)) == 5
    assert not records(caplog, logging.ERROR)
    assert ingest.reconnects == 6
    assert ConnectionState.CONNECTED not in sink.states
