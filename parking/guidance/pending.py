"""Drivers already sent to a lot and not yet arrived: the memory guidance needs to avoid herding.

Every guidance answer adds one pending arrival at the lot it recommends first,
forgotten once its ETA plus a slack has passed. Nothing about the driver is
kept: a lot id and a time. Pure: the time is passed in.
"""

from __future__ import annotations

import heapq
from datetime import datetime, timedelta

MAX_PENDING_PER_LOT = 10_000  # memory bound under a flood of answers: the soonest to expire go first


class PendingArrivals:
    """Pending arrivals per lot, each expiring at its ETA plus the slack."""

    def __init__(self, slack_s: float) -> None:
        self._slack = timedelta(seconds=slack_s)
        self._expiries: dict[str, list[datetime]] = {}

    def add(self, lot: str, now: datetime, eta_s: float) -> datetime:
        """Record that a driver was sent to `lot` at `now`, due in `eta_s` seconds; return when it expires."""
        expires = now + timedelta(seconds=eta_s) + self._slack
        heap = self._expiries.setdefault(lot, [])
        heapq.heappush(heap, expires)
        if len(heap) > MAX_PENDING_PER_LOT:
            heapq.heappop(heap)
        return expires

    def count(self, lot: str, now: datetime) -> int:
        """Drivers sent to `lot` who are still on their way at `now`."""
        heap = self._expiries.get(lot)
        if not heap:
            return 0
        while heap and heap[0] <= now:
            heapq.heappop(heap)
        return len(heap)

    def counts(self, now: datetime) -> dict[str, int]:
        """Pending arrivals of every lot that has any, at `now`."""
        out = {lot: self.count(lot, now) for lot in list(self._expiries)}
        return {lot: n for lot, n in out.items() if n}
