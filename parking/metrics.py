"""Prometheus metrics, in a registry owned by the app (no module-level singletons)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from parking.availability.views import LotView

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
STATUSES = ("open", "almost_full", "full", "closed", "unknown")


class Metrics:
    """All of the engine's metrics, registered in one CollectorRegistry."""

    def __init__(self, views: Callable[[], list[LotView]]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        # Counted on every feed message: a plain dict read at scrape time costs a
        # fraction of a locked prometheus Counter (the engine runs on one thread).
        self.feed_messages = _FeedCounter()
        self.registry.register(self.feed_messages)
        self.anomalies = Counter(
            "parking_anomalies",
            "Anomalies noticed while applying observations (clamping, counter resets, ...).",
            ["lot", "reason"],
            registry=self.registry,
        )
        self.request_latency = Histogram(
            "parking_http_request_duration_seconds",
            "HTTP request latency by route and status.",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.mqtt_connected = Gauge(
            "parking_mqtt_connected", "1 while the feed connection is up.", registry=self.registry
        )
        self.mqtt_disconnects = Counter(
            "parking_mqtt_disconnects", "Feed connection losses.", registry=self.registry
        )
        self.state_version = Gauge(
            "parking_state_version", "Version of the live availability state.", registry=self.registry
        )
        self.registry.register(_LotCollector(views))
        # labels() validates and locks on every call; the hot path keeps its children
        self._latency_children: dict[tuple[str, str, int], Histogram] = {}

    def count_message(self, feed: str, result: str) -> None:
        """Count one feed message by feed format and result."""
        counts = self.feed_messages.counts
        key = (feed, result)
        counts[key] = counts.get(key, 0) + 1

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Record one HTTP request's latency."""
        key = (route, method, status)
        child = self._latency_children.get(key)
        if child is None:
            child = self._latency_children[key] = self.request_latency.labels(route, method, str(status))
        child.observe(seconds)


class _FeedCounter(Collector):
    """parking_feed_messages_total{feed, result}, kept in a dict."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "parking_feed_messages",
            "Feed messages by feed format and result (applied, duplicate, stale or a drop reason).",
            labels=["feed", "result"],
        )
        for (feed, result), value in sorted(self.counts.items()):
            family.add_metric([feed, result], value)
        yield family

    def describe(self) -> Iterator[CounterMetricFamily]:
        return iter(())


class _LotCollector(Collector):
    """Free spaces, capacity and status per lot, read from the live state at scrape time."""

    def __init__(self, views: Callable[[], list[LotView]]) -> None:
        self._views = views

    def collect(self) -> Iterator[GaugeMetricFamily]:
        free = GaugeMetricFamily(
            "parking_lot_free",
            "Free spaces per lot and category (absent when unknown).",
            labels=["lot", "category"],
        )
        capacity = GaugeMetricFamily(
            "parking_lot_capacity", "Capacity per lot and category.", labels=["lot", "category"]
        )
        status = GaugeMetricFamily(
            "parking_lot_status", "1 for the lot's current status.", labels=["lot", "status"]
        )
        for view in self._views():
            for category, cat in view.categories.items():
                capacity.add_metric([view.id, category], cat.capacity)
                if cat.free is not None:
                    free.add_metric([view.id, category], cat.free)
            for name in STATUSES:
                status.add_metric([view.id, name], 1.0 if view.status == name else 0.0)
        yield free
        yield capacity
        yield status

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())
