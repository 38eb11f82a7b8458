"""Metrics the engine keeps itself, exposed in Prometheus' text format."""

from __future__ import annotations

import pytest

from parking.app.metrics import Metrics


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(views=list, version=lambda: 7)


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    value: float | None = metrics.registry.get_sample_value(name, labels)
    return value


class TestRequestLatency:
    def test_is_a_cumulative_histogram_per_route_method_and_status(self, metrics: Metrics) -> None:
        for seconds in (0.0004, 0.001, 0.003, 2.0):
            metrics.observe_request("/api/v1/boards/{board_id}", "GET", 200, seconds)
        labels = {"route": "/api/v1/boards/{board_id}", "method": "GET", "status": "200"}
        name = "parking_http_request_duration_seconds"
        assert sample(metrics, f"{name}_bucket", le="0.0005", **labels) == 1
        assert sample(metrics, f"{name}_bucket", le="0.001", **labels) == 2  # the bound is inclusive
        assert sample(metrics, f"{name}_bucket", le="0.005", **labels) == 3
        assert sample(metrics, f"{name}_bucket", le="1.0", **labels) == 3
        assert sample(metrics, f"{name}_bucket", le="+Inf", **labels) == 4
        assert sample(metrics, f"{name}_count", **labels) == 4
        assert sample(metrics, f"{name}_sum", **labels) == pytest.approx(2.0044)


class TestFeedMessages:
    def test_are_counted_per_feed_and_result(self, metrics: Metrics) -> None:
        metrics.count_message("spot", "applied")
        metrics.count_message("spot", "applied")
        metrics.count_message("lot", "bad_json")
        assert sample(metrics, "parking_feed_messages_total", feed="spot", result="applied") == 2
        assert sample(metrics, "parking_feed_messages_total", feed="lot", result="bad_json") == 1
        assert sample(metrics, "parking_feed_messages_total", feed="lot", result="applied") is None


class TestStateVersion:
    def test_is_read_from_the_live_site_at_scrape_time(self, metrics: Metrics) -> None:
        assert sample(metrics, "parking_state_version") == 7
