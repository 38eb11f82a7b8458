"""Persistent QoS 1 sessions, made with paho so a backlog can queue while nobody is connected."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.broker import Broker
from bench.errors import BenchError

QOS = 1
CONNECT_WAIT_S = 10.0


def new_client(client_id: str, *, clean_session: bool) -> mqtt.Client:
    """A paho MQTT 3.1.1 client (the protocol the engine speaks)."""
    return mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_session,
        protocol=mqtt.MQTTv311,
    )


def create_session(broker: Broker, client_id: str, filters: Sequence[str]) -> None:
    """Connect once with clean_session=False, subscribe at QoS 1, disconnect: the session stays."""
    client = new_client(client_id, clean_session=False)
    subscribed = threading.Event()
    client.on_subscribe = lambda *_args: subscribed.set()
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        _, mid = client.subscribe([(f, QOS) for f in filters])
        if mid is None or not subscribed.wait(CONNECT_WAIT_S):
            raise BenchError(f"no SUBACK for session {client_id}")
    finally:
        client.disconnect()
        client.loop_stop()
