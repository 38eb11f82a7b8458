"""The `gate` format: cumulative entry/exit counters, or one entry/exit event."""

from __future__ import annotations

from parking.errors import DecodeError
from parking.observations import GateCounterObservation, GateEventObservation
from sensors.decoders.common import count, parse_object, sequence, timestamp


def decode_gate(fields: dict[str, str], payload: bytes) -> GateCounterObservation | GateEventObservation:
    """`{"entries": 1042, "exits": 998, "ts": ...}` or `{"event": "entry", "ts": ..., "seq": 5}`."""
    lot, gate = fields["lot"], fields["gate"]
    data = parse_object(payload)
    if "event" in data:
        event = data["event"]
        if event not in ("entry", "exit"):
            raise DecodeError("unknown_value", f"'event' must be 'entry' or 'exit', got {event!r}")
        return GateEventObservation(lot, gate, event, timestamp(data), sequence(data))
    return GateCounterObservation(lot, gate, count(data, "entries"), count(data, "exits"), timestamp(data))
