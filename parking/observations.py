"""Observations: what a feed message says, as our own immutable values.

The edge (sensors/) turns MQTT bytes into these; the core (parking/availability)
applies them. Nothing here knows about MQTT or HTTP.

Named tuples, not frozen dataclasses: one is built for every feed message, and a
frozen dataclass's `__init__` sets each field through `object.__setattr__`, three
to four times the cost of a named tuple (docs/bench: decode and apply). They are
as immutable, compare and print the same way, and are told apart by `isinstance`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, NamedTuple

GateEvent = Literal["entry", "exit"]


class SpotObservation(NamedTuple):
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


class LotObservation(NamedTuple):
    """A lot management system reports free spaces for the whole lot (the truth).

    `categories` defaults to one shared empty dict: like every field, it is never mutated.
    """

    lot: str
    free: int
    capacity: int | None = None
    categories: dict[str, int] = {}  # noqa: RUF012 - read only, as the whole observation is
    ts: datetime | None = None


class GateCounterObservation(NamedTuple):
    """A gate reports its cumulative entry and exit counters."""

    lot: str
    gate: str
    entries: int
    exits: int
    ts: datetime | None = None


class GateEventObservation(NamedTuple):
    """A gate reports one vehicle passing (entry or exit), of a category when the gate knows it."""

    lot: str
    gate: str
    event: GateEvent
    ts: datetime | None = None
    seq: int | None = None
    category: str | None = None


Observation = SpotObservation | LotObservation | GateCounterObservation | GateEventObservation
