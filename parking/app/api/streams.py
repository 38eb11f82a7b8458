"""Server-sent events: a board's view pushed on every change that affects it.

Driven by the live site's change signal, not by polling it: a stream sleeps
until the version moves, then sends only if its board's answer changed. Each
event carries `id:` (the board version, derived from its lines), so a client
that reconnects with Last-Event-ID gets nothing it has already seen. A comment
line whenever nothing was written for KEEPALIVE_S keeps proxies from closing an
idle stream (changes that do not alter the board do not count as writes) and
finds a client that went away: its write fails and the handler returns. On
shutdown every stream ends cleanly.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from parking.app.api.boards import RenderedBoard
from parking.app.keys import BOARDS, CLOCK, CONFIG, GUIDANCE, SEEN, SIGNAL
from parking.app.web.headers import STANDARD_HEADERS
from parking.app.web.observe import add_routes, json_error
from parking.config.models import HttpConfig

logger = logging.getLogger(__name__)

KEEPALIVE_S = 15.0
RETRY_MS = 3000
BUSY_RETRY_AFTER_S = 30  # a stream refused at its cap: try again in this long (a board can poll meanwhile)

routes = web.RouteTableDef()


class StreamBudget:
    """The event streams open now, per board and per client address, within http.max_streams*.

    Streams hold a connection each for as long as they last, so they get their own
    budget: at most half of http.max_connections in all, so polls and /healthz are
    always served when streams are at their cap.
    """

    def __init__(self, http: HttpConfig) -> None:
        self.limit = max(1, min(http.max_streams, http.max_connections // 2))
        self.per_board = http.max_streams_per_board
        self.per_client = http.max_streams_per_client
        self.open = 0
        self._boards: dict[str, int] = {}
        self._clients: dict[str, int] = {}

    def refusal(self, board: str, client: str) -> str | None:
        """Why a new stream of `board` for `client` would be over a cap; None if it fits."""
        if self.open >= self.limit:
            return f"at most {self.limit} event streams are open at once"
        if self._boards.get(board, 0) >= self.per_board:
            return f"at most {self.per_board} event streams are open at once on one board"
        if self._clients.get(client, 0) >= self.per_client:
            return f"at most {self.per_client} event streams are open at once from one address"
        return None

    def opened(self, board: str, client: str) -> None:
        """A stream started."""
        self.open += 1
        self._boards[board] = self._boards.get(board, 0) + 1
        self._clients[client] = self._clients.get(client, 0) + 1

    def closed(self, board: str, client: str) -> None:
        """A stream ended."""
        self.open -= 1
        for counts, key in ((self._boards, board), (self._clients, client)):
            counts[key] -= 1
            if not counts[key]:
                del counts[key]


STREAMS = web.AppKey("board_streams", StreamBudget)


def event(rendered: RenderedBoard) -> tuple[str, bytes]:
    """The event id and the bytes of one `board` event."""
    return str(rendered.version), rendered.event


@routes.get("/api/v1/boards/{board_id}/stream", name="board_stream")
async def board_stream(request: web.Request) -> web.StreamResponse:
    """text/event-stream of a board's view: now (unless Last-Event-ID has it), then on every change."""
    app = request.app
    board_id = request.match_info["board_id"]
    if not app[GUIDANCE].has_board(board_id):
        return json_error(404, f"no board {board_id[:64]!r}")
    budget, client = app[STREAMS], str(request.remote)
    refusal = budget.refusal(board_id, client)
    if refusal is not None:
        message = f"{refusal}; poll /api/v1/boards/{board_id} meanwhile"
        return json_error(503, message, {"Retry-After": str(BUSY_RETRY_AFTER_S)})
    budget.opened(board_id, client)
    try:
        return await _stream(request, board_id)
    finally:
        budget.closed(board_id, client)


async def _stream(request: web.Request, board_id: str) -> web.StreamResponse:
    app = request.app
    boards, signal, seen, clock = app[BOARDS], app[SIGNAL], app[SEEN], app[CLOCK]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",  # nginx: do not buffer the stream
            **STANDARD_HEADERS,
        }
    )
    await response.prepare(request)
    seen.touch(board_id, clock())
    await response.write(f"retry: {RETRY_MS}\n\n".encode())
    version = signal.version
    last_id = request.headers.get("Last-Event-ID", "")[:64]
    event_id, data = event(boards.get(board_id))
    if event_id != last_id:
        await response.write(data)
    last_id = event_id
    loop = asyncio.get_running_loop()
    quiet_until = loop.time() + KEEPALIVE_S  # the stream writes at least this often, changes or not
    try:
        while not signal.closed:
            try:
                async with asyncio.timeout_at(quiet_until):
                    version = await signal.next_change(version)
            except TimeoutError:
                # also how a dropped client is found: the write fails and the handler returns
                await response.write(b": keep-alive\n\n")
                quiet_until = loop.time() + KEEPALIVE_S
                seen.touch(board_id, clock())
                continue
            if signal.closed:
                break
            event_id, data = event(boards.get(board_id))
            if event_id != last_id:
                await response.write(data)
                quiet_until = loop.time() + KEEPALIVE_S
                last_id = event_id
                seen.touch(board_id, clock())
    except (ConnectionResetError, ConnectionError):
        pass  # the client went away
    return response


def setup(app: web.Application) -> None:
    """Add the board streams and their budget to an application."""
    app[STREAMS] = StreamBudget(app[CONFIG].http)
    add_routes(app, routes)
