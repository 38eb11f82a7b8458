"""The ingest's reader of one MQTT connection: what the socket holds, parsed by paho, then handed on.

paho reads one packet per `loop_read()`; aiomqtt calls it once per wake-up of the
event loop, so every message would cost a loop turn. `BatchReader.read` reads what
the socket holds, up to `READ_BATCH` packets, and only then hands their messages to
`deliver`, in order: parsing a packet and applying its message in turn costs each
more than doing each in runs (bench/README.md, "Reading in batches"). Each message is
acknowledged after `deliver` returned for it (paho's manual acks), and the batch's
PUBACKs go out as one write.
"""

from __future__ import annotations

import asyncio
import select
import struct
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho

from sensors.paho_adapter import pahos_socket_recv, queue_raw_packet, replace_socket_recv
from sensors.readbuffer import ReadBuffer

# Packets read per wake-up while the socket has more: one loop turn per message (epoll, the
# writer added and removed for its PUBACK) cost more than handling the message, and between
# batches the loop runs its other work (the store's writer, the HTTP server).
READ_BATCH = 64

Deliver = Callable[[str, bytes, bool], None]  # (topic, payload, retain)
Held = tuple[str, bytes, bool, int, int]  # a message read, not yet handed on: + packet id, QoS


def puback(mid: int) -> bytes:
    """The PUBACK of a QoS 1 message, as paho writes it (MQTT 3.1.1 and 5: no reason code is success)."""
    return struct.pack("!BBH", paho.PUBACK, 2, mid)


class BatchReader:
    """Reads one connection's socket in batches and hands on what it read; `read` is its reader callback.

    While `read` runs, `held` collects the messages paho parses (the client's on_message
    appends them); outside it, `held` is None and a message is handed on at once.
    """

    def __init__(
        self,
        client: paho.Client,
        sock: Any,
        loop: asyncio.AbstractEventLoop,
        deliver: Deliver,
        failed: Callable[[Exception], None],
    ) -> None:
        self.held: list[Held] | None = None
        self._paho = client
        self._loop = loop
        self._deliver = deliver
        self._failed = failed  # a broken connection, or `deliver` raised: the connection is given up
        self._ready = select.poll()
        self._ready.register(sock.fileno(), select.POLLIN)
        self._again: asyncio.Handle | None = None  # the one read scheduled for bytes read already
        self._buffer = ReadBuffer(pahos_socket_recv(client))
        replace_socket_recv(client, self._buffer.recv)  # this connection's reads
        client.manual_ack_set(True)

    def hand_on_now(self, message: Held) -> None:
        """A message paho parsed outside `read` (before it took over the socket): handled at once."""
        self._hand_on([message])

    def read(self) -> None:
        """Read and parse up to READ_BATCH packets, then hand their messages on and acknowledge them."""
        held: list[Held] = []
        self.held = held
        try:
            try:
                self._read_batch()
            finally:
                self.held = None
                self._hand_on(held)
        except Exception as exc:
            self._failed(exc)

    def _read_batch(self) -> None:
        client, ready = self._paho, self._ready
        for _ in range(READ_BATCH):
            if client.loop_read() != paho.MQTT_ERR_SUCCESS:
                return  # the connection is gone: paho has called on_disconnect
            if not self._unread() and not ready.poll(0):
                return
        # The reader is called again while the socket has bytes; for bytes read already, one
        # read is scheduled (one at most: one each time would pile up on a backlog).
        if self._again is None and self._unread() and not ready.poll(0):
            self._again = self._loop.call_soon(self._read_again)

    def _read_again(self) -> None:
        self._again = None
        self.read()

    def _unread(self) -> bool:
        """Bytes read from the socket but not yet parsed: the socket's readiness does not show them."""
        pending = getattr(self._paho.socket(), "pending", None)  # TLS: decrypted, not yet taken
        return self._buffer.holds() or (pending is not None and pending() > 0)

    def _hand_on(self, held: list[Held]) -> None:
        """Deliver each message, then acknowledge it; the PUBACKs of QoS 1 go out in one write."""
        acks = bytearray()
        try:
            for topic, payload, retain, mid, qos in held:
                self._deliver(topic, payload, retain)  # if it raises, neither it nor the rest is acknowledged
                if qos == 1:
                    acks += puback(mid)
                else:
                    self._paho.ack(mid, qos)
        finally:
            if acks:  # paho's own PUBACK packets, queued as one: one send() instead of one each
                queue_raw_packet(self._paho, paho.PUBACK, bytes(acks))
