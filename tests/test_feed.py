"""The feed sink: every message counted, drops and anomalies logged without flooding, silence noticed."""

from __future__ import annotations

import logging

import pytest

from parking.app.feed import SiteFeed
from parking.app.metrics import Metrics
from parking.live import LiveSite
from parking.observations import LotObservation
from parking.types import ConnectionState
from tests.helpers.site import T0, site_config


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeMonotonic:
    return FakeMonotonic()


@pytest.fixture
def feed(clock: FakeMonotonic) -> SiteFeed:
    live = LiveSite(site_config(), T0)
    metrics = Metrics.of(live)
    return SiteFeed(live, metrics, lambda: T0, monotonic=clock)


def age_metric(feed: SiteFeed, name: str) -> float | None:
    value: float | None = feed._metrics.registry.get_sample_value(
        "parking_feed_last_message_age_seconds", {"feed": name}
    )
    return value


class TestSilence:
    def test_no_silence_is_measured_while_disconnected(self, feed: SiteFeed) -> None:
        assert feed.silence_s() is None

    def test_silence_counts_from_the_connection_until_a_message_arrives(
        self, feed: SiteFeed, clock: FakeMonotonic
    ) -> None:
        feed.connection_changed(ConnectionState.CONNECTED)
        clock.now += 40
        assert feed.silence_s() == 40
        feed.observe("lot", LotObservation("tower", free=80))
        clock.now += 5
        assert feed.silence_s() == 5

    def test_a_dropped_message_is_still_a_message(self, feed: SiteFeed, clock: FakeMonotonic) -> None:
        feed.connection_changed(ConnectionState.CONNECTED)
        clock.now += 40
        feed.reject("spot", "bad_json", "parking/x/spots/1", b"{", "not JSON")
        assert feed.silence_s() == 0

    def test_the_age_of_each_feeds_last_message_is_a_metric(
        self, feed: SiteFeed, clock: FakeMonotonic
    ) -> None:
        feed.observe("lot", LotObservation("tower", free=80))
        clock.now += 12
        feed.reject("spot", "bad_json", "t", b"{", "not JSON")
        clock.now += 3
        assert age_metric(feed, "lot") == 15
        assert age_metric(feed, "spot") == 3
        assert age_metric(feed, "gate") is None


class TestLogging:
    def test_an_anomaly_is_logged_once_per_lot_and_kind_then_quietly(
        self, feed: SiteFeed, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG, logger="parking.app.feed")
        for _ in range(100):
            feed.observe("lot", LotObservation("tower", free=80, capacity=999))  # capacity_mismatch
        loud = [r for r in caplog.records if r.levelno >= logging.INFO]
        assert len(loud) == 1
        assert "capacity_mismatch" in loud[0].getMessage()
        assert len(caplog.records) == 100

    def test_a_topic_with_control_characters_cannot_forge_a_log_line(
        self, feed: SiteFeed, caplog: pytest.LogCaptureFixture
    ) -> None:
        feed.reject("unknown", "bad_topic", "evil\n2026-01-01 CRITICAL forged", b"x", "matches no feed")
        [record] = caplog.records
        assert "\n" not in record.getMessage()
