"""MQTT ingest: a persistent QoS 1 session that turns feed messages into Observations.

One reconnect loop wraps `async with aiomqtt.Client(...)`, with jittered, capped
backoff; subscriptions are made again on every connect. A bad message is handed
to the sink's `reject` and never stops the loop.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import Protocol

import aiomqtt

from parking.config.models import FeedsConfig, MqttConfig
from parking.errors import DecodeError
from parking.observations import GateEventObservation, Observation
from parking.types import ConnectionState
from sensors.backoff import Backoff, login_refused
from sensors.decoders import DECODERS
from sensors.topics import TopicTemplate

logger = logging.getLogger(__name__)

QOS = 1
RETAINED_EVENT_DETAIL = "a retained gate event; events are counted only when published live"


class FeedSink(Protocol):
    """What the ingest hands its results to (the engine implements this)."""

    def observe(self, feed: str, obs: Observation) -> None:
        """A decoded observation."""

    def reject(self, feed: str, reason: str, topic: str, payload: bytes, detail: str) -> None:
        """A message that was dropped, with a stable reason label."""

    def connection_changed(self, state: ConnectionState) -> None:
        """The broker connection went up or down."""


def templates_of(feeds: FeedsConfig) -> list[TopicTemplate]:
    """The configured topic templates, one per enabled feed format."""
    out = []
    for feed in DECODERS:
        template = getattr(feeds, feed)
        if template is not None:
            out.append(TopicTemplate(feed, template))
    return out


class Dispatcher:
    """Route a raw MQTT message to its decoder and the sink; pure, no I/O."""

    def __init__(self, feeds: FeedsConfig, sink: FeedSink, max_payload_bytes: int) -> None:
        self._templates = templates_of(feeds)
        self._sink = sink
        self._max_payload = max_payload_bytes

    @property
    def subscriptions(self) -> list[str]:
        """The MQTT filters to subscribe to."""
        return [t.subscription for t in self._templates]

    def dispatch(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """Decode one message and hand the result (or the reason it was dropped) to the sink.

        `retain` is the delivery's MQTT retain flag: set when the broker replays the retained
        message of a topic on (re)subscribing. A retained gate event is dropped as
        `retained_event`, since it would be counted again on every reconnect; a retained
        state (spot, lot total, gate counters) is applied, since applying it twice is harmless.
        """
        for template in self._templates:
            fields = template.match(topic)
            if fields is None:
                continue
            feed = template.feed
            if len(payload) > self._max_payload:
                self._sink.reject(feed, "oversized", topic, payload, f"{len(payload)} bytes")
                return
            try:
                obs = DECODERS[feed](fields, payload)
                if retain and isinstance(obs, GateEventObservation):
                    self._sink.reject(feed, "retained_event", topic, payload, RETAINED_EVENT_DETAIL)
                else:
                    self._sink.observe(feed, obs)
            except DecodeError as exc:
                self._sink.reject(feed, exc.reason, topic, payload, exc.detail)
            except Exception as exc:
                # A bug, not bad input: count and log it, and keep the session alive (raised
                # inside paho's callback it would drop the connection before the PUBACK, and
                # the broker would deliver the same message again on every reconnect).
                logger.exception("error handling a %s message on %r", feed, topic)
                self._sink.reject(feed, "internal_error", topic, payload, repr(exc))
            return
        self._sink.reject("unknown", "bad_topic", topic, payload, "matches no feed template")


def direct_dispatch_queue(dispatcher: Dispatcher) -> type[asyncio.Queue[aiomqtt.Message]]:
    """An aiomqtt `queue_type` that dispatches each message as it arrives instead of queueing it.

    aiomqtt calls `put_nowait` from paho's on_message callback, on the event loop,
    and paho sends the QoS 1 PUBACK only after that callback returns: so a message
    is acknowledged only once it has been applied, and no task per message is made.
    """

    class DirectDispatch(asyncio.Queue[aiomqtt.Message]):
        def put_nowait(self, item: aiomqtt.Message) -> None:
            payload = item.payload
            if not isinstance(payload, bytes):
                payload = b"" if payload is None else str(payload).encode()
            dispatcher.dispatch(item.topic.value, payload, item.retain)

    return DirectDispatch


class MqttIngest:
    """Keeps one persistent MQTT session subscribed to the feeds, reconnecting as needed."""

    def __init__(
        self,
        mqtt: MqttConfig,
        dispatcher: Dispatcher,
        sink: FeedSink,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._config = mqtt
        self._dispatcher = dispatcher
        self._sink = sink
        self._sleep = sleep  # tests pass one that records the delay and returns at once
        self.backoff = Backoff(mqtt.reconnect_min_s, mqtt.reconnect_max_s)
        self.state = ConnectionState.DISCONNECTED
        self.reconnects = 0

    def _client(self) -> aiomqtt.Client:
        cfg = self._config
        tls_context: ssl.SSLContext | None = None
        if cfg.tls.enabled:
            tls_context = ssl.create_default_context(cafile=cfg.tls.ca_file)
            if cfg.tls.cert_file:
                tls_context.load_cert_chain(cfg.tls.cert_file, cfg.tls.key_file)
            if cfg.tls.insecure:
                tls_context.check_hostname = False
                tls_context.verify_mode = ssl.CERT_NONE
        return aiomqtt.Client(
            queue_type=direct_dispatch_queue(self._dispatcher),
            hostname=cfg.host,
            port=cfg.port,
            identifier=cfg.client_id,
            username=cfg.username or None,  # `${MQTT_USER:-}` gives "" when unset
            password=cfg.password or None,
            clean_session=cfg.clean_start,
            keepalive=cfg.keepalive_s,
            tls_context=tls_context,
            tls_insecure=cfg.tls.insecure if cfg.tls.enabled else None,
        )

    def _set_state(self, state: ConnectionState) -> None:
        if state != self.state:
            self.state = state
            self._sink.connection_changed(state)

    async def run(self) -> None:
        """Connect, subscribe and consume until cancelled; reconnect with jittered backoff.

        A lost or failed connection is logged at WARNING the first time in a row, then at
        DEBUG. A refused login is logged at ERROR every time and retried only after
        reconnect_max_s: it needs someone to fix the credentials, not a quick retry.
        """
        warned = False
        while True:
            self._set_state(ConnectionState.CONNECTING)
            try:
                async with self._client() as client:
                    for topic in self._dispatcher.subscriptions:
                        await client.subscribe(topic, qos=QOS)
                    self._set_state(ConnectionState.CONNECTED)
                    logger.info(
                        "connected to mqtt://%s:%d, subscribed to %s",
                        self._config.host,
                        self._config.port,
                        ", ".join(self._dispatcher.subscriptions),
                    )
                    self.backoff.reset()
                    warned = False
                    # Messages are dispatched as they arrive (see direct_dispatch_queue);
                    # iterating only waits for the connection to end, raising MqttError.
                    async for _ in client.messages:
                        pass
                delay_s = self.backoff.next_delay()
            except aiomqtt.MqttError as exc:
                self._set_state(ConnectionState.DISCONNECTED)
                self.reconnects += 1
                if login_refused(exc):
                    delay_s = self.backoff.longest_delay()
                    warned = False  # a routine failure after this one is news again
                    self._log_refused(exc, delay_s)
                else:
                    delay_s = self.backoff.next_delay()
                    level = logging.DEBUG if warned else logging.WARNING
                    warned = True
                    logger.log(level, "mqtt connection lost (%s); retrying in %.1fs", exc, delay_s)
            await self._sleep(delay_s)

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
