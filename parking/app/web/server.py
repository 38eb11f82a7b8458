"""The HTTP server: a header deadline, a keep-alive timeout and a cap on open connections.

aiohttp's own TCPSite keeps a connection that never sends a request for as long
as its keep-alive timeout (an hour by default), accepts until the process runs
out of file descriptors, and answers a request it cannot parse with text that
quotes the request. `GuardedSite` serves the same runner with:

- a header deadline: a new connection must send a complete request line and
  headers within `http.header_timeout_s` of opening, however it trickles them;
- `http.keepalive_timeout_s` between requests (aiohttp's keep-alive timer,
  which does not restart on partial data, so it also bounds the headers of
  every later request on the connection);
- at most `http.max_connections` open: at the cap, the oldest connection that
  has not sent a request yet is closed to make room, and if every open one has,
  the new connection is closed at once;
- JSON 400s for unparseable requests, naming the problem but never quoting it.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http import RawRequestMessage
from aiohttp.http_exceptions import (
    BadHttpMethod,
    BadStatusLine,
    InvalidHeader,
    InvalidURLError,
    LineTooLong,
    PayloadEncodingError,
)
from aiohttp.streams import StreamReader

from parking.app.web.headers import STANDARD_HEADERS
from parking.app.web.observe import json_error
from parking.config.models import HttpConfig
from parking.errors import ParkingGuideError

logger = logging.getLogger(__name__)

BACKLOG = 128
# Descriptors kept free beside the connections: the listening socket, the MQTT
# connection, the event loop's own, log files; plus one accept batch (asyncio
# accepts up to `backlog` connections before it creates any protocol).
FD_RESERVE = 64 + BACKLOG
CAP_WARNING_INTERVAL_S = 60.0

_PARSE_ERRORS: list[tuple[type[Exception], str]] = [
    (LineTooLong, "request line or header too long"),
    (InvalidHeader, "invalid header"),
    (BadHttpMethod, "invalid method"),
    (BadStatusLine, "malformed request line"),
    (InvalidURLError, "invalid request target"),
    (PayloadEncodingError, "invalid message body framing"),
]

RequestFactory = Callable[
    [RawRequestMessage, StreamReader, web.RequestHandler, AbstractStreamWriter, "asyncio.Task[None]"],
    web.BaseRequest,
]


def parse_error_message(exc: BaseException | None) -> str:
    """What was wrong with an unparseable request, without any of its bytes."""
    for kind, message in _PARSE_ERRORS:
        if isinstance(exc, kind):
            return message
    return "malformed HTTP request"


class Connections:
    """A site's open connections, and which of them have not sent a request yet (oldest first)."""

    def __init__(self, limit: int, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.evicted = 0
        self.refused = 0
        self._open: set[GuardedRequestHandler] = set()
        self._silent: dict[GuardedRequestHandler, None] = {}  # insertion order: oldest first
        self._monotonic = monotonic
        self._warned_at: float | None = None

    def __len__(self) -> int:
        return len(self._open)

    def admit(self) -> bool:
        """Room for one more? At the cap, close the oldest silent connections to make it."""
        if len(self._open) < self.limit:
            return True
        while len(self._open) >= self.limit and self._silent:
            oldest = next(iter(self._silent))
            self.closed(oldest)
            oldest.force_close()
            self.evicted += 1
        admitted = len(self._open) < self.limit
        if not admitted:
            self.refused += 1
        self._warn_at_cap()
        return admitted

    def opened(self, handler: GuardedRequestHandler) -> None:
        """A connection was made; it has not sent a request yet."""
        self._open.add(handler)
        self._silent[handler] = None

    def started(self, handler: GuardedRequestHandler) -> None:
        """The connection sent a complete request line and headers."""
        self._silent.pop(handler, None)

    def closed(self, handler: GuardedRequestHandler) -> None:
        """The connection is gone (or about to be)."""
        self._open.discard(handler)
        self._silent.pop(handler, None)

    def _warn_at_cap(self) -> None:
        now = self._monotonic()
        if self._warned_at is not None and now - self._warned_at < CAP_WARNING_INTERVAL_S:
            return
        self._warned_at = now
        logger.warning(
            "at the connection limit (http.max_connections: %d): closing the oldest connections that have "
            "not sent a request, else refusing new ones; %d closed and %d refused so far",
            self.limit,
            self.evicted,
            self.refused,
        )


class GuardedRequestHandler(web.RequestHandler):
    """aiohttp's protocol, with a header deadline and JSON answers to requests it cannot parse."""

    def __init__(
        self,
        manager: web.Server,
        *,
        loop: asyncio.AbstractEventLoop,
        connections: Connections,
        header_timeout_s: float,
        logged_errors: set[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(manager, loop=loop, **kwargs)
        self._event_loop = loop
        self._connections = connections
        self._header_timeout_s = header_timeout_s
        self._header_deadline: asyncio.TimerHandle | None = None
        self._logged_errors = logged_errors

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Count the connection and start its header deadline."""
        super().connection_made(transport)
        self._connections.opened(self)
        self._header_deadline = self._event_loop.call_later(self._header_timeout_s, self._header_timed_out)

    def request_started(self) -> None:
        """A complete request line and headers arrived: the deadline is met."""
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None
        self._connections.started(self)

    def connection_lost(self, exc: BaseException | None) -> None:
        """Stop the deadline and uncount the connection."""
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None
        self._connections.closed(self)
        super().connection_lost(exc)

    def _header_timed_out(self) -> None:
        self._header_deadline = None
        logger.debug("closing a connection with no complete request after %g s", self._header_timeout_s)
        self._connections.closed(self)
        self.force_close()

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """A JSON answer to a request that failed before any route handled it; closes the connection."""
        if status >= 500:
            logger.error("error handling %s %s", request.method, request.path, exc_info=exc)
            text = "internal error"
        else:
            text = parse_error_message(exc)
            kind = type(exc).__name__
            level = logging.DEBUG if kind in self._logged_errors else logging.WARNING
            self._logged_errors.add(kind)
            logger.log(level, "unparseable request from %s (%s): %s", request.remote, kind, text)
        if request.writer.output_size > 0:
            raise ConnectionError("a response was already sent; cannot send the error")
        response = json_error(status, text)
        response.headers.update(STANDARD_HEADERS)
        response.force_close()
        return response


class _Refused(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.close()


class _AnnounceRequestStarts:
    """aiohttp calls the request factory once a request's headers are parsed: tell the protocol."""

    def __init__(self, factory: RequestFactory) -> None:
        self._factory = factory

    def __call__(
        self,
        message: RawRequestMessage,
        payload: StreamReader,
        protocol: web.RequestHandler,
        writer: AbstractStreamWriter,
        task: asyncio.Task[None],
    ) -> web.BaseRequest:
        if isinstance(protocol, GuardedRequestHandler):
            protocol.request_started()
        return self._factory(message, payload, protocol, writer, task)


class GuardedSite(web.BaseSite):
    """A TCP site whose connections have a header deadline, a keep-alive timeout and a cap."""

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        http: HttpConfig,
        limit: int,
        sock: socket.socket | None = None,
    ) -> None:
        super().__init__(runner, backlog=BACKLOG)
        self._sock = sock  # a listening socket claimed before start-up (claim_port), else bind host:port
        self._app_runner = runner
        self._host = host
        self._port = port
        self._http = http
        self.connections = Connections(limit)
        self._logged_errors: set[str] = set()
        self._listener: asyncio.Server | None = None

    @property
    def name(self) -> str:
        """The site's URL."""
        return f"http://{self._host}:{self.port}"

    @property
    def port(self) -> int:
        """The bound port once started (the asked-for one before)."""
        if self._listener is not None and self._listener.sockets:
            return int(self._listener.sockets[0].getsockname()[1])
        return self._port

    async def start(self) -> None:
        """Listen."""
        await super().start()
        server = self._app_runner.server
        assert server is not None
        if not isinstance(server.request_factory, _AnnounceRequestStarts):
            server.request_factory = _AnnounceRequestStarts(server.request_factory)
        loop = asyncio.get_running_loop()

        def factory() -> asyncio.Protocol:
            return self._protocol(server, loop)

        if self._sock is not None:
            listener = await loop.create_server(factory, sock=self._sock, backlog=BACKLOG)
        else:
            listener = await loop.create_server(factory, self._host, self._port, backlog=BACKLOG)
        self._server = self._listener = listener

    def _protocol(self, server: web.Server, loop: asyncio.AbstractEventLoop) -> asyncio.Protocol:
        if not self.connections.admit():
            return _Refused()
        return GuardedRequestHandler(
            server,
            loop=loop,
            connections=self.connections,
            header_timeout_s=self._http.header_timeout_s,
            logged_errors=self._logged_errors,
            keepalive_timeout=self._http.keepalive_timeout_s,
            access_log=None,
        )


@dataclass(frozen=True)
class HttpServer:
    """A started web server: its runner, its site and the port it listens on."""

    runner: web.AppRunner
    site: GuardedSite
    port: int

    async def close(self) -> None:
        """Stop listening, drain the connections, run the app's cleanup."""
        await self.runner.cleanup()


def connection_limit(configured: int, open_files: int) -> int:
    """`configured`, or less if the open-file limit leaves no room for it."""
    if open_files == resource.RLIM_INFINITY:
        return configured
    return max(1, min(configured, open_files - FD_RESERVE))


class PortInUseError(ParkingGuideError):
    """The HTTP port is taken: most likely another engine with the same config is running."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            f"http port {host}:{port} is in use: is another engine running with this config? "
            "Two engines with one config would also share one MQTT client id and take each other's "
            "session, splitting the feed. Stop the other one, or give this one its own http.port "
            "and mqtt.client_id."
        )


def claim_port(host: str, port: int) -> socket.socket:
    """For `run`: bind and listen on the HTTP port before anything that can wait (MQTT, the database).

    The port is the engine's identity: while one engine holds it, a second one
    with the same config stops here (PortInUseError) instead of waiting for a
    database and then taking the first one's MQTT session. Connections made
    before the app has started wait in the backlog. The caller passes the
    socket to `serve`, or closes it.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's create_server does
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(host, port) from exc
        raise
    sock.setblocking(False)
    return sock


async def serve(
    app: web.Application,
    http: HttpConfig,
    host: str,
    port: int,
    *,
    fallback: bool = False,
    sock: socket.socket | None = None,
) -> HttpServer:
    """Start the app on host:port (or on `sock`, claimed by `claim_port`); the caller closes it.

    A taken port is an error (PortInUseError), or with `fallback` (the demo) a
    warning and a free port instead.
    """
    open_files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    limit = connection_limit(http.max_connections, open_files)
    if limit < http.max_connections:
        logger.warning(
            "http.max_connections is %d, but the open-file limit (%d) leaves room for %d; using %d",
            http.max_connections,
            open_files,
            limit,
            limit,
        )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = GuardedSite(runner, host, port, http, limit, sock)
        try:
            await site.start()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or port == 0:
                raise
            if not fallback:
                raise PortInUseError(host, port) from exc
            logger.warning("port %d is in use; using a free port instead", port)
            await site.stop()
            site = GuardedSite(runner, host, 0, http, limit)
            await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    logger.info(
        "http: at most %d connections; header timeout %g s, keep-alive %g s",
        limit,
        http.header_timeout_s,
        http.keepalive_timeout_s,
    )
    return HttpServer(runner, site, site.port)
