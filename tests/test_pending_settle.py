"""Pending arrivals already due are retired as the lot's free count falls: not counted twice once parked.

Pure: times are passed in.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from parking.guidance.pending import PendingArrivals
from tests.site import T0


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
