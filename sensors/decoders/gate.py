"""The `gate` format: cumulative entry/exit counters, or one entry/exit event."""

from __future__ import annotations

import re

from parking.errors import DecodeError
from parking.observations import GateCounterObservation, GateEventObservation
from sensors.decoders.common import count, parse_object, sequence, timestamp

_CATEGORY = re.compile(r"[a-z][a-z0-9_]{0,63}")


def decode_gate(fields: dict[str, str], payload: bytes) -> GateCounterObservation | GateEventObservation:
    """`{"entries": 1042, "exits": 998, "ts": ...}` or `{"event": "entry", "ts": ..., "seq": 5}`.

    An event may say the car's category (`"category": "disabled"`), when the gate knows it.
    """
    lot, gate = fields["lot"], fields["gate"]
    data = parse_object(payload)
    if "event" in data:
        event = data["event"]
        if event not in ("entry", "exit"):
            raise DecodeError("unknown_value", f"'event' must be 'entry' or 'exit', got {event!r}")
        category = data.get("category")
        if category is not None and not (isinstance(category, str) and _CATEGORY.fullmatch(category)):
            raise DecodeError("wrong_type", f"'category' must be a category name, got {category!r:.40}")
        return GateEventObservation(lot, gate, event, timestamp(data), sequence(data), category)
    return GateCounterObservation(lot, gate, count(data, "entries"), count(data, "exits"), timestamp(data))
