"""Rows of the store's tables, as plain tuples: built on the hot path, so as cheaply as a tuple can be."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import orjson

from parking.observations import (
    GateCounterObservation,
    GateEventObservation,
    LotObservation,
    Observation,
    SpotObservation,
)

Row = tuple[Any, ...]

# lot_history_5m: five-minute summaries of lot_snapshots, from whole five minutes (UTC)
ROLLUP_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
ROLLUP_STEP = timedelta(minutes=5)


class Fields(Protocol):
    """A stored row read by column name (an asyncpg Record, a dict)."""

    def __getitem__(self, key: str, /) -> Any: ...


OBSERVATION_COLUMNS = (
    "received_at",
    "lot",
    "kind",
    "source",
    "occupied",
    "free",
    "capacity",
    "categories",
    "entries",
    "exits",
    "event",
    "ts",
    "seq",
    "uplink",
    "battery",
    "rssi",
    "snr",
    "category",
)
# the columns of each table the writer copies rows into, in row order
COLUMNS: dict[str, tuple[str, ...]] = {
    "observations": OBSERVATION_COLUMNS,
    "lot_snapshots": ("at", "lot", "free", "capacity", "status", "held"),
    "guidance_answers": ("at", "lot", "drive_s", "origin", "board", "category", "expires_at"),
    "page_views": ("at", "board", "lang", "wechat"),
}


def observation_row(obs: Observation, received_at: datetime) -> Row:
    """The observations row of one applied observation."""
    n = None
    if isinstance(obs, SpotObservation):  # most rows: one tuple display, no unpacking
        return (
            received_at,
            obs.lot,
            "spot",
            obs.spot,
            obs.occupied,
            n,
            n,
            n,
            n,
            n,
            n,
            obs.ts,
            obs.seq,
            obs.uplink,
            obs.battery,
            obs.rssi,
            obs.snr,
            n,
        )
    if isinstance(obs, LotObservation):
        categories = orjson.dumps(obs.categories).decode() if obs.categories else None
        fields = (obs.free, obs.capacity, categories, n, n, n, obs.ts, n, n, n, n, n, n)
        return (received_at, obs.lot, "lot", "", n, *fields)
    if isinstance(obs, GateCounterObservation):
        counters = (obs.entries, obs.exits)
        return (
            received_at,
            obs.lot,
            "gate_counters",
            obs.gate,
            n,
            n,
            n,
            n,
            *counters,
            n,
            obs.ts,
            n,
            n,
            n,
            n,
            n,
            n,
        )
    event = (obs.event, obs.ts, obs.seq, n, n, n, n, obs.category)
    return (received_at, obs.lot, "gate_event", obs.gate, n, n, n, n, n, n, *event)


def observation_of(record: Fields) -> Observation:
    """The observation a stored row holds (the inverse of observation_row); ValueError for a bad kind."""
    kind, lot, source, ts = record["kind"], record["lot"], record["source"], record["ts"]
    if kind == "spot":
        radio = (record["uplink"], record["battery"], record["rssi"], record["snr"])
        return SpotObservation(lot, source, record["occupied"], ts, record["seq"], *radio)
    if kind == "lot":
        categories = orjson.loads(record["categories"]) if record["categories"] else {}
        return LotObservation(lot, record["free"], record["capacity"], categories, ts)
    if kind == "gate_counters":
        return GateCounterObservation(lot, source, record["entries"], record["exits"], ts)
    if kind == "gate_event":
        return GateEventObservation(lot, source, record["event"], ts, record["seq"], record["category"])
    raise ValueError(f"unknown observation kind {kind!r}")
