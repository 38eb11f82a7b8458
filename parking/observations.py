"""Observations: what a feed message says, as our own frozen values.

The edge (sensors/) turns MQTT bytes into these; the core (parking/availability)
applies them. Nothing here knows about MQTT or HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

GateEvent = Literal["entry", "exit"]


@dataclass(frozen=True, slots=True)
class SpotObservation:
    """One parking space is occupied or free."""

    lot: str
    spot: str
    occupied: bool
    ts: datetime | None = None
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class LotObservation:
    """A lot management system reports free spaces for the whole lot (the truth)."""

    lot: str
    free: int
    capacity: int | None = None
    categories: dict[str, int] = field(default_factory=dict)
    ts: datetime | None = None


@dataclass(frozen=True, slots=True)
class GateCounterObservation:
    """A gate reports its cumulative entry and exit counters."""

    lot: str
    gate: str
    entries: int
    exits: int
    ts: datetime | None = None


@dataclass(frozen=True, slots=True)
class GateEventObservation:
    """A gate reports one vehicle passing (entry or exit)."""

    lot: str
    gate: str
    event: GateEvent
    ts: datetime | None = None
    seq: int | None = None


Observation = SpotObservation | LotObservation | GateCounterObservation | GateEventObservation
