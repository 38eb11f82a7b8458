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
    """One parking space is occupied or free; `occupied` None is a heartbeat (the sensor is alive).

    LoRaWAN uplinks also carry `uplink` (the frame counter or the network server's
    deduplication id: a repeat of the last one is a duplicate) and what the sensor's
    radio and battery said, kept per sensor for ops.
    """

    lot: str
    spot: str
    occupied: bool | None
    ts: datetime | None = None
    seq: int | None = None
    uplink: str | None = None
    battery: float | None = None
    rssi: float | None = None
    snr: float | None = None


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
    """A gate reports one vehicle passing (entry or exit), of a category when the gate knows it."""

    lot: str
    gate: str
    event: GateEvent
    ts: datetime | None = None
    seq: int | None = None
    category: str | None = None


Observation = SpotObservation | LotObservation | GateCounterObservation | GateEventObservation
