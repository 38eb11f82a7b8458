"""MqttIngest's reconnect loop, run directly with an injected sleep: delays are recorded, never waited."""

from __future__ import annotations

import logging

import pytest

from parking.types import ConnectionState
from sensors.net import free_port
from tests.helpers.engine import mqtt_site
from tests.helpers.logs import records
from tests.helpers.reconnect import RecordedSleep, ingest_for, run_until_slept


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
