"""`parking-guide import-osm`: an extract in, a graph file out, and how far the site's places are from it."""

from __future__ import annotations

import time
from pathlib import Path

from parking.config import Config
from parking.guidance.graph import RoadGraph
from parking.roads.candidates import FAR_M, NEAR_M, board_candidates
from parking.roads.graphfile import save_graph
from parking.roads.lots import candidate_lots
from parking.roads.lots import lots_yaml as lots_to_yaml
from parking.roads.osm import OsmRoads, read_osm

ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"


def import_osm(
    extract: Path, out: Path, config: Config | None, lots_yaml: Path | None, board_candidates: bool = False
) -> int:
    """Read the extract, write the graph file, print what was kept; with a config, the snap distances
    (and with `board_candidates`, where boards could stand on the main roads to each destination)."""
    started = time.perf_counter()
    osm = read_osm(extract)
    read_s = time.perf_counter() - started
    roads = osm.road_graph()
    save_graph(out, roads, {"source": extract.name, "attribution": ATTRIBUTION})
    total_s = time.perf_counter() - started
    _print_stats(osm, roads, extract, out, read_s, total_s)
    if config is not None:
        print_snaps(config, roads)
    if lots_yaml is not None:
        lots, report = candidate_lots(osm.parking, osm.entrances)
        lots_yaml.write_text(lots_to_yaml(lots, ATTRIBUTION), encoding="utf-8")
        print("\n".join(report.lines()))
        print(f"{len(lots)} lots written to {lots_yaml}")
    if board_candidates and config is not None:
        print_board_candidates(config, osm)
    return 0


def print_board_candidates(config: Config, osm: OsmRoads) -> None:
    """Road nodes on the main roads towards each destination where a board could stand."""
    for dest_id, dest in config.destination_ids().items():
        print(f"  board candidates for {dest_id} (main roads {NEAR_M / 1000:g}-{FAR_M / 1000:g} km out,")
        print("  node, facing the traffic driving towards it):")
        for c in board_candidates(osm, dest.lat, dest.lon):
            print(
                f'    node: "{c.node}", facing_deg: {c.facing_deg:g}, lat: {c.lat:.7f}, lon: {c.lon:.7f}'
                f"  # {c.road}, {c.distance_m:.0f} m"
            )


def _print_stats(
    osm: OsmRoads, roads: RoadGraph, extract: Path, out: Path, read_s: float, total_s: float
) -> None:
    stats, graph = osm.stats, roads.graph
    lines = [
        f"{extract}: read in {read_s:.2f} s, graph written to {out} in {total_s:.2f} s in all",
        f"  drivable ways: {stats.ways} ({stats.oneway_ways} one-way, {stats.reversed_ways} oneway=-1,",
        f"                 {stats.roundabout_ways} roundabouts; {stats.cut_ways} cut at the extract's edge)",
        f"  graph:         {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges: the largest",
        f"                 strongly connected component ({stats.nodes_dropped_scc} of "
        f"{stats.nodes_before_scc} nodes left out)",
        f"  dead ends:     {stats.dead_ends} nodes end a road in the source data (U-turns allowed there)",
        f"  cut roads:     {_names(stats.cut_roads)}",
        f"  turn rules:    {stats.restrictions_kept} kept of {stats.restrictions_read} restriction relations",
        f"  parking:       {stats.parking} amenity=parking features",
        f"  data:          {ATTRIBUTION}",
    ]
    print("\n".join(lines))


def _names(names: list[str], most: int = 12) -> str:
    shown = ", ".join(names[:most])
    return (shown + f" and {len(names) - most} more" if len(names) > most else shown) or "none named"


def print_snaps(config: Config, roads: RoadGraph) -> None:
    """How far each lot entrance, board and destination is from the road node it snaps to."""
    print("  snapped to the graph (metres from the nearest road node):")
    rows: list[tuple[str, float, float]] = []
    for lot in config.lots:
        rows += [(f"lot {lot.id} entrance {e.id}", e.lat, e.lon) for e in lot.entrances if e.node is None]
    rows += [(f"board {b.id}", b.lat, b.lon) for b in config.boards if b.node is None]
    rows += [(f"destination {d}", dest.lat, dest.lon) for d, dest in config.destination_ids().items()]
    for label, lat, lon in rows:
        node, snap_m = roads.snap(lat, lon)
        print(f"    {label:<48} {snap_m:8.1f} m  (node {node})")
