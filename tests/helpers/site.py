"""A small, fully known test site: a straight main road with side streets.

    n1 --- n2 --- n3 --- n4 --- n5        (Main Road, two-way, 36 km/h, ~111 m per hop)
           |             |
           n6            n7               (side streets to the lots)

Board `north` stands at n1 facing east. The hospital car park (gate feed) is at
n6, the office tower (lot feed) at n7, the street bays (spot feed) at n5.
"""

from __future__ import annotations

from datetime import UTC, datetime

from parking.availability import Availability
from parking.config import Config, load_config_text
from parking.observations import GateCounterObservation, LotObservation, SpotObservation

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # a Wednesday, 08:00 UTC

SITE_YAML = """
site: {name: Test site, timezone: UTC}
defaults:
  freshness_s: 600
  thresholds: {almost_full_enter_pct: 10, almost_full_exit_pct: 20, full_enter_free: 0, full_exit_free: 3}
hospitals:
  - id: general
    name: General Hospital
    destinations:
      - {id: main, name: Main entrance, lat: 30.0010, lon: 120.0020}
      - {id: emergency, name: Emergency, lat: 30.0000, lon: 120.0045}
lots:
  - id: hospital
    name: Hospital car park
    label: Hospital
    kind: hospital
    feed: gate
    gates: [north, south]
    lat: 30.0009
    lon: 120.0010
    capacity: {general: 100, disabled: 4}
    entrances: [{id: main, lat: 30.0009, lon: 120.0010, node: n6}]
  - id: tower
    name: Nongfa Tower garage
    label: Nongfa Tower
    kind: office
    feed: lot
    lat: 29.9991
    lon: 120.0031
    capacity: {general: 200, ev: 10}
    entrances: [{lat: 29.9991, lon: 120.0031, node: n7}]
    opening_hours: [{days: mon-fri, from: "06:00", to: "22:00"}]
  - id: street
    name: Main Road bays
    label: Street bays
    kind: street
    feed: spot
    lat: 30.0000
    lon: 120.0046
    spots: {general: "S01-S10", ev: [E1, E2]}
    entrances: [{lat: 30.0000, lon: 120.0046, node: n5}]
    freshness_s: 900
  - id: mall
    name: Mall garage
    label: Mall
    kind: mall
    feed: lot
    lat: 30.0009
    lon: 120.0041
    capacity: {general: 500}
    entrances: [{lat: 30.0009, lon: 120.0041, node: n5}]
    guidance_windows: [{days: daily, from: "07:00", to: "10:00"}]
boards:
  - {id: north, name: Main Road westbound, lat: 30.0, lon: 120.0, facing_deg: 90, node: n1,
     destination: general/main, pinned: [hospital], lines: 3}
roads:
  nodes:
    n1: [30.0000, 120.0000]
    n2: [30.0000, 120.00115]
    n3: [30.0000, 120.0023]
    n4: [30.0000, 120.00345]
    n5: [30.0000, 120.0046]
    n6: [30.0009, 120.00115]
    n7: [29.9991, 120.00345]
  ways:
    - {name: Main Road, nodes: [n1, n2, n3, n4, n5], speed_kmh: 36}
    - {name: Hospital Lane, nodes: [n2, n6], speed_kmh: 18}
    - {name: Tower Lane, nodes: [n4, n7], speed_kmh: 18}
"""


# The test site for an engine on the wall clock (a child process): the tower open at any hour
# and on any day, as it is at T0, so that what such a spec sees does not depend on when it runs.
TOWER_HOURS = '    opening_hours: [{days: mon-fri, from: "06:00", to: "22:00"}]\n'
WALL_CLOCK_SITE_YAML = SITE_YAML.replace(TOWER_HOURS, "")
assert WALL_CLOCK_SITE_YAML != SITE_YAML


def site_config(**replace: str) -> Config:
    """The test site, with optional text replacements applied to the YAML first."""
    text = SITE_YAML
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return load_config_text(text, source="<test site>", env={})


def fill_all(state: Availability) -> None:
    """Every lot of the test site heard from at T0, with room in each (the street: S01 and S02 free)."""
    state.apply(LotObservation("hospital", free=104, categories={"disabled": 4}), T0)  # counted empty
    state.apply(GateCounterObservation("hospital", "north", 0, 0), T0)
    state.apply(LotObservation("tower", free=80), T0)
    state.apply(LotObservation("mall", free=300), T0)
    for n in range(1, 11):  # every general bay reports; S01 and S02 are free
        state.apply(SpotObservation("street", f"S{n:02d}", occupied=n > 2), T0)
