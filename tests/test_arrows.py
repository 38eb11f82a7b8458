"""A board's arrow is the turn at the route's first real choice, not at the first bend (issue #21.4).

       D          The Ramp runs east from the board at A, bends north at B (no other
       |          way on there) to C and on to D; at C the Side Street turns east to E.
       C ---- E
       |
A ---- B
"""

from __future__ import annotations

from parking.config import load_config_text
from parking.guidance.graph import build_road_graph
from parking.guidance.routes import RouteTable

SITE = """
site: {name: Bend, timezone: Europe/Helsinki}
hospitals:
  - id: h
    name: Clinic
    destinations: [{id: main, name: Main door, lat: 60.0010, lon: 24.0045}]
lots:
  - {id: east, name: East, feed: lot, lat: 60.0010, lon: 24.0040, capacity: {general: 20},
     entrances: [{lat: 60.0010, lon: 24.0040, node: E}]}
boards:
  - {id: b, name: Board, lat: 60.0000, lon: 24.0000, node: A, facing_deg: 90, destination: h/main}
roads:
  nodes: {A: [60.0000, 24.0000], B: [60.0000, 24.0020], C: [60.0010, 24.0020],
          D: [60.0020, 24.0020], E: [60.0010, 24.0040]}
  ways:
    - {name: Ramp, nodes: [A, B, C, D], speed_kmh: 36}
    - {name: Side Street, nodes: [C, E], speed_kmh: 36}
"""


def test_a_bend_with_no_other_way_shows_no_arrow_the_first_junction_does() -> None:
    config = load_config_text(SITE, source="<bend>", env={})
    (route,) = RouteTable(config, build_road_graph(config.roads)).routes("b")
    assert route.path == ("A", "B", "C", "E")
    # the road bends left at B, where a driver has no choice; at C the route turns right
    assert route.arrow == "right"


def test_straight_on_at_the_first_junction_is_ahead() -> None:
    config = load_config_text(SITE.replace("node: E}", "node: D}"), source="<bend>", env={})
    (route,) = RouteTable(config, build_road_graph(config.roads)).routes("b")
    assert route.path == ("A", "B", "C", "D")
    assert route.arrow == "ahead"  # before: "left", the bend at B
