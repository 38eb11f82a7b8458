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
from parking.app.keys import BOARDS, CLOCK, GUIDANCE, SEEN, SIGNAL
from parking.app.web.headers import STANDARD_HEADERS
from parking.app.web.observe import json_error

logger = logging.getLogger(__name__)

KEEPALIVE_S = 15.0
RETRY_MS = 3000

routes = web.RouteTableDef()


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
