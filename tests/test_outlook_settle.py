"""Drivers we sent who have parked stop counting as pending, even where cars leave as fast as they come.

A lot's count moves by arrivals less departures. At a lot with turnover it may stay
level or rise while the drivers we sent park, so the outlook takes the cars parked
since the count last moved as its fall plus the departures expected meanwhile
(each occupied space frees once a `mean_stay_s`), and retires that many arrivals
already due. The test site's tower: 200 general spaces, a lot system; boards send
no one here (follow rate 0), so only the arrivals added by hand are pending.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from parking.guidance.outlook import MAX_SETTLE_S, GuidanceOutlook
from parking.guidance.pending import PendingArrivals
from parking.live import LiveSite
from parking.observations import LotObservation
from parking.roads.load import build_guidance
from tests.helpers.site import T0, site_config

MEAN_STAY_S = 2400.0


class Tower:
    """The test site with the outlook wired as the app wires it, and the tower's count set by hand."""

    def __init__(self, settle: bool = True) -> None:
        settling = "true" if settle else "false"
        guidance = (
            f"guidance: {{board_follow_rate: 0, mean_stay_s: {MEAN_STAY_S:g}, settle_pending: {settling}}}"
        )
        site = "site: {name: Test site, timezone: UTC}"
        config = site_config(**{site: site + "\n" + guidance})
        self.live = LiveSite(config, T0)
        self.pending = PendingArrivals(config.guidance.pending_slack_s)
        self.set_free(40, T0)
        self.outlook = GuidanceOutlook(config, build_guidance(config), self.live, self.pending, T0)
        self.outlook.refresh(T0)  # the first count seen: nothing to compare with yet

    def set_free(self, general: int, now: datetime) -> None:
        self.live.apply(LotObservation("tower", general + 10, categories={"general": general, "ev": 10}), now)

    def at(self, seconds: float, general: int) -> float:
        """The tower reports `general` free at T0 + seconds; the outlook refreshes; what is still pending."""
        now = T0 + timedelta(seconds=seconds)
        self.set_free(general, now)
        self.outlook.refresh(now)
        return self.pending.count("tower", now)


def test_a_count_that_rises_still_retires_the_arrivals_the_departures_hide() -> None:
    tower = Tower()
    tower.pending.add("tower", T0, eta_s=30.0, weight=5.0)
    # 160 occupied, a mean stay of 40 min: 4 cars left in the minute, the count rose by 1, so 3 parked
    assert tower.at(60, general=41) == pytest.approx(2.0)


def test_a_count_that_falls_retires_the_fall_and_the_departures() -> None:
    tower = Tower()
    tower.pending.add("tower", T0, eta_s=30.0, weight=10.0)
    assert tower.at(60, general=38) == pytest.approx(4.0)  # 2 + 4 parked


def test_arrivals_not_yet_due_are_never_retired() -> None:
    tower = Tower()
    tower.pending.add("tower", T0, eta_s=120.0, weight=5.0)
    assert tower.at(60, general=38) == pytest.approx(5.0)


def test_the_time_since_the_count_last_moved_counts_across_refreshes_that_saw_no_move() -> None:
    tower = Tower()
    tower.pending.add("tower", T0, eta_s=10.0, weight=10.0)
    assert tower.at(30, general=40) == pytest.approx(10.0)  # level: nothing known yet
    assert tower.at(60, general=41) == pytest.approx(7.0)  # 4 left over the 60 s since T0, 1 more free


def test_departures_are_counted_over_at_most_max_settle_s() -> None:
    tower = Tower()
    tower.pending.add("tower", T0 + timedelta(seconds=3500), eta_s=0.0, weight=50.0)
    departed = 160 * MAX_SETTLE_S / MEAN_STAY_S  # not 160 x 3600 s / 2400 s = 240
    assert tower.at(3600, general=41) == pytest.approx(50.0 - (departed - 1))


def test_without_settling_only_expiry_retires_arrivals() -> None:
    tower = Tower(settle=False)
    tower.pending.add("tower", T0, eta_s=30.0, weight=5.0)
    assert tower.at(60, general=30) == pytest.approx(5.0)
