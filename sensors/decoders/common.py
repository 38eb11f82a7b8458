"""Shared parsing for decoders: JSON objects, counts, timestamps, sequence numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from parking.errors import DecodeError

# Epoch values above this are taken as milliseconds (year 2286 in seconds).
_EPOCH_MS_THRESHOLD = 10_000_000_000
# Counters and sequence numbers above this are corrupt, not large (2**53: exact in JSON doubles).
MAX_COUNT = 2**53
# What orjson says of well-formed JSON holding a number beyond a double's range (1e400, or an
# integer of 309 digits or more). Integers between 2**64 and that it reads as floats, without error.
_NUMBER_BEYOND_DOUBLE = "number is infinity when parsed as double"


def parse_object(payload: bytes) -> dict[str, Any]:
    """Parse a JSON object or raise DecodeError(bad_json / out_of_range / wrong_type).

    A key given twice keeps its last value, as orjson (and Python's json) read it.
    """
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        if exc.msg == _NUMBER_BEYOND_DOUBLE:
            raise DecodeError("out_of_range", f"a number beyond a double's range at char {exc.pos}") from exc
        raise DecodeError("bad_json", str(exc)) from exc
    if not isinstance(value, dict):
        raise DecodeError("wrong_type", f"expected a JSON object, got {type(value).__name__}")
    return value


def count(data: dict[str, Any], key: str) -> int:
    """A required non-negative integer field (booleans are not counts)."""
    value = data.get(key)
    if type(value) is int and 0 <= value <= MAX_COUNT:
        return value  # the common case, checked here: one message carries several counts
    if value is None:
        raise DecodeError("missing_field", f"{key!r} is required")
    return _non_negative(key, value)


def counts(data: dict[str, Any]) -> dict[str, int]:
    """Every field of an object as a count, by key (a lot's counts per category).

    The object itself when every value is a plain int in range (as in count; the
    decoder owns what it parsed, so nothing else holds it), else a checked copy.
    """
    for value in data.values():
        if type(value) is not int or not 0 <= value <= MAX_COUNT:
            return {key: count(data, key) for key in data}
    return data


def optional_count(data: dict[str, Any], key: str) -> int | None:
    """An optional non-negative integer field."""
    value = data.get(key)
    if type(value) is int and 0 <= value <= MAX_COUNT:
        return value  # the common case, as in count
    return None if value is None else _non_negative(key, value)


def _non_negative(key: str, value: object) -> int:
    """Any value but a plain int in range (count checks that first): a count, or DecodeError."""
    if isinstance(value, float) and value.is_integer():
        # 3.0 is the count 3; orjson also reads an integer beyond 64 bits (2**64) as a whole float,
        # which must be out_of_range like any other count above MAX_COUNT, not wrong_type.
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise DecodeError("wrong_type", f"{key!r} must be an integer, got {value!r}")
    if value < 0:
        raise DecodeError("negative_count", f"{key!r} is {value}")
    if value > MAX_COUNT:
        raise DecodeError("out_of_range", f"{key!r} is {value}, above {MAX_COUNT}")
    return value


def sequence(data: dict[str, Any], key: str = "seq") -> int | None:
    """An optional sequence number."""
    return optional_count(data, key)


def timestamp(data: dict[str, Any], key: str = "ts") -> datetime | None:
    """An optional timestamp: ISO 8601 (naive means UTC) or epoch seconds/milliseconds."""
    value = data.get(key)
    if value is None:
        return None
    if type(value) is str:  # the common case first: ISO 8601
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise DecodeError("bad_timestamp", f"{key!r} is {value!r}") from exc
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    if isinstance(value, bool):
        raise DecodeError("bad_timestamp", f"{key!r} is a boolean")
    try:
        if isinstance(value, int | float):
            if value <= 0:
                raise DecodeError("bad_timestamp", f"{key!r} is {value!r}, not a time after 1970")
            seconds = value / 1000 if value > _EPOCH_MS_THRESHOLD else value
            return datetime.fromtimestamp(seconds, tz=UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise DecodeError("bad_timestamp", f"{key!r} is {value!r}") from exc
    raise DecodeError("bad_timestamp", f"{key!r} is {value!r}")
