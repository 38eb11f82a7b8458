"""The feed sink: what the MQTT ingest hands its results to, wired to the live site and metrics."""

from __future__ import annotations

import logging

from parking.app.metrics import Metrics
from parking.clock import Clock
from parking.live import LiveSite
from parking.observations import Observation
from parking.types import ConnectionState

logger = logging.getLogger(__name__)

PAYLOAD_LOG_LIMIT = 200


class SiteFeed:
    """Applies decoded observations to the live site, counts every result, logs drops once per kind."""

    def __init__(self, live: LiveSite, metrics: Metrics, clock: Clock) -> None:
        self._live = live
        self._metrics = metrics
        self._clock = clock
        self.mqtt_state = ConnectionState.DISCONNECTED
        self._logged_reasons: set[tuple[str, str]] = set()

    def observe(self, feed: str, obs: Observation) -> None:
        """Apply a decoded observation and count the result."""
        outcome = self._live.apply(obs, self._clock())
        self._metrics.count_message(feed, outcome.result)
        for anomaly in outcome.anomalies:
            self._metrics.anomalies.labels(obs.lot, anomaly).inc()
            logger.info("anomaly %s on lot %s from %s feed", anomaly, obs.lot, feed)
        if not outcome.accepted and outcome.result not in ("duplicate", "stale"):
            self._log_drop(feed, outcome.result, f"{obs!r}", b"")

    def reject(self, feed: str, reason: str, topic: str, payload: bytes, detail: str) -> None:
        """Count and log a message that could not be decoded."""
        self._metrics.count_message(feed, reason)
        self._log_drop(feed, reason, f"{topic!r}: {detail}", payload)

    def connection_changed(self, state: ConnectionState) -> None:
        """Track the feed connection for /readyz and metrics."""
        if self.mqtt_state == ConnectionState.CONNECTED and state != ConnectionState.CONNECTED:
            self._metrics.mqtt_disconnects.inc()
        self.mqtt_state = state
        self._metrics.mqtt_connected.set(1 if state == ConnectionState.CONNECTED else 0)

    def _log_drop(self, feed: str, reason: str, detail: str, payload: bytes) -> None:
        key = (feed, reason)
        level = logging.DEBUG if key in self._logged_reasons else logging.WARNING
        self._logged_reasons.add(key)
        shown = payload[:PAYLOAD_LOG_LIMIT].decode("utf-8", "replace")
        more = "..." if len(payload) > PAYLOAD_LOG_LIMIT else ""
        logger.log(level, "dropped %s message (%s): %s %r%s", feed, reason, detail, shown, more)
