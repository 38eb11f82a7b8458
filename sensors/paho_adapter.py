"""Every reach of the ingest into paho's and aiomqtt's private attributes, each behind a name.

Written for paho-mqtt 2.2 and aiomqtt 2.3-2.5 (the pins in pyproject.toml). Each function
says what private thing it touches and why no public API does the job. `REACHES` lists
them all; tests/test_paho_adapter.py checks that the installed versions still have each
one, of the kind expected, and that no other module of the engine touches these names.
Everything else the read path needs from the two libraries is public: paho's callback
properties (`on_connect`, `on_message`, `on_socket_open`, `on_disconnect`), `logger`,
`socket()`, `loop_read()`, `ack()` and `manual_ack_set()`.
"""

from __future__ import annotations

import asyncio
import logging
import types
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.enums import LogLevel

Recv = Callable[[int], bytes]


class Reach(NamedTuple):
    """One private attribute the adapter uses: where, its name, and what a real instance has there."""

    owner: str  # the class, by its import path
    name: str
    kind: type  # isinstance(getattr(instance, name), kind) on a freshly built instance
    params: tuple[str, ...] = ()  # a method's leading parameters after self, as the adapter passes them


REACHES: tuple[Reach, ...] = (
    Reach("paho.mqtt.client.Client", "_sock_recv", types.MethodType, ("bufsize",)),
    Reach("paho.mqtt.client.Client", "_packet_queue", types.MethodType, ("command", "packet", "mid", "qos")),
    Reach("paho.mqtt.client.Client", "_easy_log", types.MethodType, ("level", "fmt", "args")),
    Reach("aiomqtt.Client", "_client", paho.Client),
    Reach("aiomqtt.Client", "_disconnected", asyncio.Future),
)


def aiomqtt_paho_client(client: aiomqtt.Client) -> paho.Client:
    """The paho client inside an aiomqtt client (aiomqtt's `_client`).

    aiomqtt exposes no handle on it, and the ingest needs one to chain onto paho's callbacks
    (aiomqtt drops the CONNACK's flags and properties and the DISCONNECT's reason code) and
    to read the socket itself.
    """
    return client._client


def end_connection(client: aiomqtt.Client, exc: Exception) -> None:
    """End aiomqtt's connection with `exc`, as its own socket reader does when a read fails.

    Sets the exception on aiomqtt's `_disconnected` future (re-created on each connect, so it
    is looked up each time). No public call does this: `disconnect()` sends a DISCONNECT and
    ends the connection as a clean one, where a broken read must surface as an MqttError.
    """
    disconnected = client._disconnected
    if not disconnected.done():
        disconnected.set_exception(exc)


def pahos_socket_recv(client: paho.Client) -> Recv:
    """paho's own `_sock_recv` of `client`: one `recv` on its socket, TLS's want-read/write handled.

    paho reads each packet with several small reads through it; there is no public hook
    on how paho reads its socket.
    """
    return partial(paho.Client._sock_recv, client)


def replace_socket_recv(client: paho.Client, recv: Recv) -> None:
    """Make `client`'s packet parser read through `recv` instead of its socket (paho's `_sock_recv`).

    paho asks its socket for a packet's bytes one or a few at a time; reading what the
    socket holds at once and serving those reads from memory (sensors/readbuffer.py) is
    what makes a backlog cheap. paho has no public way to hand it a reader.
    """
    client._sock_recv = recv  # type: ignore[method-assign, assignment]


def queue_raw_packet(client: paho.Client, command: int, packet: bytes) -> None:
    """Queue `packet`, already encoded, to be written after paho's other outgoing packets (`_packet_queue`).

    The public `ack()` queues one PUBACK packet per message, one send() each; queuing a
    batch's PUBACKs as one packet sends them in one write, in paho's own order of writes.
    """
    client._packet_queue(command, packet, 0, 0)


def quiet_debug_log(client: paho.Client, logger: logging.Logger) -> None:
    """Leave out paho's debug lines (two a message) unless `logger` shows DEBUG now.

    Replaces, on this client only, paho's `_easy_log`, through which it sends every log line
    to `on_log` and its logger. paho formats nothing for a level the logger does not show,
    but each line still costs a call of `Logger.log` with its arguments: about 1 us a message
    on a backlog. A filtering logger given to the public `enable_logger` would still cost
    those calls. Asked on each connection, so a logger turned to DEBUG shows them from the
    next connection on.
    """
    if logger.isEnabledFor(logging.DEBUG):
        client.__dict__.pop("_easy_log", None)
        return
    log = paho.Client._easy_log

    def easy_log(level: LogLevel, fmt: str, *args: Any) -> None:
        if level != paho.MQTT_LOG_DEBUG:
            log(client, level, fmt, *args)

    client._easy_log = easy_log  # type: ignore[method-assign]
