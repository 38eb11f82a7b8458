"""The site a benchmark runs against, a clock for it, and valid feed messages for its lots."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson

from bench.errors import BenchError
from parking.clock import Clock, utc_now
from parking.config import Config, load_config
from parking.config.models import LORAWAN_FORMATS, Device, FeedEntry, Lot
from parking.errors import ConfigError
from parking.simulation.uplinks import uplink
from sensors.ingest import templates_of
from sensors.topics import TopicTemplate

logger = logging.getLogger(__name__)

TEST_SITE = "test"
DEFAULT_SITE = "config.yaml"
# Site-local time the benchmark clock starts at: a Wednesday morning, when every lot of
# the example sites is open and the partner lots are inside their guidance windows.
LOCAL_START = (2, 8, 30)  # weekday (Mon=0), hour, minute


def load_site(spec: str) -> Config:
    """`test` is tests/helpers/site.py's site; anything else is a config file path."""
    if spec == TEST_SITE:
        from tests.helpers.site import site_config

        return site_config()
    return load_config(Path(spec))


def first_board(spec: str) -> tuple[Config, str]:
    """The site and the id of its first board, which the HTTP parts measure (BenchError if none)."""
    config = load_site(spec)
    if not config.boards:
        raise BenchError("the site has no boards")
    return config, config.boards[0].id


def choose_site(spec: str) -> tuple[str, str]:
    """The site spec to use and why: config.yaml if it loads, else the test site."""
    if spec != DEFAULT_SITE:
        try:
            load_site(spec)  # a site asked for by name must load
        except ConfigError as exc:
            raise BenchError(str(exc)) from exc
        return spec, f"{spec} (as asked)"
    try:
        load_site(spec)
    except ConfigError as exc:
        logger.warning("config.yaml does not load (%s); using the test site", exc)
        return TEST_SITE, "tests/helpers/site.py (config.yaml did not load)"
    return spec, DEFAULT_SITE


def with_broker(config: Config, host: str, port: int, client_id: str) -> Config:
    """The config, pointed at a private broker with its own client id."""
    mqtt = config.mqtt.model_copy(
        update={"host": host, "port": port, "client_id": client_id, "reconnect_min_s": 0.1}
    )
    return config.model_copy(update={"mqtt": mqtt})


class ShiftedClock:
    """The wall clock moved by a fixed offset: what production's `utc_now` costs, at another time.

    The engine reads its clock once a message, so the bench's clock should cost what
    `parking-guide run`'s does (a `ScaledClock` computes from a monotonic origin: ~1.5x that).
    """

    __slots__ = ("_offset",)

    def __init__(self, start: datetime) -> None:
        self._offset = start - utc_now()

    def __call__(self) -> datetime:
        """The shifted time now."""
        return datetime.now(UTC) + self._offset


def site_clock(config: Config) -> Clock:
    """A running clock that starts on a Wednesday at 08:30 site time (lots open, windows on)."""
    weekday, hour, minute = LOCAL_START
    start = utc_now().astimezone(ZoneInfo(config.site.timezone))
    start = start.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return ShiftedClock(start + timedelta(days=(weekday - start.weekday()) % 7))


def subscriptions(config: Config) -> list[str]:
    """The MQTT filters the engine subscribes to for this config."""
    return list(dict.fromkeys(template.subscription for template in templates_of(config.feeds)))


LORAWAN_TOPICS = {
    "ttn-v3": "v3/{app}@{tenant}/devices/{device}/up",
    "chirpstack-v4": "application/{app}/device/{dev_eui}/event/up",
}


def with_lorawan(config: Config) -> Config:
    """The site with every bay sensor reporting through a LoRaWAN network server instead of `spot`.

    Bays alternate between a The Things Stack and a ChirpStack feed, so both decoders are
    measured; their uplinks are ~0.5 kB of JSON where a `spot` message is ~60 bytes.
    """
    devices: dict[str, dict[str, Device]] = {"ttn-v3": {}, "chirpstack-v4": {}}
    n = 0
    for lot in config.lots:
        for ids in lot.spot_ids().values():
            for bay in ids:
                fmt = "ttn-v3" if n % 2 == 0 else "chirpstack-v4"
                key = f"bay-{n:05d}" if fmt == "ttn-v3" else f"{0x70B3D5000000 + n:016x}"
                devices[fmt][key] = Device(lot=lot.id, spot=bay)
                n += 1
    # into the site's own LoRaWAN feed of each format where it has one (a bay keeps one device)
    feeds = []
    for entry in config.feeds:
        added = devices.pop(entry.format, None)
        if added is not None:
            taken = {(device.lot, device.spot) for device in added.values()}
            kept = {key: d for key, d in entry.devices.items() if (d.lot, d.spot) not in taken}
            entry = entry.model_copy(update={"devices": {**kept, **added}})
        feeds.append(entry)
    feeds += [FeedEntry(format=fmt, topic=LORAWAN_TOPICS[fmt], devices=devs) for fmt, devs in devices.items()]
    return config.model_copy(update={"feeds": feeds})


@dataclass(slots=True)
class _Source:
    """One publisher of the site (a bay sensor, a lot system or a gate) and its counter."""

    kind: str
    topic: str
    lot: Lot
    sent: int = 0
    base: dict[str, int] = field(default_factory=dict)
    device: tuple[FeedEntry, str] | None = None  # a LoRaWAN sensor: its feed and device id


def _sources(config: Config) -> list[_Source]:
    templates: dict[str, TopicTemplate] = {}
    for template in templates_of(config.feeds):
        templates.setdefault(template.feed, template)
    devices = {
        (device.lot, device.spot): (entry, device_id)
        for entry in config.feeds
        if entry.format in LORAWAN_FORMATS
        for device_id, device in entry.devices.items()
    }
    out: list[_Source] = []
    for lot in config.lots:
        spot, gate, status = templates.get("spot"), templates.get("gate"), templates.get("lot")
        for ids in lot.spot_ids().values():
            for bay in ids:
                device = devices.get((lot.id, bay))
                if device is not None:
                    out.append(_Source("lorawan", "", lot, device=device))
                elif spot is not None:
                    out.append(_Source("spot", spot.format(lot=lot.id, spot=bay), lot))
        if gate is not None and "gate" in lot.sources:
            out.extend(_Source("gate", gate.format(lot=lot.id, gate=g), lot) for g in lot.gates)
        if status is not None and "lot" in lot.sources:
            out.append(_Source("lot", status.format(lot=lot.id), lot))
    return out


def _payload(source: _Source, ts: datetime) -> bytes:
    """The next message of a source; every one is new (rising seq / ts / counters)."""
    source.sent += 1
    k = source.sent
    stamp = ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if source.kind == "spot":
        return orjson.dumps({"occupied": k % 2 == 0, "ts": stamp, "seq": k})
    if source.device is not None:
        entry, device_id = source.device
        return uplink(entry, device_id, k, stamp, k % 2 == 0, battery=87.0)[1]
    if source.kind == "gate":
        # first a baseline, then one entry, one exit, ...: the count never leaves 0..capacity
        return orjson.dumps({"entries": 1000 + k // 2, "exits": 1000 + (k - 1) // 2, "ts": stamp})
    capacities = source.lot.capacities()
    categories = {name: cap // 2 for name, cap in capacities.items()}
    if "general" in categories:
        categories["general"] -= k % 2
    return orjson.dumps(
        {
            "free": sum(categories.values()),
            "capacity": sum(capacities.values()),
            "categories": categories,
            "ts": stamp,
        }
    )


def feed_messages(config: Config, start: datetime | None = None) -> Iterator[tuple[str, bytes]]:
    """Endless valid feed messages for every bay, lot system and gate of the site, round robin."""
    sources = _sources(config)
    if not sources:
        raise ValueError("the site has no lot with an enabled feed")
    for source in sources:
        if source.device is not None:
            entry, device_id = source.device
            source.topic = uplink(entry, device_id, 0, "", False)[0]
    ts = start or datetime.now(UTC)
    step = timedelta(milliseconds=1)
    while True:
        for source in sources:
            ts += step
            yield source.topic, _payload(source, ts)


def first_messages(config: Config, count: int) -> list[tuple[str, bytes]]:
    """The first `count` messages of `feed_messages`."""
    return list(islice(feed_messages(config), count))


def source_count(config: Config) -> int:
    """How many publishers the site has (one message each fills every lot once)."""
    return len(_sources(config))
