"""MQTT ingest: a persistent QoS 1 session that turns feed messages into Observations.

One reconnect loop wraps `async with aiomqtt.Client(...)`, with jittered, capped
backoff; subscriptions are made again on every connect. It speaks MQTT 5, so that
the broker never sends a message too large to take (see sensors/session.py), and
MQTT 3.1.1 with a broker that refuses 5. A bad message is handed to the sink's
`reject` and never stops the loop.
"""

from __future__ import annotations

import asyncio
import logging
import math
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import aiomqtt
import paho.mqtt.client as paho

from parking.backoff import Backoff
from parking.config.models import FeedEntry, MqttConfig
from parking.errors import DecodeError
from parking.observations import GateEventObservation, Observation
from parking.types import ConnectionState
from sensors.backoff import login_refused, protocol_refused
from sensors.decoders import Decoder, decoder_for
from sensors.paho_properties import share_property_tables
from sensors.session import SessionClient, TakeoverWatch, announced_problems, connect_properties
from sensors.topics import TopicTemplate

logger = logging.getLogger(__name__)

QOS = 1
PROTOCOL_NAMES = {"mqttv5": "MQTT 5", "mqttv311": "MQTT 3.1.1"}
OPERATION_TIMEOUT_S = 10.0  # aiomqtt's default, for the CONNACK and a clean disconnect
RETAINED_EVENT_DETAIL = "a retained gate event; events are counted only when published live"
# Topics whose template matches are remembered: a site's sensors and more. Longer topics are
# matched every time, so a flood of distinct topics holds at most ~20 MB before it is dropped.
MATCH_CACHE_TOPICS = 32_768
MATCH_CACHE_TOPIC_CHARS = 256


class FeedSink(Protocol):
    """What the ingest hands its results to (the engine implements this)."""

    def observe(self, feed: str, obs: Observation) -> None:
        """A decoded observation."""

    def reject(self, feed: str, reason: str, topic: str, payload: bytes, detail: str) -> None:
        """A message that was dropped, with a stable reason label."""

    def connection_changed(self, state: ConnectionState) -> None:
        """The broker connection went up or down."""

    def session_taken_over(self) -> None:
        """Another client connected with our client id and took the session (or very likely did)."""


def templates_of(feeds: list[FeedEntry]) -> list[TopicTemplate]:
    """The configured topic templates, one per feed entry, in config order."""
    return [TopicTemplate(entry.format, entry.topic) for entry in feeds]


class Dispatcher:
    """Route a raw MQTT message to its decoder and the sink; pure, no I/O.

    The feeds are tried in config order and the first whose template matches the
    topic decodes the message; its format is the `feed` the sink is told.
    """

    def __init__(self, feeds: list[FeedEntry], sink: FeedSink, max_payload_bytes: int) -> None:
        self._routes: list[tuple[TopicTemplate, Decoder]] = [
            (TopicTemplate(entry.format, entry.topic), decoder_for(entry)) for entry in feeds
        ]
        self._sink = sink
        self._max_payload = max_payload_bytes
        # topic -> the routes whose template matches it, with their fields: a feed's topics
        # repeat, so each is matched against the templates once; bounded, as topics are not
        self._matched: dict[str, tuple[tuple[str, Decoder, dict[str, str]], ...]] = {}

    @property
    def subscriptions(self) -> list[str]:
        """The MQTT filters to subscribe to (each once, though several feeds may share one)."""
        return list(dict.fromkeys(template.subscription for template, _ in self._routes))

    def dispatch(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """Decode one message and hand the result (or the reason it was dropped) to the sink.

        `retain` is the delivery's MQTT retain flag: set when the broker replays the retained
        message of a topic on (re)subscribing. A retained gate event is dropped as
        `retained_event`, since it would be counted again on every reconnect; a retained
        state (spot, lot total, gate counters) is applied, since applying it twice is harmless.
        """
        unknown: tuple[str, DecodeError] | None = None
        matched = self._matched.get(topic)
        if matched is None:
            matched = self._match(topic)
        for feed, decode, fields in matched:
            if len(payload) > self._max_payload:
                self._sink.reject(feed, "oversized", topic, payload, f"{len(payload)} bytes")
                return
            try:
                obs = decode(fields, payload)
                if retain and isinstance(obs, GateEventObservation):
                    self._sink.reject(feed, "retained_event", topic, payload, RETAINED_EVENT_DETAIL)
                else:
                    self._sink.observe(feed, obs)
            except DecodeError as exc:
                if exc.reason == "unknown_device":
                    # LoRaWAN feeds may share a topic shape: a later one may have the device
                    unknown = unknown or (feed, exc)
                    continue
                self._sink.reject(feed, exc.reason, topic, payload, exc.detail)
            except Exception as exc:
                # A bug, not bad input: count and log it, and keep the session alive (raised
                # inside paho's callback it would drop the connection before the PUBACK, and
                # the broker would deliver the same message again on every reconnect).
                logger.exception("error handling a %s message on %r", feed, topic)
                self._sink.reject(feed, "internal_error", topic, payload, repr(exc))
            return
        if unknown is not None:
            self._sink.reject(unknown[0], "unknown_device", topic, payload, unknown[1].detail)
        else:
            self._sink.reject("unknown", "bad_topic", topic, payload, "matches no feed template")

    def _match(self, topic: str) -> tuple[tuple[str, Decoder, dict[str, str]], ...]:
        """The routes matching a topic, in config order, remembered for its next message."""
        matched = tuple(
            (template.feed, decode, fields)
            for template, decode in self._routes
            if (fields := template.match(topic)) is not None
        )
        if len(topic) <= MATCH_CACHE_TOPIC_CHARS:
            if len(self._matched) >= MATCH_CACHE_TOPICS:
                self._matched.clear()  # a flood of distinct topics costs re-matching, not memory
            self._matched[topic] = matched
        return matched

    @property
    def remembered_topics(self) -> int:
        """Topics whose matches are remembered now (at most MATCH_CACHE_TOPICS)."""
        return len(self._matched)


class MqttIngest:
    """Keeps one persistent MQTT session subscribed to the feeds, reconnecting as needed.

    With `mqtt.protocol: auto` it connects with MQTT 5 and, when the broker refuses 5,
    at once again with MQTT 3.1.1; the next reconnect tries 5 again.
    """

    def __init__(
        self,
        mqtt: MqttConfig,
        dispatcher: Dispatcher,
        sink: FeedSink,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = mqtt
        self._dispatcher = dispatcher
        self._sink = sink
        self._sleep = sleep  # tests pass one that records the delay and returns at once
        self._monotonic = monotonic
        self.backoff = Backoff(mqtt.reconnect_min_s, mqtt.reconnect_max_s)
        self.takeover_watch = TakeoverWatch()
        self.state = ConnectionState.DISCONNECTED
        self.protocol: str | None = None  # "mqttv5" or "mqttv311" while connected
        self.reconnects = 0
        self.takeovers = 0
        self._warned = False  # a routine connection failure was logged at WARNING since the last success
        self._warned_fallback = False
        self._announced: dict[str, Any] | None = None
        self._had_session = False
        share_property_tables()  # MQTT 5 PUBLISH properties without ~11 us of table building each

    def _new_client(self, v5: bool) -> SessionClient:
        cfg = self._config
        tls_context: ssl.SSLContext | None = None
        if cfg.tls.enabled:
            tls_context = ssl.create_default_context(cafile=cfg.tls.ca_file)
            if cfg.tls.cert_file:
                tls_context.load_cert_chain(cfg.tls.cert_file, cfg.tls.key_file)
            if cfg.tls.insecure:
                tls_context.check_hostname = False
                tls_context.verify_mode = ssl.CERT_NONE
        client = SessionClient(
            hostname=cfg.host,
            port=cfg.port,
            identifier=cfg.client_id,
            username=cfg.username or None,  # `${MQTT_USER:-}` gives "" when unset
            password=cfg.password or None,
            protocol=aiomqtt.ProtocolVersion.V5 if v5 else aiomqtt.ProtocolVersion.V311,
            # MQTT 5 has clean_start and a session expiry; 3.1.1 has clean_session (paho rejects a mix)
            clean_start=cfg.clean_start if v5 else paho.MQTT_CLEAN_START_FIRST_ONLY,
            clean_session=None if v5 else cfg.clean_start,
            properties=connect_properties(cfg) if v5 else None,
            keepalive=cfg.keepalive_s,
            timeout=OPERATION_TIMEOUT_S,
            tls_context=tls_context,
            tls_insecure=cfg.tls.insecure if cfg.tls.enabled else None,
        )
        client.deliver = self._dispatcher.dispatch  # applied before its PUBACK (SessionClient.deliver)
        return client

    def _set_state(self, state: ConnectionState) -> None:
        if state != self.state:
            self.state = state
            self._sink.connection_changed(state)

    async def run(self) -> None:
        """Connect, subscribe and consume until cancelled; reconnect with jittered backoff.

        A lost or failed connection is logged at WARNING the first time in a row, then at
        DEBUG. A refused login and a session taken over are logged at ERROR every time and
        retried only after reconnect_max_s: they need someone to fix the configuration, and
        retrying sooner cannot help (or, for a takeover, takes the session back only to lose it).
        """
        fall_back = False  # the broker refused MQTT 5 just now: this attempt speaks 3.1.1
        while True:
            protocol = self._config.protocol
            v5 = protocol == "mqttv5" or (protocol == "auto" and not fall_back)
            fall_back = False
            self._set_state(ConnectionState.CONNECTING)
            client = self._new_client(v5)
            connected_at: float | None = None
            try:
                async with client:
                    connected_at = self._monotonic()
                    await self._serve(client, v5)
                delay_s = self.backoff.next_delay()
            except aiomqtt.MqttError as exc:
                self.protocol = None
                self._set_state(ConnectionState.DISCONNECTED)
                self.reconnects += 1
                if v5 and protocol == "auto" and protocol_refused(exc):
                    self._log_fallback(exc)
                    fall_back = True
                    continue
                lasted_s = None if connected_at is None else self._monotonic() - connected_at
                delay_s = self._delay_after(exc, client, lasted_s, v5)
            await self._sleep(delay_s)

    async def _serve(self, client: SessionClient, v5: bool) -> None:
        """Subscribe, and consume until the connection ends, which raises MqttError.

        Messages are dispatched as they arrive (see SessionClient.deliver), so consuming is
        waiting for the connection to end. The SUBACKs are awaited alongside and without a
        timeout: resuming a session, the broker may send its whole backlog before them (as
        many messages as MQTT 5's Receive Maximum lets it, 65,535), however long that takes.
        """
        lost = asyncio.create_task(_until_lost(client), name="mqtt-until-lost")
        subscribing = asyncio.create_task(self._on_connected(client, v5), name="mqtt-subscribe")
        try:
            await asyncio.wait({lost, subscribing}, return_when=asyncio.FIRST_COMPLETED)
            if subscribing.done():
                subscribing.result()  # raises if subscribing failed
            await lost
        finally:
            for task in (subscribing, lost):
                task.cancel()
            await asyncio.gather(subscribing, lost, return_exceptions=True)

    async def _on_connected(self, client: SessionClient, v5: bool) -> None:
        """Subscribe to the feeds, then say so: the connection is up."""
        for topic in self._dispatcher.subscriptions:
            await client.subscribe(topic, qos=QOS, timeout=math.inf)
        self.protocol = "mqttv5" if v5 else "mqttv311"
        self._set_state(ConnectionState.CONNECTED)
        cfg = self._config
        logger.info(
            "connected to mqtt://%s:%d with %s (%s), subscribed to %s",
            cfg.host,
            cfg.port,
            PROTOCOL_NAMES[self.protocol],
            "session resumed" if client.session_present else "new session",
            ", ".join(self._dispatcher.subscriptions),
        )
        if v5:
            self._warned_fallback = False
            self._log_announced(client.announced or {})
        if self._had_session and not client.session_present and not cfg.clean_start:
            logger.warning(
                "mqtt broker %s:%d had no session for client id %r: messages published while the engine "
                "was away were not kept (the session expired, the broker restarted without persistence, "
                "or another client with this id started clean)",
                cfg.host,
                cfg.port,
                cfg.client_id,
            )
        self._had_session = True
        self.backoff.reset()
        self._warned = False

    def _delay_after(
        self, exc: aiomqtt.MqttError, client: SessionClient, lasted_s: float | None, v5: bool
    ) -> float:
        """Log a lost or failed connection as it deserves, and choose the delay before the next attempt."""
        if lasted_s is None:
            self.takeover_watch.failed()
            evidence = None
        else:
            evidence = self.takeover_watch.lost(lasted_s, client.disconnect_reason)
        if evidence is not None:
            self.takeovers += 1
            self._sink.session_taken_over()
            delay_s = self._longest_delay()
            self._log_takeover(evidence, delay_s)
        elif login_refused(exc):
            delay_s = self._longest_delay()
            self._log_refused(exc, delay_s)
        elif v5 and protocol_refused(exc):  # and mqtt.protocol is mqttv5: no fallback
            delay_s = self._longest_delay()
            logger.error(
                "mqtt broker %s:%d refused MQTT 5 (%s) and mqtt.protocol is mqttv5: set it to auto "
                "or mqttv311; retrying in %.1fs",
                self._config.host,
                self._config.port,
                exc,
                delay_s,
            )
        else:
            delay_s = self.backoff.next_delay()
            level = logging.DEBUG if self._warned else logging.WARNING
            self._warned = True
            logger.log(level, "mqtt connection lost (%s); retrying in %.1fs", exc, delay_s)
        return delay_s

    def _longest_delay(self) -> float:
        """For a failure that someone has to fix: retrying soon cannot help."""
        self._warned = False  # a routine failure after this one is news again
        return self.backoff.longest_delay()

    def _log_fallback(self, exc: aiomqtt.MqttError) -> None:
        level = logging.DEBUG if self._warned_fallback else logging.WARNING
        self._warned_fallback = True
        logger.log(
            level,
            "mqtt broker %s:%d does not speak MQTT 5 (%s); connecting with MQTT 3.1.1, where the engine "
            "cannot refuse oversized messages: a message up to the broker's own size limit is read whole "
            "before it is dropped. Set that limit on the broker (Mosquitto: message_size_limit; see "
            "docs/deployment.md), and mqtt.protocol: mqttv311 to skip the MQTT 5 attempt",
            self._config.host,
            self._config.port,
            exc,
        )

    def _log_announced(self, announced: dict[str, Any]) -> None:
        if announced == self._announced:
            logger.debug("mqtt broker announces the same as before: %s", announced)
            return
        self._announced = announced
        cfg = self._config
        text = ", ".join(f"{name} {value}" for name, value in announced.items())
        logger.info("mqtt broker %s:%d announces (CONNACK): %s", cfg.host, cfg.port, text or "no limits")
        for problem in announced_problems(announced, cfg):
            logger.warning("mqtt broker %s:%d: %s", cfg.host, cfg.port, problem)

    def _log_takeover(self, evidence: str, delay_s: float) -> None:
        cfg = self._config
        logger.error(
            "mqtt session taken over on %s:%d: %s. Another process is using client id %r: two engines "
            "with one config? Give each replica its own mqtt.client_id. Retrying in %.1fs",
            cfg.host,
            cfg.port,
            evidence,
            cfg.client_id,
            delay_s,
        )

    def _log_refused(self, exc: aiomqtt.MqttError, delay_s: float) -> None:
        cfg = self._config
        logger.error(
            "mqtt broker %s:%d refused the login (%s): check the username (%s), the password (%s) "
            "and the broker's ACL for client id %r; retrying in %.1fs",
            cfg.host,
            cfg.port,
            exc,
            repr(cfg.username) if cfg.username else "none set",
            "set" if cfg.password else "none set",
            cfg.client_id,
            delay_s,
        )


async def _until_lost(client: aiomqtt.Client) -> None:
    """Wait for the connection to end: iterating raises MqttError then (messages never queue here)."""
    async for _ in client.messages:
        pass
