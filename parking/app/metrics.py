"""Prometheus metrics, in a registry owned by the app (no module-level singletons)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from parking.availability.views import LotView
from parking.live import LiveSite
from parking.types import STATUSES

FRESHNESS = ("fresh", "degraded", "stale")

ANSWER_ORIGINS = ("board", "position", "go_page")
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class Metrics:
    """All of the engine's metrics, registered in one CollectorRegistry."""

    def uncounted(self, reason: str) -> None:
        """Count an answer served without a pending arrival, by reason."""
        child = self.uncounted_by.get(reason)
        if child is None:
            child = self.uncounted_by[reason] = self.arrivals_uncounted.labels(reason)
        child.inc()

    def anomaly(self, origin: str) -> None:
        """Count an answer asked from `origin` beyond what the site's traffic explains."""
        child = self.anomalies_from.get(origin)
        if child is None:
            child = self.anomalies_from[origin] = self.demand_anomalies.labels(origin)
        child.inc()

    def __init__(self, views: Callable[[], list[LotView]], version: Callable[[], int]) -> None:
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
        self.feed_gaps = Counter(
            "parking_feed_gaps",
            "Missing sequence numbers (spot seq, gate event seq) per lot and feed format: messages lost.",
            ["lot", "feed"],
            registry=self.registry,
        )
        self.request_latency = _LatencyHistogram()
        self.registry.register(self.request_latency)
        self.guidance_answers = Counter(
            "parking_guidance_answers",
            "Guidance answers given that recommended a lot, by origin (board or position).",
            ["origin"],
            registry=self.registry,
        )
        # bound once: labels() takes a lock and a look-up on every call
        self.answers_from = {origin: self.guidance_answers.labels(origin) for origin in ANSWER_ORIGINS}
        self.arrivals_uncounted = Counter(
            "parking_guidance_arrivals_uncounted",
            "Answers served that did not add a pending arrival, by reason: over_traffic (the origin's "
            "budget from the traffic model is spent), rate_limited (per client address), replaced "
            "(a device's earlier answer was replaced by its new one).",
            ["reason"],
            registry=self.registry,
        )
        self.demand_anomalies = Counter(
            "parking_guidance_demand_anomalies",
            "Answers asked from an origin (a board, or position) beyond what the site's traffic explains.",
            ["origin"],
            registry=self.registry,
        )
        # bound on first use, as answers_from: a flood asks for these on every answer
        self.uncounted_by: dict[str, Counter] = {}
        self.anomalies_from: dict[str, Counter] = {}
        self.mqtt_connected = Gauge(
            "parking_mqtt_connected", "1 while the feed connection is up.", registry=self.registry
        )
        self.mqtt_disconnects = Counter(
            "parking_mqtt_disconnects", "Feed connection losses.", registry=self.registry
        )
        self.mqtt_session_takeovers = Counter(
            "parking_mqtt_session_takeovers",
            "Feed connections ended because another client connected with the engine's client id "
            "(said by the broker under MQTT 5, else recognised by repeated short connections).",
            registry=self.registry,
        )
        self.state_version = Gauge(
            "parking_state_version", "Version of the live availability state.", registry=self.registry
        )
        self.state_version.set_function(version)
        self.registry.register(_LotCollector(views))
        self._feed_ages: Callable[[], dict[str, float]] = dict
        self.registry.register(
            _AgeCollector(
                "parking_feed_last_message_age_seconds",
                "Seconds since the last message of each feed format (decoded or dropped).",
                "feed",
                lambda: self._feed_ages(),
            )
        )
        self._source_ages: Callable[[], dict[tuple[str, str], float]] = dict
        self.registry.register(_SourceAgeCollector(lambda: self._source_ages()))
        self._board_ages: Callable[[], dict[str, float]] = dict
        self.registry.register(
            _AgeCollector(
                "parking_board_last_seen_age_seconds",
                "Seconds since each board last polled or streamed its answer (absent: not since start-up).",
                "board",
                lambda: self._board_ages(),
            )
        )

        self.ops_logins = Counter(
            "parking_ops_logins",
            "Ops dashboard logins by result (ok, wrong_password, rate_limited).",
            ["result"],
            registry=self.registry,
        )
        self._store: Callable[[], StoreStats | None] = lambda: None
        self.registry.register(_StoreCollector(lambda: self._store()))

    def watch_store(self, stats: Callable[[], StoreStats | None]) -> None:
        """Expose the store's health and write buffer, read from `stats` at scrape time."""
        self._store = stats

    def watch_feeds(self, ages: Callable[[], dict[str, float]]) -> None:
        """Expose seconds since each feed's last message, read from `ages` at scrape time."""
        self._feed_ages = ages

    def watch_sources(self, ages: Callable[[], dict[tuple[str, str], float]]) -> None:
        """Expose seconds since each lot's sources last reported, keyed (lot, source), read at scrape time."""
        self._source_ages = ages

    def watch_boards(self, ages: Callable[[], dict[str, float]]) -> None:
        """Expose seconds since each board was last seen, read from `ages` at scrape time."""
        self._board_ages = ages

    @classmethod
    def of(cls, live: LiveSite) -> Metrics:
        """The metrics of one live site: lots and the state version read from it at scrape time."""
        return cls(lambda: list(live.views().values()), lambda: live.version)

    def count_message(self, feed: str, result: str) -> None:
        """Count one feed message by feed format and result."""
        counts = self.feed_messages.counts
        key = (feed, result)
        counts[key] = counts.get(key, 0) + 1

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Record one HTTP request's latency."""
        self.request_latency.observe((route, method, str(status)), seconds)


@dataclass(frozen=True, slots=True)
class StoreStats:
    """The store as the metrics see it."""

    up: bool
    historian: bool
    backlog_rows: int
    limit_rows: int
    dropped: dict[str, int] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)


class _StoreCollector(Collector):
    """parking_store_*: database up, history writer, backlog, rows written and dropped (no store: none)."""

    def __init__(self, stats: Callable[[], StoreStats | None]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        stats = self._stats()
        if stats is None:
            return
        yield GaugeMetricFamily("parking_store_up", "1 while PostgreSQL takes writes.", value=int(stats.up))
        yield GaugeMetricFamily(
            "parking_store_historian",
            "1 if this replica holds the history lock and writes observations and snapshots.",
            value=int(stats.historian),
        )
        yield GaugeMetricFamily(
            "parking_store_backlog_rows",
            "Rows waiting to be written to PostgreSQL.",
            value=stats.backlog_rows,
        )
        yield GaugeMetricFamily(
            "parking_store_buffer_limit_rows",
            "Rows the write buffer holds before it drops the oldest (store.buffer_rows).",
            value=stats.limit_rows,
        )
        dropped = CounterMetricFamily(
            "parking_store_dropped_rows",
            "Rows dropped because the write buffer was full (PostgreSQL away too long), by table.",
            labels=["table"],
        )
        for table, n in sorted(stats.dropped.items()):
            dropped.add_metric([table], n)
        yield dropped
        written = CounterMetricFamily(
            "parking_store_written_rows", "Rows written to PostgreSQL, by table.", labels=["table"]
        )
        for table, n in sorted(stats.written.items()):
            written.add_metric([table], n)
        yield written

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())


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


class _LatencyHistogram(Collector):
    """parking_http_request_duration_seconds{route, method, status}: bucket counts in lists.

    prometheus_client's Histogram takes two locks per observation; on the board
    polling path that is measurable, and the engine runs on one thread.
    """

    def __init__(self) -> None:
        self._series: dict[tuple[str, str, str], list[float]] = {}  # bucket counts..., sum

    def observe(self, labels: tuple[str, str, str], seconds: float) -> None:
        """Count one observation in its bucket."""
        series = self._series.get(labels)
        if series is None:
            series = self._series[labels] = [0.0] * (len(LATENCY_BUCKETS) + 2)
        series[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        series[-1] += seconds

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily(
            "parking_http_request_duration_seconds",
            "HTTP request latency by route, method and status.",
            labels=["route", "method", "status"],
        )
        for labels, series in sorted(self._series.items()):
            cumulative, buckets = 0.0, []
            for bound, count in zip((*LATENCY_BUCKETS, float("inf")), series[:-1], strict=True):
                cumulative += count
                buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
            family.add_metric(list(labels), buckets, series[-1])
        yield family

    def describe(self) -> Iterator[HistogramMetricFamily]:
        return iter(())


class _AgeCollector(Collector):
    """A gauge family of ages in seconds, one per label value, read at scrape time."""

    def __init__(
        self, name: str, documentation: str, label: str, ages: Callable[[], dict[str, float]]
    ) -> None:
        self._name, self._documentation, self._label = name, documentation, label
        self._ages = ages

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(self._name, self._documentation, labels=[self._label])
        for key, age in sorted(self._ages().items()):
            family.add_metric([key], age)
        yield family

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())


class _SourceAgeCollector(Collector):
    """parking_lot_source_age_seconds{lot, source}: one series per configured lot and source kind."""

    def __init__(self, ages: Callable[[], dict[tuple[str, str], float]]) -> None:
        self._ages = ages

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "parking_lot_source_age_seconds",
            "Seconds since each source of a lot (spot: bay sensors, lot, gate) last had a message applied.",
            labels=["lot", "source"],
        )
        for (lot, source), age in sorted(self._ages().items()):
            family.add_metric([lot, source], age)
        yield family

    def describe(self) -> Iterator[GaugeMetricFamily]:
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
        freshness = GaugeMetricFamily(
            "parking_lot_freshness",
            "1 for the lot's freshness: fresh, degraded (a source or some bays silent) or stale.",
            labels=["lot", "freshness"],
        )
        unknown = GaugeMetricFamily(
            "parking_lot_unknown_bays",
            "Bays with sensors per lot and category that count as unknown: silent too long, or never heard.",
            labels=["lot", "category"],
        )
        for view in self._views():
            for category, cat in view.categories.items():
                capacity.add_metric([view.id, category], cat.capacity)
                if cat.free is not None:
                    free.add_metric([view.id, category], cat.free)
                if cat.unknown is not None:
                    unknown.add_metric([view.id, category], cat.unknown)
            for name in STATUSES:
                status.add_metric([view.id, name], 1.0 if view.status == name else 0.0)
            for state in FRESHNESS:
                freshness.add_metric([view.id, state], 1.0 if view.freshness == state else 0.0)
        yield free
        yield capacity
        yield status
        yield freshness
        yield unknown

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())
