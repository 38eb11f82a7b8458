"""Opening hours and guidance windows, evaluated on local time."""

from __future__ import annotations

from datetime import datetime, timedelta

from parking.config.models import WEEKDAYS, TimeWindow


def within(windows: list[TimeWindow], local: datetime) -> bool:
    """True if `local` falls inside any window; an empty list means always."""
    if not windows:
        return True
    return any(_inside(window, local) for window in windows)


def _inside(window: TimeWindow, local: datetime) -> bool:
    clock = local.time().replace(tzinfo=None)
    today = WEEKDAYS[local.weekday()]
    if window.start <= window.end:
        return today in window.days and window.start <= clock < window.end
    # crosses midnight: the evening part belongs to today, the early part to yesterday
    yesterday = WEEKDAYS[(local - timedelta(days=1)).weekday()]
    return (today in window.days and clock >= window.start) or (
        yesterday in window.days and clock < window.end
    )
