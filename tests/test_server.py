"""The web server as `parking-guide run` starts it, over real sockets on 127.0.0.1.

Deadlines are configured small; every wait below has a generous bound that is
not what is measured: a test fails because the server did (or did not) close a
connection, never because something took a few milliseconds too long.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from parking.app.factory import create_app
from parking.app.web.server import HttpServer, PortInUseError, connection_limit, parse_error_message, serve
from parking.config.models import HttpConfig
from tests.helpers.site import site_config

HOST = "127.0.0.1"
BOUND_S = 10.0  # far above every configured deadline here, far below the ones that must not fire
NEVER_S = 60.0  # a deadline the test must not reach
Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Net:
    """Servers of the test site and client connections to them; all closed when the test ends."""

    def __init__(self) -> None:
        self.servers: list[HttpServer] = []
        self.writers: list[asyncio.StreamWriter] = []

    async def serve(self, **http: Any) -> HttpServer:
        """The test site served with these `http:` settings on a free port."""
        config = site_config()
        config = config.model_copy(update={"http": HttpConfig(**http)})
        server = await serve(create_app(config, ingest=False), config.http, HOST, 0)
        self.servers.append(server)
        return server

    async def connect(self, server: HttpServer) -> Stream:
        """A new TCP connection to the server."""
        reader, writer = await asyncio.open_connection(HOST, server.port)
        self.writers.append(writer)
        return reader, writer

    async def close(self) -> None:
        for writer in self.writers:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        for server in self.servers:
            await server.close()


@pytest.fixture
async def net() -> AsyncIterator[Net]:
    harness = Net()
    yield harness
    await harness.close()


async def closed_by_server(stream: Stream) -> bool:
    """True once the server has closed the connection; False if it is still open after BOUND_S."""
    reader, _ = stream
    try:
        await asyncio.wait_for(reader.read(), BOUND_S)
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


async def get(stream: Stream, path: str) -> tuple[int, dict[str, str], bytes]:
    """One keep-alive GET on an open connection: status, headers (lower-case names), body."""
    reader, writer = stream
    writer.write(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    await writer.drain()
    return await read_response(reader)


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), BOUND_S)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in filter(None, lines):
        name, value = line.split(":", 1)
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body


async def wait_until(condition: Callable[[], bool]) -> None:
    """Poll a server-side condition (the server runs in this loop) for up to BOUND_S."""
    for _ in range(int(BOUND_S / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail("the server never got there")


@pytest.mark.slow
class TestDeadlines:
    async def test_a_connection_that_sends_nothing_is_closed_at_the_header_deadline(self, net: Net) -> None:
        server = await net.serve(header_timeout_s=0.2, keepalive_timeout_s=NEVER_S)
        assert await closed_by_server(await net.connect(server))

    async def test_a_slowloris_is_closed_at_the_header_deadline_however_steadily_it_trickles(
        self, net: Net
    ) -> None:
        server = await net.serve(header_timeout_s=0.5, keepalive_timeout_s=NEVER_S)
        reader, writer = await net.connect(server)
        trickle = b"GET /healthz HTTP/1.1\r\nHost: test\r\n" + b"X-Slow: 1\r\n" * 1000
        closed = False
        async with asyncio.timeout(BOUND_S * 2):
            for byte in trickle:  # one byte per 0.1 s: never idle for long, never finished
                try:
                    writer.write(bytes([byte]))
                    await writer.drain()
                    closed = await asyncio.wait_for(reader.read(1), 0.1) == b""
                except TimeoutError:
                    continue
                except ConnectionError:
                    closed = True
                if closed:
                    break
        assert closed, "the server kept reading headers past the deadline"

    async def test_the_deadline_does_not_apply_once_a_request_has_arrived(self, net: Net) -> None:
        server = await net.serve(header_timeout_s=0.2, keepalive_timeout_s=NEVER_S)
        stream = await net.connect(server)
        assert (await get(stream, "/healthz"))[0] == 200
        await asyncio.sleep(1.0)  # well past the header deadline
        assert (await get(stream, "/healthz"))[0] == 200

    async def test_an_idle_keep_alive_connection_is_closed_after_the_keepalive_timeout(
        self, net: Net
    ) -> None:
        server = await net.serve(header_timeout_s=NEVER_S, keepalive_timeout_s=0.3)
        stream = await net.connect(server)
        assert (await get(stream, "/healthz"))[0] == 200
        assert await closed_by_server(stream)


@pytest.mark.slow
class TestConnectionCap:
    async def test_beyond_the_cap_new_connections_are_closed_and_existing_ones_still_answer(
        self, net: Net
    ) -> None:
        server = await net.serve(max_connections=3, header_timeout_s=NEVER_S)
        streams = [await net.connect(server) for _ in range(3)]
        for stream in streams:
            assert (await get(stream, "/healthz"))[0] == 200
        assert await closed_by_server(await net.connect(server))
        assert server.site.connections.refused == 1
        assert (await get(streams[0], "/healthz"))[0] == 200

    async def test_at_the_cap_the_oldest_connection_without_a_request_makes_room(self, net: Net) -> None:
        server = await net.serve(max_connections=2, header_timeout_s=NEVER_S)
        connections = server.site.connections
        oldest = await net.connect(server)
        await wait_until(lambda: len(connections) == 1)
        await net.connect(server)
        await wait_until(lambda: len(connections) == 2)
        assert (await get(await net.connect(server), "/healthz"))[0] == 200
        assert await closed_by_server(oldest)
        assert (len(connections), connections.evicted, connections.refused) == (2, 1, 0)

    def test_the_cap_leaves_room_under_the_open_file_limit(self) -> None:
        assert connection_limit(4096, 65536) == 4096
        assert 0 < connection_limit(4096, 1024) < 1024
        assert connection_limit(4096, 100) == 1


MARKER = "s3cret-marker"


class TestResponses:
    @pytest.mark.parametrize(
        ("request_bytes", "message"),
        [
            (f"NOT A REQUEST LINE {MARKER}\r\n\r\n", "invalid method"),
            (f"GET /{MARKER} HTTQ/1.1\r\nHost: test\r\n\r\n", "malformed request line"),
            (f"GET /\x7f{MARKER} HTTP/1.1\r\nHost: test\r\n\r\n", "invalid request target"),
            (f"GET / HTTP/1.1\r\nHost: test\r\nno colon {MARKER}\r\n\r\n", "malformed HTTP request"),
            (f"GET / HTTP/1.1\r\nHost: test\r\nX-Long: {MARKER}{'a' * 9000}\r\n\r\n", "too long"),
        ],
    )
    async def test_an_unparseable_request_is_a_json_400_that_does_not_quote_it(
        self, net: Net, request_bytes: str, message: str
    ) -> None:
        server = await net.serve()
        reader, writer = await net.connect(server)
        writer.write(request_bytes.encode())
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), BOUND_S)
        assert MARKER.encode() not in raw
        head, body = raw.split(b"\r\n\r\n", 1)
        assert head.split()[1] == b"400"
        assert b"Content-Type: application/json" in head
        error = json.loads(body)["error"]
        assert error["code"] == "bad_request"
        assert message in error["message"]

    async def test_every_response_names_the_server_without_a_version_and_forbids_sniffing(
        self, net: Net
    ) -> None:
        server = await net.serve()
        stream = await net.connect(server)
        for path, status in [("/healthz", 200), ("/api/v1/lots/nope", 404), ("/nothing", 404)]:
            answer, headers, _ = await get(stream, path)
            assert answer == status
            assert headers["server"] == "parking-guide"
            assert headers["x-content-type-options"] == "nosniff"
        reader, writer = await net.connect(server)
        writer.write(b"NOT HTTP\r\n\r\n")
        status, headers, _ = await read_response(reader)
        assert (status, headers["server"], headers["x-content-type-options"]) == (
            400,
            "parking-guide",
            "nosniff",
        )

    def test_an_error_the_parser_has_no_label_for_is_still_named_without_its_bytes(self) -> None:
        assert parse_error_message(ValueError(MARKER)) == "malformed HTTP request"
        assert parse_error_message(None) == "malformed HTTP request"


async def test_a_taken_port_falls_back_to_a_free_one_for_the_demo(net: Net) -> None:
    first = await net.serve()
    config = site_config()
    second = await serve(create_app(config, ingest=False), config.http, HOST, first.port, fallback=True)
    net.servers.append(second)
    assert second.port != first.port
    assert (await get(await net.connect(second), "/healthz"))[0] == 200


async def test_a_taken_port_is_an_error_otherwise(net: Net) -> None:
    first = await net.serve()
    config = site_config()
    with pytest.raises(PortInUseError, match="is in use: is another engine running"):
        await serve(create_app(config, ingest=False), config.http, HOST, first.port)
