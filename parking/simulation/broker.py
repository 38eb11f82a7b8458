"""The embedded MQTT broker (amqtt) for `parking-guide demo` and tests: no external services needed."""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import Any

from amqtt.broker import Broker
from amqtt.errors import BrokerError

from parking.errors import MqttError
from sensors.net import free_port, port_is_free

logger = logging.getLogger(__name__)

# amqtt and the state machine library under it log every connection at INFO.
NOISY_LOGGERS = ("amqtt", "transitions")
# Plugins named in the config (amqtt 0.12): anonymous clients only; no $SYS topics, no packet logging.
BROKER_PLUGINS: dict[str, dict[str, Any]] = {
    "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
}


class _Broker(Broker):  # type: ignore[misc]  # amqtt ships no type information
    """amqtt's broker, remembering its client connections so that shutdown can drop them first.

    amqtt stops a client's reader by cancelling it inside asyncio.wait_for, and on
    Python 3.11 a cancellation that lands as a packet arrives is lost: shutdown then
    waits forever for a client that keeps publishing. A dropped connection ends the
    reader by itself.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.client_writers: set[asyncio.StreamWriter] = set()

    async def stream_connected(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, listener_name: str
    ) -> None:
        self.client_writers.add(writer)
        try:
            await super().stream_connected(reader, writer, listener_name)
        finally:
            self.client_writers.discard(writer)

    def drop_clients(self) -> None:
        for writer in list(self.client_writers):
            writer.transport.abort()


class EmbeddedBroker:
    """An in-process MQTT broker on host:port (port 0 picks a free one); use as an async context manager."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._broker: _Broker | None = None

    @property
    def port(self) -> int:
        """The port the broker listens on (known once started)."""
        if self._port is None:
            raise RuntimeError("the broker has not been started")
        return self._port

    @property
    def url(self) -> str:
        """The broker's address as an mqtt:// URL."""
        return f"mqtt://{self.host}:{self.port}"

    async def start(self) -> None:
        """Start listening; raise MqttError if the broker cannot start."""
        _quiet_amqtt_logging()
        port = self._requested_port or free_port(self.host)
        if not port_is_free(self.host, port):
            raise MqttError(f"embedded MQTT broker could not start: {self.host}:{port} is in use")
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{port}"}},
            "plugins": BROKER_PLUGINS,
        }
        broker = _Broker(config)
        try:
            await broker.start()
        except BrokerError as exc:
            raise MqttError(f"embedded MQTT broker could not start on {self.host}:{port}: {exc}") from exc
        self._broker, self._port = broker, port
        logger.info("embedded MQTT broker listening on %s", self.url)

    async def shutdown(self) -> None:
        """Drop every client connection and stop the broker."""
        broker, self._broker = self._broker, None
        if broker is not None:
            broker.drop_clients()
            await broker.shutdown()
            logger.info("embedded MQTT broker stopped")

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.shutdown()


def _quiet_amqtt_logging() -> None:
    """Raise amqtt's loggers to WARNING unless the application chose a level for them."""
    for name in NOISY_LOGGERS:
        noisy = logging.getLogger(name)
        if noisy.level == logging.NOTSET:
            noisy.setLevel(logging.WARNING)
