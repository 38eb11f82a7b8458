"""The feed sink: what the MQTT ingest hands its results to, wired to the live site and metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from parking.app.metrics import Metrics
from parking.availability import Outcome
from parking.clock import Clock
from parking.live import LiveSite
from parking.observations import Observation
from parking.types import ConnectionState

logger = logging.getLogger(__name__)

Recorder = Callable[[Observation, datetime], None]  # an applied observation and its receipt time

PAYLOAD_LOG_LIMIT = 200


class SiteFeed:
    """Applies decoded observations to the live site, counts every result, logs drops once per kind."""

    def __init__(
        self,
        live: LiveSite,
        metrics: Metrics,
        clock: Clock,
        monotonic: Callable[[], float] = time.monotonic,
        record: Recorder | None = None,
    ) -> None:
        self._live = live
        self._record = record
        self._metrics = metrics
        self._clock = clock
        self._monotonic = monotonic
        self.mqtt_state = ConnectionState.DISCONNECTED
        self._logged_reasons: set[tuple[str, str]] = set()
        self._logged_anomalies: set[tuple[str, str]] = set()
        self._last_message_at: dict[str, float] = {}
        self._connected_at: float | None = None
        metrics.watch_feeds(self.message_ages)

    # -- FeedSink ----------------------------------------------------------------------

    def observe(self, feed: str, obs: Observation) -> None:
        """Apply a decoded observation and count the result."""
        self._last_message_at[feed] = self._monotonic()
        now = self._clock()
        outcome = self._live.apply(obs, now)
        result = outcome.result
        if self._record is not None and result == "applied":
            self._record(obs, now)  # into the store's write buffer: never waits for the database
        self._metrics.count_message(feed, result)
        if outcome.plain:
            return  # applied, nothing to note: most messages, so one check instead of three
        self._note(feed, obs, outcome)

    def _note(self, feed: str, obs: Observation, outcome: Outcome) -> None:
        """Count and log what an outcome says beyond its result: gaps, anomalies, a drop."""
        if outcome.gaps:
            self._metrics.feed_gaps.labels(obs.lot, feed).inc(outcome.gaps)
        for anomaly in outcome.anomalies:
            self._metrics.anomalies.labels(obs.lot, anomaly).inc()
            key = (obs.lot, anomaly)
            level = logging.DEBUG if key in self._logged_anomalies else logging.INFO
            self._logged_anomalies.add(key)
            logger.log(level, "anomaly %s on lot %s from %s feed", anomaly, obs.lot, feed)
        if not outcome.accepted and outcome.result not in ("duplicate", "stale"):
            self._log_drop(feed, outcome.result, f"{obs!r}", b"")

    def reject(self, feed: str, reason: str, topic: str, payload: bytes, detail: str) -> None:
        """Count and log a message that could not be decoded."""
        self._last_message_at[feed] = self._monotonic()
        self._metrics.count_message(feed, reason)
        self._log_drop(feed, reason, f"{topic!r}: {detail}", payload)

    def connection_changed(self, state: ConnectionState) -> None:
        """Track the feed connection for /readyz and metrics."""
        if self.mqtt_state == ConnectionState.CONNECTED and state != ConnectionState.CONNECTED:
            self._metrics.mqtt_disconnects.inc()
        if state == ConnectionState.CONNECTED and self.mqtt_state != ConnectionState.CONNECTED:
            self._connected_at = self._monotonic()
        self.mqtt_state = state
        self._metrics.mqtt_connected.set(1 if state == ConnectionState.CONNECTED else 0)

    def session_taken_over(self) -> None:
        """Count a takeover of the MQTT session by another client (the ingest logs it)."""
        self._metrics.mqtt_session_takeovers.inc()

    # -- liveness --------------------------------------------------------------------

    def message_ages(self) -> dict[str, float]:
        """Seconds since the last message of each feed that has sent one (decoded or not)."""
        now = self._monotonic()
        return {feed: now - at for feed, at in self._last_message_at.items()}

    def silence_s(self) -> float | None:
        """Seconds since the last message on any feed, counted from the connection if none came since."""
        if self.mqtt_state != ConnectionState.CONNECTED or self._connected_at is None:
            return None
        last = max([self._connected_at, *self._last_message_at.values()])
        return self._monotonic() - last

    def _log_drop(self, feed: str, reason: str, detail: str, payload: bytes) -> None:
        key = (feed, reason)
        level = logging.DEBUG if key in self._logged_reasons else logging.WARNING
        self._logged_reasons.add(key)
        shown = payload[:PAYLOAD_LOG_LIMIT].decode("utf-8", "replace")
        more = "..." if len(payload) > PAYLOAD_LOG_LIMIT else ""
        logger.log(level, "dropped %s message (%s): %s %r%s", feed, reason, detail, shown, more)
