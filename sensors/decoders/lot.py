"""The `lot` format: a lot management system's free count, optionally per category."""

from __future__ import annotations

from parking.errors import DecodeError
from parking.observations import LotObservation
from sensors.decoders.common import count, counts, optional_count, parse_object, timestamp


def decode_lot(fields: dict[str, str], payload: bytes) -> LotObservation:
    """`{"free": 37, "capacity": 200, "ts": ..., "categories": {"disabled": 2, "ev": 5}}`."""
    data = parse_object(payload)
    free = count(data, "free")
    capacity = optional_count(data, "capacity")
    raw_categories = data.get("categories")
    if raw_categories is None:
        raw_categories = {}
    if not isinstance(raw_categories, dict):
        raise DecodeError("wrong_type", "'categories' must be an object of counts")
    categories = counts(raw_categories)
    if capacity is not None and free > capacity:
        raise DecodeError("free_above_capacity", f"free {free} > capacity {capacity}")
    return LotObservation(fields["lot"], free, capacity, categories, timestamp(data))
