"""What guidance knows beyond availability: drivers on their way (answers, page views, boards).

Answers to drivers read the pending arrivals as they are at that moment, so ten
drivers asking in a row see each other. Boards read a snapshot taken every
`guidance.refresh_s`: each refresh adds, for every board, the share of its
passing traffic that follows its first line since the last refresh (as
fractional pending arrivals at that lot), then tells the live site which lots
now look different, so board answers are re-ranked once per refresh at most,
never per request. Hold-backs and closures are not here: the live site's views
already carry the ops overrides.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

from parking.availability.status import TREND_WINDOW
from parking.availability.views import LotView
from parking.config.models import Config
from parking.guidance.drivers import DriversOnTheirWay
from parking.guidance.expected import Outlook
from parking.guidance.pending import PendingArrivals, board_traffic_per_h
from parking.guidance.service import GuidanceService
from parking.live import LiveSite

logger = logging.getLogger(__name__)

MAX_FLOW_GAP_S = 60.0  # after a stall (a suspended process), board traffic is not made up for longer
MAX_SETTLE_S = 300.0  # departures are estimated over at most this long since a count last moved
CHANGE_EPSILON = 0.05  # of a driver: smaller moves of a lot's pending count do not re-rank boards


class GuidanceOutlook:
    """Pending arrivals, as the ranking reads them, for answers and for boards."""

    def __init__(
        self,
        config: Config,
        guidance: GuidanceService,
        live: LiveSite,
        pending: PendingArrivals,
        now: datetime,
    ) -> None:
        self._guidance = guidance
        self._live = live
        self._pending = pending
        self._drivers = DriversOnTheirWay(pending)
        self._follow = config.guidance.board_follow_rate
        self._default_per_h = config.guidance.board_traffic_per_h
        self._boards = {b.id: b for b in config.boards}
        self._tz = ZoneInfo(config.site.timezone)
        self._categories = frozenset(guidance.board_category(b.id) for b in config.boards)
        self._snapshot: dict[str, Outlook] = {}
        self._refreshed_at = now
        self._settle = config.guidance.settle_pending
        self._last_move: dict[tuple[str, str], tuple[int, datetime]] = {}  # free count, when it became so
        self._mean_stay_s = config.guidance.mean_stay_s
        self._take_snapshot(now)

    def for_answer(self, category: str, now: datetime) -> Outlook:
        """The outlook for a driver's answer now: every pending arrival recorded so far."""
        return Outlook(MappingProxyType(self._pending.counts(now, category)), self._arrived(now, category))

    def for_board(self, category: str) -> Outlook:
        """The outlook boards read: as of the last refresh."""
        outlook = self._snapshot.get(category)
        return outlook if outlook is not None else Outlook()

    def refresh(self, now: datetime) -> None:
        """Add the board traffic that followed each board since the last refresh; re-snapshot."""
        elapsed_s = min(MAX_FLOW_GAP_S, (now - self._refreshed_at).total_seconds())
        self._refreshed_at = now
        views = self._live.views()
        if self._settle:
            self._settle_arrivals(views, now)
        if elapsed_s > 0:
            local = now.astimezone(self._tz)
            for board_id, board in self._boards.items():
                per_h = self._follow * board_traffic_per_h(board, local, self._default_per_h)
                if per_h <= 0:
                    continue
                category = self._guidance.board_category(board_id)
                best = self._guidance.for_board(board_id, views, self.for_board(category)).best
                if best is not None:
                    self._drivers.followed(best, now, per_h * elapsed_s / 3600.0, category)
        self._take_snapshot(now)

    def _settle_arrivals(self, views: Mapping[str, LotView], now: datetime) -> None:
        """Retire pending arrivals already due at lots where cars parked since the count last changed.

        The count moves by arrivals less departures: at a lot with turnover it may stay
        level, or rise, while drivers we sent park. So the cars parked are the fall plus the
        departures expected meanwhile (each occupied space frees once a `mean_stay_s`, the
        turnover the expectation uses), over the time since the count last moved (a lot
        system that sent nothing new shows no movement, and its time accumulates).
        """
        for lot, view in views.items():
            for category in self._categories:
                cat = view.categories.get(category)
                if cat is None or cat.free is None:
                    continue
                key = (lot, category)
                last = self._last_move.get(key)
                if last is not None and cat.free == last[0]:
                    continue  # level: the time since it last moved goes on accumulating
                self._last_move[key] = (cat.free, now)
                if last is None:
                    continue  # the first count seen: nothing to compare with
                before, moved_at = last
                elapsed_s = min(MAX_SETTLE_S, (now - moved_at).total_seconds())
                departed = max(0, cat.capacity - before) * elapsed_s / self._mean_stay_s
                parked = before - cat.free + departed
                if parked > 0:
                    self._drivers.parked(lot, now, parked, category)

    def _arrived(self, now: datetime, category: str) -> Mapping[str, float]:
        """Drivers sent to each lot due within the fill-rate window, an hour (see Outlook)."""
        rates = {
            lot: self._pending.arrived_per_h(lot, now, TREND_WINDOW, category) for lot in self._guidance.lots
        }
        return MappingProxyType({lot: rate for lot, rate in rates.items() if rate})

    def _take_snapshot(self, now: datetime) -> None:
        changed: set[str] = set()
        snapshot: dict[str, Outlook] = {}
        for category in self._categories:
            counts = self._pending.counts(now, category)
            before = self._snapshot.get(category)
            old = before.pending if before is not None else {}
            changed |= {
                lot
                for lot in set(counts) | set(old)
                if abs(counts.get(lot, 0.0) - old.get(lot, 0.0)) > CHANGE_EPSILON
            }
            snapshot[category] = Outlook(MappingProxyType(counts), self._arrived(now, category))
        self._snapshot = snapshot
        if changed:
            self._live.note_guidance(changed)
