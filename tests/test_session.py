"""The MQTT session's parts that need no broker: CONNECT properties, the CONNACK, takeover recognition."""

from __future__ import annotations

import paho.mqtt.client as paho
import pytest
from aiomqtt.exceptions import MqttCodeError, MqttConnectError
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from parking.config.models import MqttConfig
from sensors.backoff import protocol_refused
from sensors.paho_adapter import aiomqtt_paho_client
from sensors.session import (
    INVALID_TOPIC,
    PACKET_HEADROOM_BYTES,
    TAKEOVER_WINDOW_S,
    SessionClient,
    TakeoverWatch,
    announced,
    announced_problems,
    connect_properties,
    max_packet_bytes,
)


class TestConnectProperties:
    def test_the_broker_is_asked_for_no_packet_much_larger_than_the_payload_limit(self) -> None:
        properties = connect_properties(MqttConfig(max_payload_bytes=4096))
        assert properties.MaximumPacketSize == 4096 + PACKET_HEADROOM_BYTES == max_packet_bytes(4096)

    def test_the_packet_limit_stays_far_below_what_a_broker_forwards_by_default(self) -> None:
        largest_payload_limit = 1_048_576  # the most mqtt.max_payload_bytes allows
        assert max_packet_bytes(largest_payload_limit) < 2 * 1024 * 1024  # Mosquitto forwards up to 256 MB

    def test_the_session_outlives_the_connection_for_session_expiry_s(self) -> None:
        assert connect_properties(MqttConfig()).SessionExpiryInterval == 86_400
        assert connect_properties(MqttConfig(session_expiry_s=600)).SessionExpiryInterval == 600


def connack(**values: int) -> Properties:
    properties = Properties(PacketTypes.CONNACK)  # type: ignore[no-untyped-call]
    for name, value in values.items():
        setattr(properties, name, value)
    return properties


class TestAnnounced:
    def test_properties_are_named_as_in_the_spec(self) -> None:
        assert announced(connack(ReceiveMaximum=20, TopicAliasMaximum=10)) == {
            "Receive Maximum": 20,
            "Topic Alias Maximum": 10,
        }

    def test_an_mqtt_3_broker_announces_nothing(self) -> None:
        assert announced(None) == {}

    def test_what_mosquitto_announces_by_default_is_no_problem(self) -> None:
        assert announced_problems({"Receive Maximum": 20, "Topic Alias Maximum": 10}, MqttConfig()) == []

    @pytest.mark.parametrize(
        ("properties", "words"),
        [
            pytest.param({"Maximum QoS": 0}, "QoS 0 only", id="qos-0"),
            pytest.param({"Wildcard Subscription Available": 0}, "no wildcard", id="no-wildcards"),
            pytest.param({"Session Expiry Interval": 60}, "only 60 s", id="short-session"),
        ],
    )
    def test_a_limit_that_works_against_the_ingest_is_a_problem(
        self, properties: dict[str, int], words: str
    ) -> None:
        [problem] = announced_problems(properties, MqttConfig())
        assert words in problem

    def test_a_session_kept_as_long_as_asked_is_no_problem(self) -> None:
        assert announced_problems({"Session Expiry Interval": 86_400}, MqttConfig()) == []


class TestProtocolRefused:
    @pytest.mark.parametrize(
        "rc",
        [
            pytest.param(ReasonCode(PacketTypes.CONNACK, identifier=132), id="mqtt5-reason-132"),
            pytest.param(1, id="mqtt3-return-code-1"),
        ],
    )
    def test_an_unsupported_protocol_version_is_a_refusal(self, rc: ReasonCode | int) -> None:
        assert protocol_refused(MqttConnectError(rc))

    @pytest.mark.parametrize(
        "error",
        [
            pytest.param(
                MqttConnectError(ReasonCode(PacketTypes.CONNACK, identifier=135)), id="not-authorised"
            ),
            pytest.param(MqttConnectError(5), id="mqtt3-not-authorised"),
            pytest.param(MqttCodeError(132, "lost"), id="not-a-connack"),
        ],
    )
    def test_other_failures_are_not(self, error: Exception) -> None:
        assert not protocol_refused(error)


class TestTakeoverWatch:
    def test_the_brokers_reason_code_142_is_a_takeover_at_once(self) -> None:
        evidence = TakeoverWatch().lost(3600.0, 142)
        assert evidence is not None
        assert "142" in evidence

    def test_a_long_connection_that_ends_is_a_lost_connection(self) -> None:
        watch = TakeoverWatch()
        assert [watch.lost(3600.0, None) for _ in range(5)] == [None] * 5

    def test_short_connections_in_a_row_are_a_takeover_each_time(self) -> None:
        watch = TakeoverWatch()
        short_s = TAKEOVER_WINDOW_S / 10
        assert watch.lost(short_s, None) is None
        second = watch.lost(short_s, None)
        assert second is not None
        assert "2 connections in a row" in second
        assert watch.lost(short_s, None) is not None

    def test_a_long_connection_ends_the_run(self) -> None:
        watch = TakeoverWatch()
        assert watch.lost(1.0, None) is None
        assert watch.lost(TAKEOVER_WINDOW_S + 1, None) is None
        assert watch.lost(1.0, None) is None

    def test_a_failed_attempt_ends_the_run(self) -> None:
        """A broker that keeps restarting refuses connections in between; a session fight does not."""
        watch = TakeoverWatch()
        assert watch.lost(1.0, None) is None
        watch.failed()
        assert watch.lost(1.0, None) is None

    def test_another_reason_from_the_broker_is_not_a_takeover(self) -> None:
        watch = TakeoverWatch()
        assert watch.lost(1.0, None) is None
        assert watch.lost(1.0, 139) is None  # server shutting down
        assert watch.lost(1.0, None) is None


def received(client: SessionClient, message: paho.MQTTMessage) -> None:
    """`message` as paho hands it on, to the on_message callback set on its client."""
    paho_client = aiomqtt_paho_client(client)
    on_message = paho_client.on_message
    assert on_message is not None
    on_message(paho_client, None, message)  # type: ignore[call-arg]  # paho's union of callback signatures


class TestDeliver:
    """Messages go from paho straight to `deliver`, as (topic, payload, retain)."""

    def client(self) -> tuple[SessionClient, list[tuple[str, bytes, bool]]]:
        """A client that is never connected (aiomqtt builds it on a running loop)."""
        got: list[tuple[str, bytes, bool]] = []
        client = SessionClient(hostname="127.0.0.1")
        client.deliver = lambda topic, payload, retain: got.append((topic, payload, retain))
        return client, got

    async def test_a_message_is_handed_on_as_topic_payload_and_retain(self) -> None:
        client, got = self.client()
        message = paho.MQTTMessage(mid=1, topic=b"parking/p1/spots/a7")
        message.payload, message.retain = bytearray(b"1"), True
        received(client, message)
        assert got == [("parking/p1/spots/a7", b"1", True)]
        assert type(got[0][1]) is bytes

    async def test_a_topic_that_is_not_utf8_is_handed_on_as_one_no_feed_matches(self) -> None:
        client, got = self.client()
        message = paho.MQTTMessage(mid=1, topic=b"parking/\xff/status")
        message.payload = b'{"free": 1}'
        received(client, message)  # must not raise: paho would drop the session
        assert got == [(INVALID_TOPIC, b'{"free": 1}', False)]
