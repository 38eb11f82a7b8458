"""The simulator's own site (lots of every feed kind, Asia/Shanghai), a Wednesday morning to start it,
and decoding its messages the way the ingest does."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from parking.config import Config, load_config_text
from parking.observations import Observation
from sensors.decoders import decoder_for
from sensors.topics import TopicTemplate

TZ = ZoneInfo("Asia/Shanghai")
WEDNESDAY_06 = datetime(2026, 11, 25, 6, 0, tzinfo=TZ)

SITE_YAML = """
site: {name: Simulated site, timezone: Asia/Shanghai}
hospitals:
  - id: general
    name: General Hospital
    destinations: [{id: main, name: Main entrance, lat: 30.0010, lon: 120.0020}]
lots:
  - id: hospital-cp
    name: Hospital car park
    kind: hospital
    feed: gate
    gates: [west, north]
    lat: 30.0009
    lon: 120.0010
    capacity: {general: 300, disabled: 10}
    entrances: [{lat: 30.0009, lon: 120.0010}]
  - id: hospital-surface
    name: Hospital surface lot
    kind: hospital
    feed: spot
    lat: 30.0012
    lon: 120.0012
    spots: {general: H01-H30, disabled: [HD1, HD2]}
    entrances: [{lat: 30.0012, lon: 120.0012}]
  - id: tower
    name: Office tower garage
    kind: office
    feed: lot
    lat: 29.9991
    lon: 120.0031
    capacity: {general: 300, ev: 10}
    entrances: [{lat: 29.9991, lon: 120.0031}]
    opening_hours: [{days: mon-fri, from: "07:00", to: "20:00"}]
  - id: hotel
    name: Hotel car park
    kind: hotel
    feed: gate
    lat: 30.0020
    lon: 120.0040
    capacity: {general: 120}
    entrances: [{lat: 30.0020, lon: 120.0040}]
  - id: street
    name: Street bays
    kind: street
    feed: spot
    lat: 30.0000
    lon: 120.0046
    spots: {general: S01-S12}
    entrances: [{lat: 30.0000, lon: 120.0046}]
roads:
  nodes: {n1: [30.0, 120.0], n2: [30.0, 120.001]}
  ways: [{nodes: [n1, n2]}]
"""


def site(**replace: str) -> Config:
    text = SITE_YAML
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return load_config_text(text, source="<simulated site>", env={})


def decode(config: Config, topic: str, payload: bytes) -> Observation:
    """Decode a message the way ingest does: the first feed template that matches the topic."""
    for entry in config.feeds:
        fields = TopicTemplate(entry.format, entry.topic).match(topic)
        if fields is not None:
            return decoder_for(entry)(fields, payload)
    raise AssertionError(f"no feed template matches {topic!r}")
