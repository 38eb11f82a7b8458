"""A jittered, capped backoff for the reconnect loops (MQTT, PostgreSQL). Pure: no clock, no sleeping."""

from __future__ import annotations

import random

FACTOR = 2.0
JITTER = 0.25  # each delay is drawn from ±25 % of the ladder's step


class Backoff:
    """Delays between reconnect attempts: from min_s, times `factor` per failure, within [min_s, max_s].

    Pure: no clock and no sleeping, so the ladder is tested with values alone.
    """

    def __init__(
        self,
        min_s: float,
        max_s: float,
        *,
        factor: float = FACTOR,
        jitter: float = JITTER,
        rng: random.Random | None = None,
    ) -> None:
        if not 0 < min_s <= max_s:
            raise ValueError(f"backoff needs 0 < min_s <= max_s, got {min_s}, {max_s}")
        if factor < 1:
            raise ValueError(f"backoff factor must be >= 1, got {factor}")
        if not 0 <= jitter < 1:
            raise ValueError(f"backoff jitter must be in [0, 1), got {jitter}")
        self.min_s = min_s
        self.max_s = max_s
        self.factor = factor
        self.jitter = jitter
        self._rng = rng or random.Random()
        self._step_s = min_s  # kept rather than computed as min_s * factor**failures, which overflows
        self.failures = 0

    def next_delay(self) -> float:
        """Count a failure and return the delay before the next attempt (the ladder's step, jittered)."""
        self.failures += 1
        step_s = self._step_s
        self._step_s = min(self.max_s, step_s * self.factor)
        delay_s = step_s * self._rng.uniform(1 - self.jitter, 1 + self.jitter)
        return min(self.max_s, max(self.min_s, delay_s))

    def longest_delay(self) -> float:
        """Count a failure that retrying soon cannot fix and return max_s; the ladder stays at the top."""
        self.failures += 1
        self._step_s = self.max_s
        return self.max_s

    def reset(self) -> None:
        """Start again from min_s (after a successful connection)."""
        self.failures = 0
        self._step_s = self.min_s
