"""The MQTT session of the ingest: CONNECT properties, what the broker announces, and takeovers.

MQTT 5 lets the engine refuse oversized messages before reading them: with the
CONNECT property Maximum Packet Size, the broker discards larger packets for this
client instead of sending them (Mosquitto logs "Dropping too large outgoing
PUBLISH"). MQTT 3.1.1 has no such property, so there a message as large as the
broker's own limit is read whole before the Dispatcher drops it as `oversized`.
"""

from __future__ import annotations

import logging
from typing import Any

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.enums import LogLevel
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from parking.config.models import MqttConfig
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

    It overrides two of aiomqtt's paho callbacks, which run on the event loop; each
    records and then hands on to aiomqtt.
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

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        if self.deliver is None:
            super()._on_message(client, userdata, message)
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
            if reader is None:  # not connected through _on_socket_open (specs call this directly)
                self.deliver(topic, payload, message.retain)
            elif reader.held is not None:  # inside the reader: handed on when its batch is read
                reader.held.append(held)
            else:
                reader.hand_on_now(held)

    def _on_socket_open(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        """aiomqtt's reader, replaced by a BatchReader (sensors/reader.py) when `deliver` is set."""
        super()._on_socket_open(client, userdata, sock)
        quiet_debug(client, self._logger)
        if self.deliver is None:
            client.manual_ack_set(False)  # aiomqtt's queue: paho acknowledges
            self._reader = None
            return
        reader = BatchReader(client, sock, self._loop, self.deliver, self._give_up)
        self._reader = reader
        # paho calls this from the thread that connects: after aiomqtt's add_reader, in order
        self._loop.call_soon_threadsafe(self._loop.add_reader, sock.fileno(), reader.read)

    def _give_up(self, exc: Exception) -> None:
        """The reader failed (a broken connection, `deliver` raised): end the connection, as aiomqtt would."""
        if not self._disconnected.done():
            self._disconnected.set_exception(exc)

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


def quiet_debug(client: paho.Client, logger: logging.Logger) -> None:
    """Leave out paho's debug lines (two a message) unless `logger` shows DEBUG now.

    paho formats nothing for a level the logger does not show, but each line still costs a
    call of `Logger.log` with its arguments: about 1 us a message on a backlog. Asked on each
    connection, so a logger turned to DEBUG shows them from the next connection on.
    """
    if logger.isEnabledFor(logging.DEBUG):
        client.__dict__.pop("_easy_log", None)
        return
    log = paho.Client._easy_log

    def easy_log(level: LogLevel, fmt: str, *args: Any) -> None:
        if level != paho.MQTT_LOG_DEBUG:
            log(client, level, fmt, *args)

    client._easy_log = easy_log  # type: ignore[method-assign]


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
