"""Replay a recorded day of lot-level counts as `lot` messages, faster than it happened.

A recording is a CSV of `timestamp,lot,free[,capacity]` rows (a header naming the
columns; `place_id` is read as `lot`), such as tests/data/real-free-2020-06-15.csv.
Recorded lots are mapped to configured ones (by equal id, by an explicit map, else
in turn onto the lots that take lot-system messages). At each recorded time every
mapped lot's latest count is published again, carried forward as the recording
means it, so no lot goes stale between the rows that changed it. Pure but for
`run_replay`, the edge that publishes to a broker.
"""

from __future__ import annotations

import asyncio
import csv
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import orjson

from parking.config.models import Config
from parking.errors import ParkingGuideError
from sensors.topics import TopicTemplate

logger = logging.getLogger(__name__)

Message = tuple[str, bytes]


class ReplayError(ParkingGuideError):
    """The recording cannot be read, or maps onto no configured lot."""


@dataclass(frozen=True, slots=True)
class Frame:
    """The counts of every mapped lot at one recorded time (carried forward), by configured lot id."""

    at: datetime
    free: dict[str, int]


def read_recording(path: str | Path) -> list[tuple[datetime, str, int]]:
    """The rows of a recording as (time, recorded lot, free), in file order; ReplayError if malformed."""
    rows: list[tuple[datetime, str, int]] = []
    try:
        with open(path, newline="", encoding="utf-8") as file:
            reader = csv.DictReader(file)
            lot_column = "lot" if reader.fieldnames and "lot" in reader.fieldnames else "place_id"
            for number, row in enumerate(reader, start=2):
                try:
                    at = datetime.fromisoformat(row["timestamp"])
                    rows.append(
                        (at if at.tzinfo else at.replace(tzinfo=UTC), row[lot_column], int(row["free"]))
                    )
                except (KeyError, TypeError, ValueError) as exc:
                    raise ReplayError(
                        f"{path}: line {number}: expected timestamp,lot,free[,capacity]"
                    ) from exc
    except OSError as exc:
        raise ReplayError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return rows


def lot_mapping(
    recorded: Iterable[str], config: Config, explicit: dict[str, str] | None = None
) -> dict[str, str]:
    """Recorded lot -> configured lot: explicit pairs, equal ids, then the free lot-system lots in turn."""
    explicit = explicit or {}
    configured = [lot.id for lot in config.lots]
    for target in explicit.values():
        if target not in configured:
            raise ReplayError(f"--map: no configured lot {target!r}")
    mapping: dict[str, str] = {}
    taken = set(explicit.values())
    spare = [lot.id for lot in config.lots if lot.sources & {"lot", "gate"} and lot.id not in taken]
    for lot in dict.fromkeys(recorded):
        if lot in explicit:
            mapping[lot] = explicit[lot]
        elif lot in configured and lot not in taken:
            mapping[lot] = lot
            taken.add(lot)
            if lot in spare:
                spare.remove(lot)
        elif explicit:
            continue  # with a map given, only what it (or an equal id) names is replayed
        elif spare:
            mapping[lot] = spare.pop(0)
    return mapping


def frames(rows: list[tuple[datetime, str, int]], mapping: dict[str, str]) -> list[Frame]:
    """One frame per recorded time, each with every mapped lot's count so far."""
    latest: dict[str, int] = {}
    out: list[Frame] = []
    for at in sorted({at for at, _, _ in rows}):
        out.append(Frame(at, {}))
    index = {frame.at: frame for frame in out}
    for at, lot, free in sorted(rows, key=lambda row: row[0]):
        target = mapping.get(lot)
        if target is not None:
            index[at].free[target] = free
    for frame in out:
        latest.update(frame.free)
        frame.free.update(latest)
    return [frame for frame in out if frame.free]


def frame_messages(config: Config, frame: Frame, now: datetime) -> list[Message]:
    """A frame as `lot` messages on the config's first lot feed, stamped `now`."""
    entry = next((entry for entry in config.feeds if entry.format == "lot"), None)
    if entry is None:
        raise ReplayError("the config has no feed of format lot to replay onto")
    template = TopicTemplate("lot", entry.topic)
    stamp = now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return [
        (template.format(lot=lot), orjson.dumps({"free": free, "ts": stamp}))
        for lot, free in sorted(frame.free.items())
    ]


async def run_replay(
    config: Config,
    recording: list[Frame],
    host: str,
    port: int,
    *,
    speed: float = 60.0,
    username: str | None = None,
    password: str | None = None,
) -> int:
    """Publish the frames at `speed` times the recorded pace (QoS 1); return how many messages were sent."""
    if speed <= 0:
        raise ValueError(f"speed must be positive, got {speed}")
    sent = 0
    async with aiomqtt.Client(hostname=host, port=port, username=username, password=password) as client:
        previous: datetime | None = None
        for frame in recording:
            if previous is not None:
                await asyncio.sleep((frame.at - previous).total_seconds() / speed)
            previous = frame.at
            for topic, payload in frame_messages(config, frame, datetime.now(UTC)):
                await client.publish(topic, payload, qos=1)
                sent += 1
            logger.debug("replayed %s: %s", frame.at.isoformat(), frame.free)
    return sent
