"""A driver's answer as one rule: minutes to the door, time until a space, and who records the sent.

Pure: values and a passed-in time, on the small test site (tests/site.py); no loop.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import MappingProxyType

import pytest

from parking.app.factory import build_guidance
from parking.guidance.drivers import DriverGuidance, DriversOnTheirWay, Question
from parking.guidance.expected import Outlook
from parking.guidance.pending import PendingArrivals
from parking.guidance.ranking import Cost
from parking.guidance.service import Needs, Recommendation
from parking.types import GENERAL
from tests.helpers.site import T0, site_config
from tests.helpers.views import view, views


def rec(cost: Cost | None, queue: bool = False) -> Recommendation:
    return Recommendation("tower", view("tower", 5), None, cost, queue=queue)


class TestDoorMinutes:
    def test_drive_and_walk_round_up_to_whole_minutes(self) -> None:
        assert Cost(drive_s=100.0, walk_s=20.5).door_minutes == 3
        assert Cost(drive_s=100.0, walk_s=20.0).door_minutes == 2  # exactly two minutes stay two

    def test_a_queue_answer_counts_its_wait(self) -> None:
        assert Cost(drive_s=60.0, walk_s=30.0, wait_s=240.0).door_minutes == 6  # 330 s

    def test_at_least_one_minute(self) -> None:
        assert Cost(drive_s=0.0, walk_s=0.0).door_minutes == 1

    def test_risk_and_search_are_not_minutes_to_the_door(self) -> None:
        assert Cost(drive_s=60.0, walk_s=0.0, full_risk_s=600.0, search_s=120.0).door_minutes == 1

    def test_an_unreachable_lot_has_none(self) -> None:
        assert rec(None).door_minutes is None
        assert rec(None).arrival_s is None
        assert rec(None, queue=True).queue_minutes is None


class TestArrival:
    def test_the_drive_and_a_queue_answers_wait(self) -> None:
        cost = Cost(drive_s=90.0, walk_s=300.0, wait_s=200.0)
        assert cost.arrival_s == 290.0
        assert rec(cost).arrival_s == 290.0

    def test_queue_minutes_only_for_a_queue_answer(self) -> None:
        cost = Cost(drive_s=90.0, walk_s=300.0, wait_s=200.0)
        assert rec(cost, queue=True).queue_minutes == 5  # 290 s, rounded up
        assert rec(cost).queue_minutes is None


class TestDriversOnTheirWay:
    def test_a_driver_sent_is_pending_until_the_wait_is_over_plus_the_slack(self) -> None:
        pending = PendingArrivals(slack_s=60)
        sent = DriversOnTheirWay(pending).sent(rec(Cost(100.0, 50.0, wait_s=20.0)), T0, "disabled")
        assert sent is not None
        assert (sent.lot, sent.at, sent.eta_s, sent.category) == ("tower", T0, 120.0, "disabled")
        assert sent.expires == T0 + timedelta(seconds=180)
        assert pending.counts(T0, "disabled") == {"tower": 1.0}
        assert pending.counts(sent.expires + timedelta(seconds=1), "disabled") == {}

    def test_an_unreachable_lot_sends_nobody(self) -> None:
        pending = PendingArrivals(slack_s=60)
        assert DriversOnTheirWay(pending).sent(rec(None), T0) is None
        assert pending.counts(T0) == {}

    def test_board_followers_and_restored_answers(self) -> None:
        pending = PendingArrivals(slack_s=0)
        drivers = DriversOnTheirWay(pending)
        drivers.followed(rec(Cost(100.0, 0.0)), T0, 0.25, GENERAL)
        drivers.restored("mall", T0 - timedelta(seconds=30), 60.0, GENERAL)
        assert pending.counts(T0) == {"tower": 0.25, "mall": 1.0}
        assert pending.counts(T0 + timedelta(seconds=31)) == {"tower": 0.25}


class Answers:
    """An outlook that reads the pending arrivals as the live one does for answers."""

    def __init__(self, pending: PendingArrivals) -> None:
        self.pending = pending

    def for_answer(self, category: str, now: datetime) -> Outlook:
        return Outlook(MappingProxyType(self.pending.counts(now, category)))


class TestDriverGuidance:
    @pytest.fixture
    def service(self) -> tuple[DriverGuidance, PendingArrivals]:
        config = site_config()
        guidance = build_guidance(config)
        pending = PendingArrivals(config.guidance.pending_slack_s)
        return DriverGuidance(guidance, DriversOnTheirWay(pending), Answers(pending)), pending

    def question(self) -> Question:
        guidance = build_guidance(site_config())
        return Question(guidance.board_origin("north"), "north", "general/main", Needs())

    def test_an_answer_counts_the_driver_at_its_first_lot(
        self, service: tuple[DriverGuidance, PendingArrivals]
    ) -> None:
        drivers, pending = service
        answer = drivers.answer(self.question(), views(hospital=50, tower=50, mall=50, street=5), T0, 3)
        assert len(answer.lots) == 3
        assert answer.sent is not None
        assert answer.sent.lot == answer.lots[0].lot
        assert answer.sent.eta_s == answer.lots[0].arrival_s
        assert answer.outlook.pending == {}  # ranked before this driver was counted
        assert pending.counts(T0) == {answer.lots[0].lot: 1.0}

    def test_ranking_alone_records_nothing(self, service: tuple[DriverGuidance, PendingArrivals]) -> None:
        drivers, pending = service
        lots, _ = drivers.ranked(self.question(), views(hospital=50, tower=50), T0, 3)
        assert lots
        assert pending.counts(T0) == {}

    def test_a_queue_answer_counts_the_driver_at_the_gate(
        self, service: tuple[DriverGuidance, PendingArrivals]
    ) -> None:
        drivers, pending = service
        answer = drivers.answer(self.question(), views(), T0, 3)  # every lot full
        first = answer.lots[0]
        assert first.queue
        assert answer.sent is not None
        assert answer.sent.lot == first.lot
        assert answer.sent.eta_s == first.arrival_s
        assert pending.counts(T0) == {first.lot: 1.0}
