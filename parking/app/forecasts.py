"""Each lot's forecast: weekday profiles refreshed from the store in the background, read from memory.

The refresh (every REFRESH_S) reads the same weekday's slots of the last weeks per lot and keeps
the profile; a request combines it with the live count and fill rate at that moment, so the
answer follows the live count and never waits for the database. Without a store, or before
the first refresh, or with a profile older than MAX_PROFILE_AGE, the forecast is the trend.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from parking.availability import LotView
from parking.availability.forecast import (
    DEFAULT_WEEKS,
    HORIZONS_MIN,
    SAMPLE_TOLERANCE,
    Forecast,
    WeekdayProfile,
    forecast,
    past_instants,
    profile_of,
)
from parking.clock import Clock
from parking.config.models import Config
from parking.store import STORE_ERRORS
from parking.store.history import same_slot_samples
from parking.store.store import Store

logger = logging.getLogger(__name__)

REFRESH_S = 180.0
MAX_PROFILE_AGE = timedelta(minutes=15)  # past it, the profile's slot is no longer now's
QUERY_TIMEOUT_S = 10.0
# past each instant: to the last horizon, and one five-minute summary more
_AFTER = timedelta(minutes=max(HORIZONS_MIN) + 5)


class LotForecasts:
    """The one writer of the lots' weekday profiles; readers ask for a lot's forecast."""

    def __init__(self, config: Config, clock: Clock, weeks: int = DEFAULT_WEEKS) -> None:
        self._lots = [lot.id for lot in config.lots]
        self._tz = ZoneInfo(config.site.timezone)
        self._clock = clock
        self._weeks = weeks
        self._profiles: dict[str, WeekdayProfile] = {}
        self._failures = 0

    def forecast(self, lot_id: str, view: LotView, now: datetime) -> Forecast:
        """The lot's forecast at `now` from its live view and its latest profile (pure, no I/O)."""
        profile = self._profiles.get(lot_id)
        if profile is not None and now - profile.made_at > MAX_PROFILE_AGE:
            profile = None
        return forecast(now, view.free, view.capacity, view.fill_rate_per_h, profile)

    async def refresh(self, store: Store, now: datetime) -> None:
        """Read every lot's profile for `now`; on a store error keep the old ones (and say so once)."""
        starts = past_instants(now, self._tz, self._weeks)
        profiles = {}
        try:
            async with store.pool.acquire(timeout=QUERY_TIMEOUT_S) as conn:
                for lot_id in self._lots:
                    samples = await same_slot_samples(conn, lot_id, starts, SAMPLE_TOLERANCE, _AFTER)
                    profiles[lot_id] = profile_of(samples, starts, now)
        except STORE_ERRORS as exc:
            self._failures += 1
            level = logging.WARNING if self._failures == 1 else logging.DEBUG
            logger.log(level, "forecast: history not read, keeping the last profiles: %s", exc)
            return
        self._failures = 0
        self._profiles = profiles

    async def run(self, store: Store) -> None:
        """Refresh now and every REFRESH_S, until cancelled."""
        while True:
            await self.refresh(store, self._clock())
            await asyncio.sleep(REFRESH_S)
