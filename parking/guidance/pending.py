"""Drivers already sent to a lot and not yet arrived: the memory guidance needs to avoid herding.

Every guidance answer adds one pending arrival at the lot it recommends first;
a board adds the share of its passing traffic that follows its first line
(a fraction of a driver per refresh). Each is forgotten once its ETA plus a
slack has passed. Nothing about the driver is kept: a lot, a category, a
weight and a time. Pure: the time is passed in. Everything that records one goes
through `DriversOnTheirWay` (parking/guidance/drivers.py), their one writer.
"""

from __future__ import annotations

import heapq
from collections import deque
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from parking.config.models import Board, Config
from parking.types import GENERAL

MAX_PENDING_PER_LOT = 10_000  # memory bound under a flood of answers: the soonest to expire go first

_Key = tuple[str, str]  # lot, category


def board_traffic_per_h(board: Board, local: datetime, default_per_h: float) -> float:
    """Drivers passing a board an hour at a local time: its count for that hour, else its one figure.

    A board's traffic follows the day: one figure for the morning is the average,
    short of the followers at the peak by as much as the peak is above it, and
    the followers the board sends then are the pending arrivals the ranking misses.
    """
    per_h = board.traffic_by_hour.get(local.hour)
    if per_h is not None:
        return per_h
    return default_per_h if board.traffic_per_h is None else board.traffic_per_h


class ExpectedTraffic:
    """Drivers an hour at an origin (a board, or None for phones: every board), from the traffic model.

    Kept per quarter hour of UTC time: a board's count changes on the local hour, and
    every time zone's offset is a whole number of quarter hours, so one answer holds
    for its quarter hour (this is asked on every answer a driver gets).
    """

    def __init__(self, config: Config) -> None:
        self._boards = {board.id: board for board in config.boards}
        self._tz = ZoneInfo(config.site.timezone)
        self._default = config.guidance.board_traffic_per_h
        self._slot: int | None = None
        self._per_h: dict[str | None, float] = {}

    def per_h(self, board: str | None, now: datetime) -> float:
        """The origin's drivers an hour at `now` (an unknown board: the site's default)."""
        slot = int(now.timestamp() // _QUARTER_HOUR_S)
        if slot != self._slot:
            self._slot, self._per_h = slot, {}
        per_h = self._per_h.get(board)
        if per_h is None:
            per_h = self._per_h[board] = self._compute(board, now.astimezone(self._tz))
        return per_h

    def _compute(self, board: str | None, local: datetime) -> float:
        if board is None:
            boards = list(self._boards.values())
        else:
            one = self._boards.get(board)
            boards = [] if one is None else [one]
        if not boards:
            return self._default
        return sum(board_traffic_per_h(b, local, self._default) for b in boards)


_QUARTER_HOUR_S = 900


class PendingArrivals:
    """Pending arrivals per lot and category, each with a weight, expiring at its ETA plus the slack."""

    def __init__(self, slack_s: float) -> None:
        self._slack = timedelta(seconds=slack_s)
        self._expiries: dict[_Key, list[tuple[datetime, float]]] = {}
        self._totals: dict[_Key, float] = {}
        # for arrived_per_h: (ETA, weight) still to come, a heap; then those whose ETA has passed and is
        # still in the window, in ETA order, with their sum: each answer is moved and dropped once
        self._coming: dict[_Key, list[tuple[datetime, float]]] = {}
        self._arrived: dict[_Key, deque[tuple[datetime, float]]] = {}
        self._arrived_sum: dict[_Key, float] = {}

    def add(
        self, lot: str, now: datetime, eta_s: float, weight: float = 1.0, category: str = GENERAL
    ) -> datetime:
        """Record `weight` drivers sent to `lot` at `now`, due in `eta_s` seconds; return when they expire."""
        due = now + timedelta(seconds=eta_s)
        expires = due + self._slack
        key = (lot, category)
        heap = self._expiries.setdefault(key, [])
        total = self._totals.get(key, 0.0) + weight
        if len(heap) >= MAX_PENDING_PER_LOT:  # the soonest to expire goes (maybe this one): one sift
            total -= heapq.heappushpop(heap, (expires, weight))[1]
        else:
            heapq.heappush(heap, (expires, weight))
        self._totals[key] = total
        coming = self._coming.setdefault(key, [])
        arrived = self._arrived.setdefault(key, deque())
        if len(coming) + len(arrived) < MAX_PENDING_PER_LOT:
            heapq.heappush(coming, (due, weight))
        elif arrived:  # the earliest ETA goes: one that has arrived
            self._arrived_sum[key] -= arrived.popleft()[1]
            heapq.heappush(coming, (due, weight))
        else:
            heapq.heappushpop(coming, (due, weight))
        return expires

    def withdraw(
        self, lot: str, due: datetime, expires: datetime, weight: float, category: str = GENERAL
    ) -> float:
        """Take back one arrival recorded with this ETA and expiry (a device's answer replaced by its next).

        Returns the weight taken back: less than `weight` if part of it was settled
        already, 0 if it has expired, was dropped, or its ETA has passed (then it is
        part of the lot's measured rate, and stays in `arrived_per_h`).
        """
        key = (lot, category)
        taken = _take(self._expiries.get(key), expires, weight)
        if taken:
            self._totals[key] -= taken
        coming = self._coming.get(key)
        _take(coming, due, weight)
        return taken

    def arrived_per_h(self, lot: str, now: datetime, window: timedelta, category: str = GENERAL) -> float:
        """Drivers (weighted) sent to `lot` whose ETA fell in the last `window`, an hour.

        They are part of the lot's measured fill rate, and those still to come are
        pending: the rate left for the lot's own drivers is the measured one less this.
        Asked on every answer, so it costs each arrival one move and one drop, never a
        scan: `now` is taken not to run backwards, and `window` to be the same each call.
        """
        key = (lot, category)
        coming, arrived = self._coming.get(key), self._arrived.get(key)
        if coming is None or arrived is None:
            return 0.0
        total = self._arrived_sum.get(key, 0.0)
        while coming and coming[0][0] <= now:
            due = heapq.heappop(coming)
            arrived.append(due)
            total += due[1]
        start = now - window
        while arrived and arrived[0][0] <= start:
            total -= arrived.popleft()[1]
        if not arrived:
            total = 0.0  # also resets the float sum's rounding error
        self._arrived_sum[key] = total
        return max(0.0, total) * 3600.0 / window.total_seconds()

    def settle(self, lot: str, now: datetime, parked: float, category: str = GENERAL) -> float:
        """The count fell by `parked`: retire that many arrivals already due (ETA passed), earliest first.

        A driver who has parked is in the lot's free count; kept pending until ETA + slack,
        they would be counted twice. Only arrivals whose ETA has passed can be the ones
        who parked (the lot's own drivers may be the rest: then nothing is left due).
        Returns the weight retired.
        """
        key = (lot, category)
        heap = self._expiries.get(key)
        retired = 0.0
        while heap and parked - retired > 1e-9 and heap[0][0] - self._slack <= now:
            expires, weight = heap[0]
            take = min(weight, parked - retired)
            retired += take
            if take >= weight - 1e-9:
                heapq.heappop(heap)
            else:
                heap[0] = (expires, weight - take)  # the smallest key is unchanged: still a heap
        if retired:
            self._totals[key] -= retired
        return retired

    def count(self, lot: str, now: datetime, category: str = GENERAL) -> float:
        """Drivers (weighted) sent to `lot` for `category` who are still on their way at `now`."""
        key = (lot, category)
        heap = self._expiries.get(key)
        if not heap:
            return 0.0
        while heap and heap[0][0] <= now:
            self._totals[key] -= heapq.heappop(heap)[1]
        if not heap:
            del self._expiries[key], self._totals[key]  # also resets the float sum's rounding error
            return 0.0
        return max(0.0, self._totals[key])

    def counts(self, now: datetime, category: str = GENERAL) -> dict[str, float]:
        """Pending arrivals of every lot that has any for `category`, at `now`."""
        out = {lot: self.count(lot, now, cat) for lot, cat in list(self._expiries) if cat == category}
        return {lot: n for lot, n in out.items() if n}


def _take(heap: list[tuple[datetime, float]] | None, at: datetime, weight: float) -> float:
    """Remove one entry (at, <= weight) from a heap; return its weight (0.0 if there is none)."""
    if not heap:
        return 0.0
    for i, (when, held) in enumerate(heap):
        if when == at and held <= weight + 1e-9:
            heap[i] = heap[-1]
            heap.pop()
            heapq.heapify(heap)  # O(n) on a heap kept small by the budget for answers (credible.py)
            return held
    return 0.0
