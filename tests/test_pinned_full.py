"""A pinned hospital line expected below its reserve on arrival shows FULL while the board sends drivers on.

Pure: lot views and outlooks are values (tests/test_expected.py), no event loop.
The hospital has 104 spaces, so its reserve is max(3, 5 % of 104) = 5.2.
"""

from __future__ import annotations

from parking.guidance.expected import Expectation
from parking.guidance.service import GuidanceService, pinned_expected_full
from signage.board import compose_lines
from tests.helpers.views import outlook, views

LABELS = {"hospital": "Hospital", "tower": "Tower", "street": "Street", "mall": "Mall"}


def test_the_rule() -> None:
    below = Expectation(expected_free=2.0, reserve=5.0, full_probability=0.1)
    enough = Expectation(expected_free=8.0, reserve=5.0, full_probability=0.0)
    assert pinned_expected_full("hospital", below, first="mall")
    assert not pinned_expected_full("hospital", enough, first="mall")  # reserve expected: the count
    assert not pinned_expected_full("hospital", below, first="hospital")  # still the best there is
    assert not pinned_expected_full("hospital", below, first=None)  # nowhere else to send anyone
    assert not pinned_expected_full("hospital", None, first="mall")  # not ranked: its own state decides


def test_a_pinned_lot_with_its_reserve_expected_shows_its_count(guidance: GuidanceService) -> None:
    decision = guidance.for_board("north", views(hospital=12, mall=300))
    line = compose_lines(decision, LABELS)[0]
    assert (line.lot, line.display, line.free) == ("hospital", "12", 12)
    assert line.arrow is not None
    assert line.minutes is not None


def test_drivers_on_their_way_turn_the_pinned_count_into_full(guidance: GuidanceService) -> None:
    # 12 free, 25 already sent: 13 short on arrival, below the reserve; found full, the wait at its
    # gate for 14 spaces costs more than the way on, so the mall, with room, is the board's choice
    decision = guidance.for_board("north", views(hospital=12, mall=300), outlook({"hospital": 25.0}))
    assert decision.best is not None
    assert decision.best.lot == "mall"
    hospital, *others = compose_lines(decision, LABELS)
    assert (hospital.lot, hospital.display, hospital.free) == ("hospital", "FULL", 12)
    assert hospital.arrow is None
    assert hospital.minutes is None
    assert others[0].lot == "mall"
    assert others[0].arrow is not None


def test_when_every_lot_is_short_the_pinned_best_keeps_its_count(guidance: GuidanceService) -> None:
    # 12 free, 7 already sent: 5 expected, below the reserve; every other lot is full, and the
    # hospital's risk of being full (1 in 12) costs less than the line at the mall
    decision = guidance.for_board("north", views(hospital=12), outlook({"hospital": 7.0}))
    assert decision.best is not None
    assert (decision.best.lot, decision.best.queue) == ("hospital", False)
    line = compose_lines(decision, LABELS)[0]
    assert line.display == "12"
    assert line.arrow is not None
