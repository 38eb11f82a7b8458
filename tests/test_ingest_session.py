"""The ingest's MQTT session against real brokers: MQTT 5 and the fallback to 3.1.1, what the broker
announces, oversized messages the broker keeps to itself, takeovers, and acknowledging what fails."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiomqtt
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from parking.app.keys import INGEST, METRICS
from parking.config import Config
from parking.live import LiveSite
from parking.observations import Observation
from sensors import ingest
from sensors.ingest import MqttIngest
from sensors.net import free_port
from sensors.paho_adapter import quiet_debug_log
from sensors.reader import puback
from sensors.session import SessionClient, max_packet_bytes
from tests.helpers.engine import (
    Client,
    StartEngine,
    board_first_line,
    counted,
    eventually,
    mqtt_site,
    publish,
    ready,
)
from tests.helpers.mqtt_proxy import MqttProxy
from tests.helpers.reconnect import RecordedSleep, ingest_for, run_until_slept
from tests.helpers.services import PrivateBroker

LOCAL = "127.0.0.1"


def with_mqtt(config: Config, **changes: Any) -> Config:
    return config.model_copy(update={"mqtt": config.mqtt.model_copy(update=changes)})


def ingest_logs(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "sensors.ingest" and r.levelno == level]


def protocol_of(client: Client) -> str | None:
    ingest: MqttIngest = client.app[INGEST]
    return ingest.protocol


async def takeovers_of(client: Client) -> float:
    value = client.app[METRICS].registry.get_sample_value("parking_mqtt_session_takeovers_total")
    return value or 0.0


@pytest.fixture
def broker_with(tmp_path: Path) -> Iterator[Any]:
    """Start private Mosquittos with extra lines in their config; each is stopped after the test."""
    started: list[PrivateBroker] = []

    def start(*lines: str) -> PrivateBroker:
        port = free_port()
        conf = tmp_path / f"mosquitto-{port}.conf"
        conf.write_text(
            "\n".join([f"listener {port} {LOCAL}", "allow_anonymous true", "persistence false", *lines])
            + "\n"
        )
        broker = PrivateBroker(port, conf)
        broker.start()
        started.append(broker)
        return broker

    yield start
    for broker in started:
        broker.stop()


class TestMqtt5:
    async def test_the_engine_speaks_mqtt5_and_logs_what_the_broker_announces(
        self, start_engine: StartEngine, broker_with: Any, prefix: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        broker = broker_with("max_qos 0")  # a limit that works against the ingest: it is warned about
        caplog.set_level(logging.INFO, logger="sensors.ingest")
        client = await start_engine(mqtt_site(prefix, LOCAL, broker.port))
        await eventually(lambda: ready(client), 200)

        assert protocol_of(client) == "mqttv5"
        [announced] = [m for m in ingest_logs(caplog, logging.INFO) if "announces" in m]
        assert "Receive Maximum 20" in announced
        assert "Maximum QoS 0" in announced
        assert any("QoS 0 only" in m for m in ingest_logs(caplog, logging.WARNING))

    async def test_the_broker_keeps_a_message_larger_than_the_engine_takes_and_the_next_one_arrives(
        self, start_engine: StartEngine, private_broker: PrivateBroker, prefix: str
    ) -> None:
        config = mqtt_site(prefix, LOCAL, private_broker.port)
        client = await start_engine(config)
        await eventually(lambda: ready(client), 200)
        limit = config.mqtt.max_payload_bytes
        too_large = max_packet_bytes(limit) + 1
        oversized = b'{"free": 1' + b" " * limit + b"}"  # over max_payload_bytes, under the packet limit
        status = f"{prefix}/parking/tower/status"
        await publish(
            LOCAL,
            private_broker.port,
            (status, b'{"free": 1' + b" " * too_large + b"}"),
            (status, oversized),
            (status, b'{"free": 42}'),
        )
        await eventually(lambda: counted(client, "lot", "applied"), 1)
        assert await counted(client, "lot", "oversized") == 1  # the smaller one: counted, not parsed

    async def test_a_broker_that_refuses_mqtt5_gets_mqtt311_at_once_with_a_warning(
        self,
        start_engine: StartEngine,
        private_broker: PrivateBroker,
        prefix: str,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        async with MqttProxy(private_broker.port, refuse_mqtt5=True) as proxy:
            client = await start_engine(mqtt_site(prefix, LOCAL, proxy.port))
            await eventually(lambda: ready(client), 200)
            assert protocol_of(client) == "mqttv311"
            assert proxy.connects == [5, 4]
            [warning] = ingest_logs(caplog, logging.WARNING)
            assert "does not speak MQTT 5" in warning
            assert "message_size_limit" in warning

            await publish(LOCAL, private_broker.port, (f"{prefix}/parking/hospital/status", b'{"free": 42}'))
            # general: the total of 42 less the 4 disabled bays
            await eventually(lambda: board_first_line(client), ("hospital", "38"))

    async def test_mqtt311_when_configured_is_all_the_engine_tries(
        self, start_engine: StartEngine, private_broker: PrivateBroker, prefix: str
    ) -> None:
        async with MqttProxy(private_broker.port) as proxy:
            config = with_mqtt(mqtt_site(prefix, LOCAL, proxy.port), protocol="mqttv311")
            client = await start_engine(config)
            await eventually(lambda: ready(client), 200)
            assert proxy.connects == [4]
            assert protocol_of(client) == "mqttv311"

    async def test_mqtt5_when_configured_and_refused_is_an_error_retried_slowly(
        self, private_broker: PrivateBroker, prefix: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        async with MqttProxy(private_broker.port, refuse_mqtt5=True) as proxy:
            config = with_mqtt(mqtt_site(prefix, LOCAL, proxy.port), protocol="mqttv5")
            sleep = RecordedSleep(wanted=2)
            ingest, _ = ingest_for(config, sleep)
            await run_until_slept(ingest, sleep)

        assert proxy.connects == [5, 5]
        assert sleep.delays == [config.mqtt.reconnect_max_s] * 2
        errors = ingest_logs(caplog, logging.ERROR)
        assert len(errors) == 2
        assert "mqtt.protocol is mqttv5" in errors[0]


class TestTakeover:
    async def test_the_brokers_session_taken_over_is_an_error_and_counted(
        self,
        start_engine: StartEngine,
        private_broker: PrivateBroker,
        prefix: str,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        async with MqttProxy(private_broker.port) as proxy:
            config = mqtt_site(prefix, LOCAL, proxy.port)
            client = await start_engine(config)
            await eventually(lambda: ready(client), 200)

            await proxy.take_over()  # as Mosquitto >= 2.0.15, EMQX or HiveMQ do to an MQTT 5 client
            await eventually(lambda: takeovers_of(client), 1.0)
            [error] = ingest_logs(caplog, logging.ERROR)
            assert "reason code 142" in error
            assert repr(config.mqtt.client_id) in error
            assert "give each replica its own mqtt.client_id" in error.lower()
            await eventually(lambda: ready(client), 200)  # it reconnects, after reconnect_max_s

    @pytest.mark.parametrize("protocol", ["auto", "mqttv311"])
    async def test_two_engines_with_one_client_id_both_say_so(
        self,
        start_engine: StartEngine,
        private_broker: PrivateBroker,
        prefix: str,
        caplog: pytest.LogCaptureFixture,
        protocol: str,
    ) -> None:
        """Mosquitto 2.0.11 just closes the old connection: the pattern of short connections gives it away."""
        config = with_mqtt(mqtt_site(prefix, LOCAL, private_broker.port), protocol=protocol)
        first = await start_engine(config)
        await eventually(lambda: ready(first), 200)
        second = await start_engine(config)

        async def both_saw_one() -> bool:
            return await takeovers_of(first) >= 1 and await takeovers_of(second) >= 1

        await eventually(both_saw_one, True)
        errors = ingest_logs(caplog, logging.ERROR)
        assert len(errors) >= 2
        assert all("connections in a row" in e and repr(config.mqtt.client_id) in e for e in errors)


class TestAcknowledged:
    async def test_a_message_that_cannot_be_processed_is_acknowledged_not_delivered_again(
        self,
        start_engine: StartEngine,
        private_broker: PrivateBroker,
        prefix: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        apply = LiveSite.apply

        def apply_with_a_bug_for_the_street(self: LiveSite, obs: Observation, now: Any) -> Any:
            if obs.lot == "street":
                raise RuntimeError("a bug")
            return apply(self, obs, now)

        monkeypatch.setattr(LiveSite, "apply", apply_with_a_bug_for_the_street)
        config = mqtt_site(prefix, LOCAL, private_broker.port)
        topics = f"{prefix}/parking"
        first = await start_engine(config)
        await eventually(lambda: ready(first), 200)
        await publish(
            LOCAL,
            private_broker.port,
            (f"{topics}/hospital/status", b"{not json"),
            (f"{topics}/street/spots/S01", b"1"),
            (f"{topics}/tower/status", b'{"free": 42}'),
        )
        await eventually(lambda: counted(first, "lot", "applied"), 1)
        assert await counted(first, "lot", "bad_json") == 1
        assert await counted(first, "spot", "internal_error") == 1
        await first.close()  # the session stays on the broker, with anything not acknowledged

        second = await start_engine(config)
        await eventually(lambda: ready(second), 200)
        await publish(LOCAL, private_broker.port, (f"{topics}/tower/status", b'{"free": 41}'))
        await eventually(lambda: counted(second, "lot", "applied"), 1)
        assert await counted(second, "lot", "bad_json") == 0
        assert await counted(second, "spot", "internal_error") == 0


class TestBacklog:
    async def test_a_backlog_that_outlasts_the_operation_timeout_drains_without_reconnecting(
        self,
        start_engine: StartEngine,
        private_broker: PrivateBroker,
        prefix: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Resuming a session, the broker sends the backlog before the SUBACK (MQTT 5: up to 65,535)."""
        config = mqtt_site(prefix, LOCAL, private_broker.port)
        first = await start_engine(config)
        await eventually(lambda: ready(first), 200)
        await first.close()  # the session stays, and queues what follows

        count = 200
        spots = f"{prefix}/parking/street/spots"
        backlog = [(f"{spots}/S{n % 10 + 1:02d}", b'{"occupied": true, "seq": %d}' % n) for n in range(count)]
        await publish(LOCAL, private_broker.port, *backlog)
        apply = LiveSite.apply

        def slow_apply(self: LiveSite, obs: Observation, now: Any) -> Any:
            time.sleep(0.01)  # an engine slower than its backlog: 2 s for 200 messages
            return apply(self, obs, now)

        monkeypatch.setattr(LiveSite, "apply", slow_apply)
        monkeypatch.setattr(ingest, "OPERATION_TIMEOUT_S", 0.5)
        second = await start_engine(config)
        await eventually(lambda: counted(second, "spot", "applied"), count)
        assert second.app[INGEST].reconnects == 0
        assert await counted(second, "spot", "duplicate") == 0
        await eventually(lambda: ready(second), 200)


def session_client(
    port: int, client_id: str, got: list[bytes], fail_on: bytes | None = None
) -> SessionClient:
    """A persistent MQTT 3.1.1 session whose `deliver` records payloads, raising on `fail_on`."""
    client = SessionClient(
        LOCAL, port, identifier=client_id, protocol=aiomqtt.ProtocolVersion.V311, clean_session=False
    )

    def deliver(topic: str, payload: bytes, retain: bool) -> None:
        if payload == fail_on:
            raise RuntimeError("a bug in handling")
        got.append(payload)

    client.deliver = deliver
    return client


async def queue_backlog(port: int, client_id: str, topic: str, payloads: list[bytes]) -> None:
    """Make the session, leave, and publish `payloads` into it while nobody is connected."""
    async with session_client(port, client_id, []) as client:
        await client.subscribe(topic, qos=1)
    await publish(LOCAL, port, *((topic, payload) for payload in payloads))


class TestReadInBatches:
    """The reader parses what the socket holds, then hands the messages on and acknowledges each."""

    async def test_a_backlog_is_handed_on_whole_and_in_order(
        self, private_broker: PrivateBroker, prefix: str
    ) -> None:
        payloads = [b"%d" % n for n in range(500)]
        await queue_backlog(private_broker.port, f"{prefix}-reader", f"{prefix}/spots", payloads)
        got: list[bytes] = []
        async with session_client(private_broker.port, f"{prefix}-reader", got):
            await eventually(lambda: _length(got), len(payloads))
            await asyncio.sleep(0.2)  # time for the last PUBACKs to reach the broker
        assert got == payloads

        again: list[bytes] = []
        async with session_client(private_broker.port, f"{prefix}-reader", again):
            await asyncio.sleep(0.3)  # what the session still held would come now
        assert again == []  # every message was acknowledged, by its own packet id

    async def test_a_message_whose_handling_raises_is_not_acknowledged_and_comes_again(
        self, private_broker: PrivateBroker, prefix: str
    ) -> None:
        client_id, topic = f"{prefix}-failing", f"{prefix}/spots"
        first: list[bytes] = []
        async with session_client(private_broker.port, client_id, first, fail_on=b"bad") as failing:
            await failing.subscribe(topic, qos=1)
            await publish(LOCAL, private_broker.port, (topic, b"a"), (topic, b"bad"), (topic, b"c"))
            await eventually(lambda: _done(failing._disconnected), True)  # the reader asks for a reconnect
            await asyncio.sleep(0.3)  # time for any PUBACK paho queued to reach the broker
            with contextlib.suppress(RuntimeError):
                failing._disconnected.result()
        assert first[:1] == [b"a"]

        second: list[bytes] = []
        async with session_client(private_broker.port, client_id, second):
            await eventually(lambda: _has(second, b"bad"), True)
            await asyncio.sleep(0.2)  # anything else the session still holds
        assert b"a" not in second  # acknowledged once handled
        assert sorted(set(first) | set(second)) == [b"a", b"bad", b"c"]  # nothing acknowledged was lost


async def _length(items: list[bytes]) -> int:
    return len(items)


async def _has(items: list[bytes], item: bytes) -> bool:
    return item in items


async def _done(future: asyncio.Future[None]) -> bool:
    return future.done()


def paho_logging_to(name: str) -> tuple[paho.Client, logging.Logger]:
    """A paho client logging to the logger `name`, as aiomqtt sets it up."""
    client = paho.Client(CallbackAPIVersion.VERSION2)
    logger = logging.getLogger(name)
    client.enable_logger(logger)
    return client, logger


class TestPuback:
    def test_a_puback_is_the_packet_mqtt_defines_for_the_message_id(self) -> None:
        assert puback(0x1234) == bytes([0x40, 0x02, 0x12, 0x34])  # type 4, remaining length 2, packet id

    def test_it_is_the_packet_paho_queues_for_an_acknowledgement(self) -> None:
        client = paho.Client(CallbackAPIVersion.VERSION2)
        client._send_puback(513)
        assert client._out_packet[-1]["packet"] == puback(513)


class TestQuietDebug:
    def test_pahos_debug_lines_are_left_out_while_the_logger_does_not_show_debug(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        client, logger = paho_logging_to("test.paho.quiet")
        with caplog.at_level(logging.INFO, logger="test.paho.quiet"):
            quiet_debug_log(client, logger)
            client._easy_log(paho.MQTT_LOG_DEBUG, "Received PUBLISH %d", 1)
            client._easy_log(paho.MQTT_LOG_ERR, "failed to receive on socket: %s", "reset")
        assert [r.getMessage() for r in caplog.records] == ["failed to receive on socket: reset"]

    def test_with_the_logger_at_debug_they_are_logged_from_the_next_connection(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        client, logger = paho_logging_to("test.paho.loud")
        with caplog.at_level(logging.INFO, logger="test.paho.loud"):
            quiet_debug_log(client, logger)
        with caplog.at_level(logging.DEBUG, logger="test.paho.loud"):
            quiet_debug_log(client, logger)
            client._easy_log(paho.MQTT_LOG_DEBUG, "Received PUBLISH %d", 1)
        assert [r.getMessage() for r in caplog.records] == ["Received PUBLISH 1"]
