"""Answering a driver, and the one writer of the drivers on their way (pending arrivals).

`DriversOnTheirWay` is the only code that records a pending arrival: a driver
sent by an answer, the share of a board's traffic that follows its first line,
and the answers restored from the store after a restart. `DriverGuidance` is the
one question -> answer -> pending arrival step that /api/v1/guidance, the
driver's page and the evaluation's "ours" strategy share. Pure: views and the
time are passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from parking.availability.views import LotView
from parking.guidance.expected import Outlook
from parking.guidance.pending import PendingArrivals
from parking.guidance.service import GuidanceService, Needs, Origin, Recommendation
from parking.types import GENERAL


@dataclass(frozen=True, slots=True)
class Question:
    """A driver's question, checked: where from, where to, for what vehicle."""

    origin: Origin
    board: str | None
    destination: str
    needs: Needs


@dataclass(frozen=True, slots=True)
class Sent:
    """A pending arrival recorded: the lot, when the driver is due (s from `at`), and when it is forgotten."""

    lot: str
    at: datetime
    eta_s: float
    category: str
    expires: datetime
    weight: float = 1.0  # below 1: an answer not known to be acted on (a driver's page only seen)

    @property
    def due(self) -> datetime:
        """When the driver is due at the lot."""
        return self.at + timedelta(seconds=self.eta_s)


@dataclass(frozen=True, slots=True)
class Answer:
    """The ranked lots for a question, the outlook they were ranked with, and the driver it sent."""

    question: Question
    lots: list[Recommendation]
    outlook: Outlook  # the drivers already on their way when this answer was ranked
    sent: Sent | None  # None: no lot to send the driver to


class OutlookSource(Protocol):
    """What `DriverGuidance` reads the drivers already on their way from (a `GuidanceOutlook`)."""

    def for_answer(self, category: str, now: datetime) -> Outlook:
        """The outlook for a driver's answer now."""
        ...


class DriversOnTheirWay:
    """The one writer of pending arrivals; readers read `pending`."""

    def __init__(self, pending: PendingArrivals) -> None:
        self.pending = pending

    def sent(
        self, answer: Recommendation, now: datetime, category: str = GENERAL, weight: float = 1.0
    ) -> Sent | None:
        """A driver given this lot first is on the way until it has a space (a queue's wait counted)."""
        eta_s = answer.arrival_s
        if eta_s is None:
            return None
        expires = self.pending.add(answer.lot, now, eta_s, weight, category)
        return Sent(answer.lot, now, eta_s, category, expires, weight)

    def replaced(self, earlier: Sent) -> float:
        """A driver's earlier answer, replaced by their next: no longer on the way; the weight taken back."""
        return self.pending.withdraw(
            earlier.lot, earlier.due, earlier.expires, earlier.weight, earlier.category
        )

    def followed(self, best: Recommendation, now: datetime, weight: float, category: str) -> None:
        """`weight` drivers followed a board's first line at `now`."""
        eta_s = best.arrival_s
        if eta_s is not None:
            self.pending.add(best.lot, now, eta_s, weight, category)

    def restored(self, lot: str, at: datetime, eta_s: float, category: str) -> None:
        """An answer given before a restart, as the store kept it."""
        self.pending.add(lot, at, eta_s, category=category)

    def parked(self, lot: str, now: datetime, cars: float, category: str) -> None:
        """Cars parked at a lot: as many pending arrivals already due there are retired."""
        self.pending.settle(lot, now, cars, category)


class DriverGuidance:
    """Answers a driver's question with the drivers already on their way, and counts the driver sent."""

    def __init__(self, guidance: GuidanceService, drivers: DriversOnTheirWay, outlook: OutlookSource) -> None:
        self._guidance = guidance
        self._drivers = drivers
        self._outlook = outlook

    def ranked(
        self, question: Question, views: Mapping[str, LotView], now: datetime, limit: int
    ) -> tuple[list[Recommendation], Outlook]:
        """The ranked lots for a question now, and the outlook read; nothing is recorded."""
        outlook = self._outlook.for_answer(question.needs.category, now)
        guidance, needs = self._guidance, question.needs
        if question.board is not None:
            lots = guidance.recommend_from_board(
                question.board, question.destination, views, needs, limit, outlook
            )
        else:
            lots = guidance.recommend(question.origin, question.destination, views, needs, limit, outlook)
        return lots, outlook

    def answer(self, question: Question, views: Mapping[str, LotView], now: datetime, limit: int) -> Answer:
        """The ranked lots for a question now; the driver counts as on the way to the first."""
        lots, outlook = self.ranked(question, views, now, limit)
        sent = self.sent(lots[0] if lots else None, now, question.needs.category)
        return Answer(question, lots, outlook, sent)

    def sent(
        self, first: Recommendation | None, now: datetime, category: str, weight: float = 1.0
    ) -> Sent | None:
        """A driver shown an answer (one given before too, as a cached page) drives to its first lot.

        `weight` below 1 counts a driver who may not act on it (a page only seen).
        """
        return None if first is None else self._drivers.sent(first, now, category, weight)

    def replaced(self, earlier: Sent) -> float:
        """The same driver's earlier answer no longer counts (their new one does instead)."""
        return self._drivers.replaced(earlier)
