"""Loss made visible: missing sequence numbers counted per lot and feed in the metrics."""

from __future__ import annotations

from parking.app.feed import SiteFeed
from parking.app.metrics import Metrics
from parking.live import LiveSite
from parking.observations import GateEventObservation, LotObservation, SpotObservation
from tests.helpers.site import T0, site_config


def make_feed() -> SiteFeed:
    live = LiveSite(site_config(), T0)
    metrics = Metrics.of(live)
    return SiteFeed(live, metrics, lambda: T0)


def gaps(feed: SiteFeed, lot: str, name: str) -> float | None:
    value: float | None = feed._metrics.registry.get_sample_value(
        "parking_feed_gaps_total", {"lot": lot, "feed": name}
    )
    return value


class TestGapMetric:
    def test_missing_numbers_are_counted_per_lot_and_feed(self) -> None:
        feed = make_feed()
        for seq in (1, 2, 5):
            feed.observe("spot", SpotObservation("street", "S01", occupied=False, seq=seq))
        for seq in (7, 9):
            feed.observe("spot", SpotObservation("street", "S02", occupied=False, seq=seq))
        feed.observe("lot", LotObservation("hospital", free=50))
        for seq in (1, 4):
            feed.observe("gate", GateEventObservation("hospital", "north", "entry", seq=seq))
        assert gaps(feed, "street", "spot") == 3
        assert gaps(feed, "hospital", "gate") == 2

    def test_nothing_is_counted_without_a_gap(self) -> None:
        feed = make_feed()
        for seq in (1, 2, 2, 3):
            feed.observe("spot", SpotObservation("street", "S01", occupied=False, seq=seq))
        assert gaps(feed, "street", "spot") is None

    def test_an_unknown_lot_never_becomes_a_label(self) -> None:
        feed = make_feed()
        for seq in (1, 5):
            feed.observe("spot", SpotObservation("nowhere", "S01", occupied=False, seq=seq))
        assert gaps(feed, "nowhere", "spot") is None
