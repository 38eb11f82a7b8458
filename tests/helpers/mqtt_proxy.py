"""A TCP proxy in front of a real Mosquitto, playing two brokers that our Mosquitto 2.0.11 cannot:
one that speaks MQTT 3.1.1 only (it answers an MQTT 5 CONNECT with return code 1, as the 3.1.1
spec requires), and one that tells an MQTT 5 client its session was taken over (DISCONNECT with
reason code 142, which Mosquitto sends from 2.0.15 on).

Everything else passes through unchanged, so the client behind it talks to the real broker.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType

CONNACK_UNACCEPTABLE_PROTOCOL = bytes([0x20, 0x02, 0x00, 0x01])  # MQTT 3.1.1 CONNACK, return code 1
DISCONNECT_SESSION_TAKEN_OVER = bytes([0xE0, 0x02, 0x8E, 0x00])  # MQTT 5 DISCONNECT, reason 0x8E
MQTT5 = 5


async def read_packet(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One MQTT control packet: (its fixed header, its body)."""
    header = bytearray(await reader.readexactly(1))
    length, multiplier = 0, 1
    while True:
        byte = (await reader.readexactly(1))[0]
        header.append(byte)
        length += (byte & 0x7F) * multiplier
        multiplier *= 128
        if not byte & 0x80:
            break
    return bytes(header), await reader.readexactly(length)


class _Link:
    """One client connection and its connection to the broker, piped both ways."""

    def __init__(self, client: asyncio.StreamWriter, broker: asyncio.StreamWriter, protocol: int) -> None:
        self.client = client
        self.broker = broker
        self.protocol = protocol
        self.pipes: list[asyncio.Task[None]] = []

    async def close(self) -> None:
        for pipe in self.pipes:
            pipe.cancel()
        for pipe in self.pipes:
            with contextlib.suppress(asyncio.CancelledError):
                await pipe
        for writer in (self.client, self.broker):
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class MqttProxy:
    """Listens on 127.0.0.1:`port` and forwards to the broker on `broker_port`; an async context manager."""

    def __init__(self, broker_port: int, *, refuse_mqtt5: bool = False) -> None:
        self.broker_port = broker_port
        self.refuse_mqtt5 = refuse_mqtt5
        self.port = 0
        self.connects: list[int] = []  # the protocol level of every CONNECT seen
        self._links: list[_Link] = []
        self._handlers: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> MqttProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.close()
        for link in self._links:
            await link.close()
        for handler in list(self._handlers):
            handler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await handler
        if self._server is not None:
            await self._server.wait_closed()

    async def take_over(self) -> None:
        """Do what a broker does when another client connects with the same id: DISCONNECT 142, then close."""
        links, self._links = self._links, []
        for link in links:
            for pipe in link.pipes:
                pipe.cancel()
            if link.protocol == MQTT5:
                link.client.write(DISCONNECT_SESSION_TAKEN_OVER)
                with contextlib.suppress(OSError):
                    await link.client.drain()
            await link.close()

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.create_task(self._handle(reader, writer), name="mqtt-proxy-connection")
        self._handlers.add(handler)
        handler.add_done_callback(self._handlers.discard)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            header, body = await read_packet(reader)
        except asyncio.IncompleteReadError:
            writer.close()
            return
        protocol = body[6]  # after the protocol name: 0x00 0x04 "MQTT"
        self.connects.append(protocol)
        if self.refuse_mqtt5 and protocol == MQTT5:
            writer.write(CONNACK_UNACCEPTABLE_PROTOCOL)
            with contextlib.suppress(OSError):
                await writer.drain()
            writer.close()
            return
        broker_reader, broker_writer = await asyncio.open_connection("127.0.0.1", self.broker_port)
        broker_writer.write(header + body)
        link = _Link(writer, broker_writer, protocol)
        link.pipes = [
            asyncio.create_task(_pipe(reader, broker_writer), name="mqtt-proxy-up"),
            asyncio.create_task(_pipe(broker_reader, writer), name="mqtt-proxy-down"),
        ]
        self._links.append(link)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()
