"""Board answers, rendered once per change in every representation and served from memory.

The guidance service decides what a board shows, signage/ turns that into
bytes, and this cache keeps the bytes with their headers. The ETag is a hash of
the body, so identical answers carry identical ETags on every replica and
across restarts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from multidict import CIMultiDict

from parking.app.web.headers import STANDARD_HEADERS
from parking.guidance.expected import NO_OUTLOOK, Outlook
from parking.guidance.service import GuidanceService
from parking.live import LiveSite
from signage.board import (
    FALLBACK_TEXT,
    BoardLine,
    Charset,
    board_version,
    columns,
    compose_lines,
    render_json,
    render_text,
)


@dataclass(frozen=True, slots=True)
class BoardVariant:
    """One representation of a board answer: body and the headers that go with it."""

    body: bytes
    etag: str
    # a CIMultiDict, as the response holds its headers: copying one into a response costs
    # a fifth less than copying a dict (keys need no case-folding), on every poll
    headers: CIMultiDict[str]


@dataclass(frozen=True, slots=True)
class RenderedBoard:
    """A board answer in every representation."""

    board: str
    lines: tuple[BoardLine, ...]
    version: int  # derived from what it shows: equal lines (and message), equal version, on any replica
    variants: Mapping[str, BoardVariant]
    event: bytes  # the server-sent event carrying the JSON body
    message: str | None = None  # an ops message shown instead of the lines


def content_etag(body: bytes) -> str:
    """A strong ETag derived from the body alone."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def variant(body: bytes, content_type: str, ttl_s: int) -> BoardVariant:
    """A body with its Content-Type, ETag and Cache-Control headers."""
    etag = content_etag(body)
    headers = CIMultiDict(
        {
            "Content-Type": content_type,
            "ETag": etag,
            "Cache-Control": f"max-age={ttl_s}",
            **STANDARD_HEADERS,
        }
    )
    return BoardVariant(body, etag, headers)


class BoardCache:
    """Rendered board answers; a board is re-rendered only when a lot it watches or its message changed.

    `outlook` gives, per category, what the boards read of pending arrivals and
    overrides: a snapshot that changes only when the live site says so.
    """

    def __init__(
        self,
        live: LiveSite,
        guidance: GuidanceService,
        labels: Mapping[str, str],
        ttl_s: int,
        fallback_text: str = FALLBACK_TEXT,
        outlook: Callable[[str], Outlook] = lambda category: NO_OUTLOOK,
    ) -> None:
        self._live = live
        self._guidance = guidance
        self._outlook = outlook
        self._labels = labels
        self._ttl_s = ttl_s
        self._fallback = fallback_text
        # one column width for the whole site, so LED layouts do not shift as lines change
        self._text_width = max(columns(label) for label in labels.values())
        self._rendered: dict[str, tuple[int, RenderedBoard]] = {}

    def has_board(self, board_id: str) -> bool:
        """True if the board is configured."""
        return self._guidance.has_board(board_id)

    def get(self, board_id: str) -> RenderedBoard:
        """The current answer for a board (KeyError if the board is not configured)."""
        version = self._live.version
        cached = self._rendered.get(board_id)
        if cached is not None:
            seen, rendered = cached
            if seen == version:
                return rendered
            live = self._live
            affected = self._guidance.boards_affected(live.changed_since(seen))
            if board_id not in affected and board_id not in live.boards_changed_since(seen):
                self._rendered[board_id] = (version, rendered)
                return rendered
        outlook = self._outlook(self._guidance.board_category(board_id))
        decision = self._guidance.for_board(board_id, self._live.views(), outlook)
        lines = compose_lines(decision, self._labels)
        message = self._live.board_message(board_id)
        if cached is not None and cached[1].lines == lines and cached[1].message == message:
            rendered = cached[1]
        else:
            rendered = self._render(board_id, lines, message)
        self._rendered[board_id] = (version, rendered)
        return rendered

    def _render(self, board_id: str, lines: tuple[BoardLine, ...], message: str | None) -> RenderedBoard:
        ttl, width, fallback = self._ttl_s, self._text_width, self._fallback

        def text(lines: tuple[BoardLine, ...], charset: Charset) -> bytes:
            return render_text(lines, charset, width, fallback, message)

        version = board_version(lines, message)
        json_body = render_json(board_id, lines, ttl, message)
        return RenderedBoard(
            board=board_id,
            lines=lines,
            version=version,
            message=message,
            event=b"id: %d\nevent: board\ndata: %s\n\n" % (version, json_body),
            variants={
                "json": variant(json_body, "application/json", ttl),
                "text": variant(text(lines, "utf-8"), "text/plain; charset=utf-8", ttl),
                "ascii": variant(text(lines, "ascii"), "text/plain; charset=us-ascii", ttl),
                "gb2312": variant(text(lines, "gb2312"), "text/plain; charset=gb2312", ttl),
            },
        )
