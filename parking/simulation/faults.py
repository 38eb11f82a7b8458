"""Faults real feeds have, for the simulator: duplicates, reordering, silent sensors, clock skew, garbage.

Pure: randomness comes from the simulator's seeded generator, so a faulty run is
as repeatable as a clean one. None of these may make the engine show a wrong
count; the tests and `parking-guide simulate --faults` show that it does not.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

Message = tuple[str, bytes]

_GARBAGE: tuple[bytes, ...] = (
    b"",
    b"{",
    b"\xff\xfe\x00",
    b'{"occupied": "maybe"}',
    b'{"free": -3}',
    b"[1, 2, 3]",
    b'{"entries": 1e400}',
    b"null",
)


@dataclass(frozen=True, slots=True)
class Faults:
    """How badly the simulated feeds behave: probabilities per message, a share of sensors, seconds."""

    duplicate: float = 0.0  # a message is published twice
    reorder: float = 0.0  # a message swaps places with the one after it
    silent: float = 0.0  # this share of bay sensors never publishes
    skew_s: float = 0.0  # each lot's clock is off by up to this many seconds, either way
    garbage: float = 0.0  # a message's payload is replaced by something undecodable

    def __post_init__(self) -> None:
        for name in ("duplicate", "reorder", "silent", "garbage"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.skew_s < 0:
            raise ValueError(f"skew_s must not be negative, got {self.skew_s}")

    @classmethod
    def parse(cls, spec: str) -> Faults:
        """`duplicate=0.05,reorder=0.02,silent=0.1,skew_s=30,garbage=0.01` (ValueError if malformed)."""
        values: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            name, sep, number = part.partition("=")
            if not sep or name.strip() not in cls.__dataclass_fields__:
                known = ", ".join(cls.__dataclass_fields__)
                raise ValueError(f"fault {part!r}: write name=value, names {known}")
            values[name.strip()] = float(number)
        return cls(**values)


class FaultInjector:
    """Applies `Faults` to a simulator's messages."""

    def __init__(self, faults: Faults, rng: random.Random, bays: list[tuple[str, str]]) -> None:
        self._faults = faults
        self._rng = rng
        count = round(len(bays) * faults.silent)
        self._silent = set(rng.sample(bays, count)) if count else set()
        self._skew: dict[str, timedelta] = {}

    def silent(self, lot: str, spot: str) -> bool:
        """This bay's sensor is dead: it never publishes."""
        return (lot, spot) in self._silent

    def battery(self, spot: str) -> float | None:
        """A plausible battery level for a LoRaWAN sensor (percent)."""
        return float(60 + sum(spot.encode()) % 40)

    def stamp(self, lot: str, now: datetime) -> str:
        """The `ts` a lot's devices write at `now`, off by that lot's clock skew."""
        skew = self._skew.get(lot)
        if skew is None:
            bound = self._faults.skew_s
            skew = self._skew[lot] = timedelta(seconds=self._rng.uniform(-bound, bound) if bound else 0.0)
        return (now + skew).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def apply(self, messages: list[Message]) -> list[Message]:
        """The messages as a faulty network delivers them."""
        faults, rng = self._faults, self._rng
        if not (faults.duplicate or faults.reorder or faults.garbage):
            return messages
        out: list[Message] = []
        for topic, payload in messages:
            if faults.garbage and rng.random() < faults.garbage:
                payload = rng.choice(_GARBAGE)
            out.append((topic, payload))
            if faults.duplicate and rng.random() < faults.duplicate:
                out.append((topic, payload))
        if faults.reorder:
            for index in range(len(out) - 1):
                if rng.random() < faults.reorder:
                    out[index], out[index + 1] = out[index + 1], out[index]
        return out
