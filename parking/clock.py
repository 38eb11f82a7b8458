"""Clocks: the wall clock, and a shifted, sped-up clock for demos and replays."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


class ScaledClock:
    """A clock that starts at `start` and runs `scale` times faster than real time."""

    def __init__(self, start: datetime, scale: float = 1.0, monotonic: Callable[[], float] = time.monotonic):
        if start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        if scale <= 0:
            raise ValueError(f"scale must be positive, got {scale}")
        self.start = start.astimezone(UTC)
        self.scale = scale
        self._monotonic = monotonic
        self._origin = monotonic()

    def __call__(self) -> datetime:
        """The simulated time now."""
        return self.start + timedelta(seconds=(self._monotonic() - self._origin) * self.scale)
