"""The MQTT session of the ingest: CONNECT properties, what the broker announces, and takeovers.

MQTT 5 lets the engine refuse oversized messages before reading them: with the
CONNECT property Maximum Packet Size, the broker discards larger packets for this
client instead of sending them (Mosquitto logs "Dropping too large outgoing
PUBLISH"). MQTT 3.1.1 has no such property, so there a message as large as the
broker's own limit is read whole before the Dispatcher drops it as `oversized`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from parking.config.models import MqttConfig
from sensors.paho_adapter import aiomqtt_paho_client, end_connection, quiet_debug_log
from sensors.reader import BatchReader, Deliver

# Room beside the payload for the rest of a PUBLISH packet: fixed header, topic, packet id and
# properties. 64 KiB is more than any real topic; a message between max_payload_bytes and this
# still arrives and is counted `oversized`, a larger one never leaves the broker.
PACKET_HEADROOM_BYTES = 65_536
SESSION_TAKEN_OVER = 142  # MQTT 5 DISCONNECT reason code 0x8E
# Without reason code 142 (MQTT 3.1.1; Mosquitto before 2.0.15), a takeover shows as this pattern:
# the broker closes the connection within TAKEOVER_WINDOW_S of accepting it, TAKEOVER_REPEATS
# times in a row, as two clients with one id take the session from each other.
TAKEOVER_WINDOW_S = 10.0
TAKEOVER_REPEATS = 2
# CONNACK properties not worth a log line
_UNLOGGED = frozenset({"Authentication Data", "Authentication Method", "User Property"})
INVALID_TOPIC = "<not UTF-8>"  # what the dispatcher is given for a topic that does not decode


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

    It puts itself before four of the paho callbacks aiomqtt sets (paho's public callback
    properties), which run on the event loop; each records and then hands on to aiomqtt's.
    """

    # Called with (topic, payload, retain) for each message, on the event loop. Set, it replaces
    # aiomqtt's queue (and its Message and Topic per message, with the topic validated again though
    # the broker already did), and messages are acknowledged by hand: each PUBACK is queued only
    # after `deliver` returned for its message, so a message is acknowledged once handled. The
    # reader hands on the packets of one wake-up together, after reading them (sensors/reader.py).
    deliver: Deliver | None = None
    _reader: BatchReader | None = None  # this connection's, with `deliver`
    session_present: bool | None = None
    announced: dict[str, Any] | None = None  # the CONNACK's properties (MQTT 5), by their spec names
    disconnect_reason: int | None = None  # the reason code of a DISCONNECT the broker sent (MQTT 5)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._event_loop = asyncio.get_running_loop()  # the one aiomqtt takes, as it does
        client = aiomqtt_paho_client(self)
        self._aiomqtt_on_connect = _set(client.on_connect)
        self._aiomqtt_on_message = _set(client.on_message)
        self._aiomqtt_on_socket_open = _set(client.on_socket_open)
        self._aiomqtt_on_disconnect = _set(client.on_disconnect)
        client.on_connect = self._record_connack
        client.on_message = self._take_message
        client.on_socket_open = self._take_socket
        client.on_disconnect = self._record_disconnect

    def _record_connack(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None = None,
    ) -> None:
        """paho's on_connect: the CONNACK's session flag and properties kept, then aiomqtt's."""
        self.session_present = flags.session_present
        self.announced = announced(properties)
        self._aiomqtt_on_connect(client, userdata, flags, reason_code, properties)

    def _take_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        """paho's on_message: to `deliver` when it is set, else to aiomqtt's queue."""
        if self.deliver is None:
            self._aiomqtt_on_message(client, userdata, message)
        else:
            try:
                topic = message.topic
            except UnicodeDecodeError:  # a broker that does not check topics are UTF-8, as MQTT requires
                topic = INVALID_TOPIC  # matches no feed: counted as bad_topic, and acknowledged
            payload = message.payload
            if type(payload) is not bytes:
                payload = bytes(payload)
            held = (topic, payload, message.retain, message.mid, message.qos)
            reader = self._reader
            if reader is None:  # not connected through _take_socket (specs call this directly)
                self.deliver(topic, payload, message.retain)
            elif reader.held is not None:  # inside the reader: handed on when its batch is read
                reader.held.append(held)
            else:
                reader.hand_on_now(held)

    def _take_socket(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        """paho's on_socket_open: aiomqtt's, then a BatchReader for its reads when `deliver` is set."""
        self._aiomqtt_on_socket_open(client, userdata, sock)
        if client.logger is not None:  # aiomqtt always gives paho its logger
            quiet_debug_log(client, client.logger)
        if self.deliver is None:
            client.manual_ack_set(False)  # aiomqtt's queue: paho acknowledges
            self._reader = None
            return
        loop = self._event_loop
        reader = BatchReader(client, sock, loop, self.deliver, self._give_up)
        self._reader = reader
        # paho calls this from the thread that connects: after aiomqtt's add_reader, in order
        loop.call_soon_threadsafe(loop.add_reader, sock.fileno(), reader.read)

    def _give_up(self, exc: Exception) -> None:
        """The reader failed (a broken connection, `deliver` raised): end the connection, as aiomqtt would."""
        end_connection(self, exc)

    def _record_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None = None,
    ) -> None:
        """paho's on_disconnect: the reason code of a DISCONNECT from the broker kept, then aiomqtt's."""
        if flags.is_disconnect_packet_from_server:
            self.disconnect_reason = reason_code.value
        self._aiomqtt_on_disconnect(client, userdata, flags, reason_code, properties)


def _set(callback: Callable[..., None] | None) -> Callable[..., None]:
    """A callback aiomqtt set on its paho client (it sets all four it is asked for)."""
    if callback is None:
        raise RuntimeError("aiomqtt set no paho callback here: SessionClient cannot hand on to it")
    return callback


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


class TakeoverWatch:
    """Tells a session takeover (another client connecting with our client id) from other lost connections.

    Pure: it is told how long each connection lasted and what the broker said, and keeps count.
    """

    def __init__(self, window_s: float = TAKEOVER_WINDOW_S, repeats: int = TAKEOVER_REPEATS) -> None:
        self.window_s = window_s
        self.repeats = repeats
        self._short_in_a_row = 0

    def lost(self, lasted_s: float, reason_code: int | None) -> str | None:
        """After an accepted connection ended: the evidence that it was taken over, or None.

        `reason_code` is that of the broker's DISCONNECT, None if it sent none.
        """
        if reason_code == SESSION_TAKEN_OVER:
            self._short_in_a_row = 0
            return "the broker said so (DISCONNECT reason code 142, session taken over)"
        if reason_code is not None:  # the broker gave another reason
            self._short_in_a_row = 0
            return None
        self._short_in_a_row = self._short_in_a_row + 1 if lasted_s < self.window_s else 0
        if self._short_in_a_row < self.repeats:
            return None
        return (
            f"the broker closed {self._short_in_a_row} connections in a row within "
            f"{self.window_s:g} s of accepting them"
        )

    def failed(self) -> None:
        """A connection attempt failed before the broker accepted it: the run of short connections ends."""
        self._short_in_a_row = 0
