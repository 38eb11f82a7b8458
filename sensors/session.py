"""The MQTT session of the ingest: CONNECT properties, and what the broker announces.

MQTT 5 lets the engine refuse oversized messages before reading them: with the
CONNECT property Maximum Packet Size, the broker discards larger packets for this
client instead of sending them (Mosquitto logs "Dropping too large outgoing
PUBLISH"). MQTT 3.1.1 has no such property, so there a message as large as the
broker's own limit is read whole before the Dispatcher drops it as `oversized`.
"""

from __future__ import annotations

from typing import Any

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from parking.config.models import MqttConfig

# Room beside the payload for the rest of a PUBLISH packet: fixed header, topic, packet id and
# properties. 64 KiB is more than any real topic; a message between max_payload_bytes and this
# still arrives and is counted `oversized`, a larger one never leaves the broker.
PACKET_HEADROOM_BYTES = 65_536
# CONNACK properties not worth a log line
_UNLOGGED = frozenset({"Authentication Data", "Authentication Method", "User Property"})


def max_packet_bytes(max_payload_bytes: int) -> int:
    """The Maximum Packet Size the engine announces: the payload limit plus room for topic and properties."""
    return max_payload_bytes + PACKET_HEADROOM_BYTES


def connect_properties(mqtt: MqttConfig) -> Properties:
    """MQTT 5 CONNECT properties: the largest packet we take, how long the broker keeps our session."""
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]  # paho leaves it untyped
    properties.MaximumPacketSize = max_packet_bytes(mqtt.max_payload_bytes)
    properties.SessionExpiryInterval = mqtt.session_expiry_s
    return properties


class SessionClient(aiomqtt.Client):
    """aiomqtt's client, keeping what the broker said in its CONNACK and DISCONNECT (aiomqtt drops both).

    It overrides two of aiomqtt's paho callbacks, which run on the event loop; each
    records and then hands on to aiomqtt.
    """

    session_present: bool | None = None
    announced: dict[str, Any] | None = None  # the CONNACK's properties (MQTT 5), by their spec names
    disconnect_reason: int | None = None  # the reason code of a DISCONNECT the broker sent (MQTT 5)

    def _on_connect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None = None,
    ) -> None:
        self.session_present = flags.session_present
        self.announced = announced(properties)
        super()._on_connect(client, userdata, flags, reason_code, properties)

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None = None,
    ) -> None:
        if flags.is_disconnect_packet_from_server:
            self.disconnect_reason = reason_code.value
        super()._on_disconnect(client, userdata, flags, reason_code, properties)


def announced(properties: Properties | None) -> dict[str, Any]:
    """The properties a broker set in its CONNACK, by their names in the MQTT 5 spec."""
    if properties is None:
        return {}
    out: dict[str, Any] = {}
    for name in properties.names:
        value = getattr(properties, name.replace(" ", ""), None)
        if value is not None and name not in _UNLOGGED:
            out[name] = value
    return out


def announced_problems(announced: dict[str, Any], mqtt: MqttConfig) -> list[str]:
    """What in the broker's CONNACK works against the ingest, each said for the log."""
    problems = []
    if announced.get("Maximum QoS", 1) < 1:
        problems.append(
            "the broker grants QoS 0 only (Maximum QoS 0): messages can be lost on the way, "
            "and redelivery after an engine restart does not happen"
        )
    if announced.get("Wildcard Subscription Available", 1) == 0:
        problems.append(
            "the broker allows no wildcard subscriptions, and the feed subscriptions use '+' "
            "for each placeholder"
        )
    expiry_s = announced.get("Session Expiry Interval")
    if expiry_s is not None and expiry_s < mqtt.session_expiry_s:
        problems.append(
            f"the broker keeps this session only {expiry_s} s after a disconnect "
            f"(mqtt.session_expiry_s asks for {mqtt.session_expiry_s} s): messages published while "
            "the engine is away longer than that are lost"
        )
    return problems
