"""Pending arrivals already due are retired as the lot's free count falls: not counted twice once parked.

Pure: times are passed in.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from parking.guidance.pending import MAX_PENDING_PER_LOT, PendingArrivals
from tests.helpers.site import T0


def test_a_count_drop_retires_arrivals_whose_eta_has_passed_earliest_first() -> None:
    pending = PendingArrivals(slack_s=300)
    pending.add("tower", T0, eta_s=60)
    pending.add("tower", T0, eta_s=90, weight=0.5)
    pending.add("tower", T0, eta_s=600)  # not due yet: cannot be one who parked
    now = T0 + timedelta(seconds=120)
    assert pending.count("tower", now) == pytest.approx(2.5)
    assert pending.settle("tower", now, parked=5) == pytest.approx(1.5)  # the lot's own drivers: the rest
    assert pending.count("tower", now) == pytest.approx(1.0)


def test_part_of_a_weighted_arrival_is_retired() -> None:
    pending = PendingArrivals(slack_s=300)
    pending.add("tower", T0, eta_s=10, weight=2.0)
    now = T0 + timedelta(seconds=20)
    assert pending.settle("tower", now, parked=0.5) == pytest.approx(0.5)
    assert pending.count("tower", now) == pytest.approx(1.5)
    assert pending.count("tower", T0 + timedelta(seconds=311)) == 0.0  # the rest still expires as before


def test_other_lots_and_categories_are_untouched() -> None:
    pending = PendingArrivals(slack_s=300)
    pending.add("tower", T0, eta_s=10)
    pending.add("mall", T0, eta_s=10)
    pending.add("tower", T0, eta_s=10, category="disabled")
    now = T0 + timedelta(seconds=20)
    pending.settle("tower", now, parked=3)
    assert pending.counts(now) == {"mall": 1.0}
    assert pending.count("tower", now, "disabled") == 1.0


def test_an_arrival_is_due_for_settling_at_its_eta() -> None:
    pending = PendingArrivals(slack_s=300)
    pending.add("tower", T0, eta_s=60)
    assert pending.settle("tower", T0 + timedelta(seconds=60), parked=1) == 1.0


def test_a_drop_spread_over_arrivals_retires_no_more_than_the_drop() -> None:
    pending = PendingArrivals(slack_s=300)
    pending.add("tower", T0, eta_s=10)
    pending.add("tower", T0, eta_s=20)
    now = T0 + timedelta(seconds=30)
    assert pending.settle("tower", now, parked=1.5) == pytest.approx(1.5)
    assert pending.count("tower", now) == pytest.approx(0.5)


def test_what_is_left_of_a_partly_retired_arrival_can_be_retired_later() -> None:
    pending = PendingArrivals(slack_s=300)
    pending.add("tower", T0, eta_s=10)
    now = T0 + timedelta(seconds=20)
    assert pending.settle("tower", now, parked=0.5) == pytest.approx(0.5)
    assert pending.count("tower", now) == pytest.approx(0.5)
    assert pending.settle("tower", now, parked=5) == pytest.approx(0.5)
    assert pending.count("tower", now) == 0.0


def test_arrivals_expire_one_by_one_and_the_rest_stay_counted() -> None:
    pending = PendingArrivals(slack_s=0)
    pending.add("tower", T0, eta_s=10, weight=1.0)
    pending.add("tower", T0, eta_s=100, weight=2.0)
    pending.add("tower", T0, eta_s=200, weight=0.25)
    assert pending.count("tower", T0 + timedelta(seconds=10)) == pytest.approx(2.25)
    assert pending.count("tower", T0 + timedelta(seconds=100)) == pytest.approx(
        0.25
    )  # a fraction shows as is


def test_counts_are_per_category() -> None:
    pending = PendingArrivals(slack_s=300)
    pending.add("tower", T0, eta_s=10, category="disabled")
    pending.add("tower", T0, eta_s=10, weight=3.0)
    assert pending.counts(T0, "disabled") == {"tower": 1.0}
    assert pending.counts(T0) == {"tower": 3.0}


class TestArrivedPerHour:
    WINDOW = timedelta(hours=1)

    def test_nothing_sent_arrived_at_no_rate(self) -> None:
        assert PendingArrivals(slack_s=300).arrived_per_h("tower", T0, self.WINDOW) == 0.0

    def test_arrivals_count_from_their_eta_to_the_end_of_the_window(self) -> None:
        pending = PendingArrivals(slack_s=300)
        pending.add("tower", T0, eta_s=0)
        pending.add("tower", T0, eta_s=600, weight=0.5)
        window = timedelta(minutes=15)
        assert pending.arrived_per_h("tower", T0, window) == pytest.approx(4.0)  # due exactly now: in
        assert pending.arrived_per_h("tower", T0 + timedelta(seconds=600), window) == pytest.approx(6.0)
        # the first arrival's ETA is exactly the window ago: it has left the window
        assert pending.arrived_per_h("tower", T0 + timedelta(minutes=15), window) == pytest.approx(2.0)

    def test_the_rate_is_none_once_the_last_arrival_has_left_the_window(self) -> None:
        pending = PendingArrivals(slack_s=300)
        pending.add("tower", T0, eta_s=0)
        assert pending.arrived_per_h("tower", T0, self.WINDOW) == pytest.approx(1.0)
        assert pending.arrived_per_h("tower", T0 + self.WINDOW, self.WINDOW) == 0.0

    def test_past_the_cap_the_earliest_arrival_goes_whether_it_arrived_or_not(self) -> None:
        pending = PendingArrivals(slack_s=300)
        for _ in range(MAX_PENDING_PER_LOT):
            pending.add("tower", T0, eta_s=0)
        assert pending.arrived_per_h("tower", T0, self.WINDOW) == MAX_PENDING_PER_LOT  # all arrived
        pending.add("tower", T0, eta_s=0, weight=2.0)  # one over the cap: an arrived one goes
        assert pending.arrived_per_h("tower", T0, self.WINDOW) == MAX_PENDING_PER_LOT + 1.0

    def test_the_cap_keeps_every_arrival_up_to_it(self) -> None:
        pending = PendingArrivals(slack_s=300)
        for _ in range(MAX_PENDING_PER_LOT):
            pending.add("tower", T0, eta_s=0)
        assert pending.arrived_per_h("tower", T0, self.WINDOW) == MAX_PENDING_PER_LOT
