"""The `spot` format: one space occupied or free, as JSON or a bare value."""

from __future__ import annotations

from parking.errors import DecodeError
from parking.observations import SpotObservation
from sensors.decoders.common import parse_object, sequence, timestamp

_BARE: dict[bytes, bool] = {
    b"1": True,
    b"0": False,
    b"true": True,
    b"false": False,
    b"occupied": True,
    b"free": False,
    b'"occupied"': True,
    b'"free"': False,
}


def decode_spot(fields: dict[str, str], payload: bytes) -> SpotObservation:
    """`{"occupied": true, "ts": "...", "seq": 7}`, or bare 1/0, true/false, "occupied"/"free"."""
    lot, spot = fields["lot"], fields["spot"]
    bare = _BARE.get(payload.strip().lower())
    if bare is not None:
        return SpotObservation(lot, spot, bare)
    data = parse_object(payload)
    occupied = data.get("occupied")
    if occupied is None:
        raise DecodeError("missing_field", "'occupied' is required")
    if isinstance(occupied, int) and not isinstance(occupied, bool) and occupied in (0, 1):
        occupied = bool(occupied)
    if not isinstance(occupied, bool):
        raise DecodeError("wrong_type", f"'occupied' must be true/false, got {occupied!r}")
    return SpotObservation(lot, spot, occupied, ts=timestamp(data), seq=sequence(data))
