"""The engine: live state, routes and rendered boards, fed by the ingest.

This is the seam between the edges (MQTT, HTTP) and the pure core. It reads the
clock it was given, counts what happens in metrics, and caches rendered board
answers per state version so polling boards costs a dictionary look-up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from parking.availability import Availability, LotView
from parking.clock import Clock, utc_now
from parking.config.models import Board, Config
from parking.guidance import RouteTable, build_road_graph
from parking.metrics import Metrics
from parking.observations import Observation
from parking.types import ConnectionState
from signage.board import BoardLine, compose_lines, render_json, render_text

logger = logging.getLogger(__name__)

PAYLOAD_LOG_LIMIT = 200


@dataclass(frozen=True, slots=True)
class BoardVariant:
    """One representation of a board answer: body and the headers that go with it."""

    body: bytes
    etag: str
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class RenderedBoard:
    """A board answer, rendered once per change in every representation, served from memory."""

    board: str
    version: int
    lines: tuple[BoardLine, ...]
    variants: dict[str, BoardVariant]

    @property
    def json(self) -> bytes:
        """The JSON body."""
        return self.variants["json"].body

    @property
    def text(self) -> bytes:
        """The plain-text body (UTF-8 arrows)."""
        return self.variants["text"].body


def _variant(board: str, version: int, tag: str, body: bytes, content_type: str, ttl_s: int) -> BoardVariant:
    etag = f'"{board}-{version}-{tag}"'  # strong, and distinct per representation
    headers = {"Content-Type": content_type, "ETag": etag, "Cache-Control": f"max-age={ttl_s}"}
    return BoardVariant(body, etag, headers)


class Engine:
    """Live availability, guidance routes and board answers for one site."""

    def __init__(self, config: Config, clock: Clock = utc_now) -> None:
        self.config = config
        self.clock = clock
        now = clock()
        # Seed versions with the start time so they keep rising across restarts.
        self.state = Availability(config, now, initial_version=int(now.timestamp() * 1000))
        self.metrics = Metrics(self.state.views)
        self.routes = RouteTable(config, build_road_graph(config.roads))
        self.boards: dict[str, Board] = {b.id: b for b in config.boards}
        self.labels = {lot.id: lot.display_label for lot in config.lots}
        # one column width for the whole site, so LED layouts do not shift as lines change
        self._text_width = max(len(label) for label in self.labels.values())
        self.mqtt_state = ConnectionState.DISCONNECTED
        self._rendered: dict[str, tuple[int, RenderedBoard]] = {}
        self._logged_reasons: set[tuple[str, str]] = set()

    # -- FeedSink ------------------------------------------------------------------

    def observe(self, feed: str, obs: Observation) -> None:
        """Apply a decoded observation and count the result."""
        outcome = self.state.apply(obs, self.clock())
        self.metrics.count_message(feed, outcome.result)
        for anomaly in outcome.anomalies:
            self.metrics.anomalies.labels(obs.lot, anomaly).inc()
            logger.info("anomaly %s on lot %s from %s feed", anomaly, obs.lot, feed)
        if not outcome.accepted and outcome.result not in ("duplicate", "stale"):
            self._log_drop(feed, outcome.result, f"{obs!r}", b"")

    def reject(self, feed: str, reason: str, topic: str, payload: bytes, detail: str) -> None:
        """Count and log a message that could not be decoded."""
        self.metrics.count_message(feed, reason)
        self._log_drop(feed, reason, f"{topic}: {detail}", payload)

    def connection_changed(self, state: ConnectionState) -> None:
        """Track the feed connection for /readyz and metrics."""
        if self.mqtt_state == ConnectionState.CONNECTED and state != ConnectionState.CONNECTED:
            self.metrics.mqtt_disconnects.inc()
        self.mqtt_state = state
        self.metrics.mqtt_connected.set(1 if state == ConnectionState.CONNECTED else 0)

    # -- time ------------------------------------------------------------------------

    def tick(self) -> None:
        """Re-evaluate freshness and hours; called about once a second."""
        self.state.tick(self.clock())

    # -- reading -----------------------------------------------------------------------

    def lot_views(self) -> dict[str, LotView]:
        """Current views of every lot by id."""
        return {view.id: view for view in self.state.views()}

    def board(self, board_id: str) -> RenderedBoard:
        """The rendered answer for a board (KeyError if unknown); recomputed only on change."""
        version = self.state.version
        cached = self._rendered.get(board_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        board = self.boards[board_id]
        lines = compose_lines(
            board,
            self.routes.routes(board_id),
            self.lot_views(),
            self.labels,
            board.lines or self.config.defaults.board_lines,
        )
        if cached is not None and cached[1].lines == lines:
            rendered = cached[1]
        else:
            ttl = self.config.defaults.board_ttl_s
            width = self._text_width
            bodies = {
                "json": (render_json(board_id, version, lines, ttl), "application/json"),
                "text": (render_text(lines, width=width), "text/plain; charset=utf-8"),
                "ascii": (render_text(lines, ascii_only=True, width=width), "text/plain; charset=us-ascii"),
            }
            rendered = RenderedBoard(
                board=board_id,
                version=version,
                lines=lines,
                variants={
                    tag: _variant(board_id, version, tag, body, content_type, ttl)
                    for tag, (body, content_type) in bodies.items()
                },
            )
        self._rendered[board_id] = (version, rendered)
        return rendered

    # -- internals -----------------------------------------------------------------------

    def _log_drop(self, feed: str, reason: str, detail: str, payload: bytes) -> None:
        key = (feed, reason)
        level = logging.DEBUG if key in self._logged_reasons else logging.WARNING
        self._logged_reasons.add(key)
        shown = payload[:PAYLOAD_LOG_LIMIT].decode("utf-8", "replace")
        more = "..." if len(payload) > PAYLOAD_LOG_LIMIT else ""
        logger.log(level, "dropped %s message (%s): %s %r%s", feed, reason, detail, shown, more)
