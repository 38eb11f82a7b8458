"""(d) Guidance at city scale: position queries, start-up and OSM import, each beside a baseline.

A synthetic city: a street grid of at least 100,000 nodes (~150 m blocks, every
fifth street one-way, a banned turn every few hundred junctions), 200 lots and
50 boards placed at random (fixed seed), saved as a graph file the way
`parking-guide import-osm` saves one. Measured in this process:

- start-up: load the graph file, build the drive table and every board's reaches
  (what `create_app` does before serving);
- a position query: snap a random position, rank every lot (expected space,
  risk, detours) and draw the top five routes; its p50/p99 over many queries,
  against networkx's single-source Dijkstra from the same nodes on the same graph;
- the import of the committed Helsinki extract (read, build, save).
"""

from __future__ import annotations

import random
import statistics
import time
from pathlib import Path
from types import MappingProxyType
from typing import Any

import networkx as nx

from bench.report import Figure
from parking.availability.views import CategoryView, LotView
from parking.config.models import Config
from parking.geo import bearing_deg, distance_m
from parking.guidance.drive import TurnRestriction
from parking.guidance.expected import Outlook
from parking.guidance.graph import RoadGraph
from parking.roads.graphfile import save_graph
from parking.roads.load import build_guidance
from parking.roads.osm import read_osm
from parking.types import GENERAL, Status

HELSINKI = Path(__file__).resolve().parent.parent / "tests" / "data" / "helsinki-centre.osm.pbf"
P99_TARGET_MS = 20.0
STARTUP_TARGET_S = 30.0
SEED = 8


def city(side: int, rng: random.Random) -> RoadGraph:
    """A side x side street grid around 60.17 N: ~150 m blocks, every fifth street one-way."""
    lat0, lon0, step_lat, step_lon = 60.0, 24.0, 0.00135, 0.0027
    coords = {
        f"{r}.{c}": (lat0 + r * step_lat, lon0 + c * step_lon) for r in range(side) for c in range(side)
    }
    graph = nx.DiGraph()
    edges = []
    for r in range(side):
        for c in range(side):
            for dr, dc, line in ((0, 1, r), (1, 0, c)):
                if r + dr >= side or c + dc >= side:
                    continue
                u, v = f"{r}.{c}", f"{r + dr}.{c + dc}"
                pairs = [(u, v)] if line % 5 == 0 else [(u, v), (v, u)]
                speed = 13.9 if line % 10 == 0 else 8.3
                for a, b in pairs:
                    (la, oa), (lb, ob) = coords[a], coords[b]
                    length = distance_m(la, oa, lb, ob)
                    edges.append(
                        (
                            a,
                            b,
                            {
                                "travel_s": length / speed,
                                "length_m": length,
                                "bearing": bearing_deg(la, oa, lb, ob),
                            },
                        )
                    )
    graph.add_edges_from(edges)
    junctions = rng.sample(sorted(graph.nodes), len(coords) // 300)
    rules = []
    for via in junctions:
        ins, outs = list(graph.pred[via]), list(graph.succ[via])
        a, b = rng.choice(ins), rng.choice(outs)
        if a != b:
            rules.append(TurnRestriction("no", a, via, b))
    return RoadGraph(graph, coords, rules)


def site(roads: RoadGraph, graph_file: Path, lots: int, boards: int, rng: random.Random) -> Config:
    """A config on the city: one hospital in the middle, lots and boards at random nodes."""
    nodes = sorted(roads.coords)
    lat, lon = roads.coords[nodes[len(nodes) // 2]]
    lot_nodes = rng.sample(nodes, lots)
    board_nodes = rng.sample(nodes, boards)
    data: dict[str, Any] = {
        "site": {"name": "Synthetic city", "timezone": "UTC"},
        "hospitals": [
            {
                "id": "h",
                "name": "Hospital",
                "destinations": [{"id": "main", "name": "Door", "lat": lat, "lon": lon}],
            }
        ],
        "lots": [
            {
                "id": f"lot{i}",
                "name": f"Lot {i}",
                "feed": "lot",
                "lat": roads.coords[n][0],
                "lon": roads.coords[n][1],
                "capacity": {GENERAL: 50 + 10 * (i % 40)},
                "entrances": [{"lat": roads.coords[n][0], "lon": roads.coords[n][1], "node": n}],
            }
            for i, n in enumerate(lot_nodes)
        ],
        "boards": [
            {
                "id": f"b{i}",
                "name": f"Board {i}",
                "lat": roads.coords[n][0],
                "lon": roads.coords[n][1],
                "facing_deg": 90 * (i % 4),
                "node": n,
                "destination": "h/main",
            }
            for i, n in enumerate(board_nodes)
        ],
        "roads": {"file": str(graph_file)},
    }
    return Config.model_validate(data)


def views_for(config: Config, rng: random.Random) -> dict[str, LotView]:
    """Every lot open, with a random free count and fill rate."""
    out = {}
    for lot in config.lots:
        capacity = lot.capacities()[GENERAL]
        free = rng.randint(0, capacity)
        status: Status = "full" if free == 0 else "open"
        out[lot.id] = LotView(
            lot.id, status, free, capacity, "stable", rng.uniform(-300, 100),
            {GENERAL: CategoryView(free, capacity, status)}, True,
        )  # fmt: skip
    return out


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_guidance(
    workdir: Path, side: int, queries: int, baseline_queries: int
) -> tuple[list[Figure], dict[str, Any]]:
    """Build the city, then time start-up, position queries and the networkx baseline."""
    rng = random.Random(SEED)
    built = time.perf_counter()
    roads = city(side, rng)
    graph_file = workdir / "city.npz"
    save_graph(graph_file, roads, {"source": "synthetic grid"})
    build_s = time.perf_counter() - built
    config = site(roads, graph_file, lots=200, boards=50, rng=rng)
    started = time.perf_counter()
    guidance = build_guidance(config)
    startup_s = time.perf_counter() - started
    views = views_for(config, rng)
    pending = Outlook(MappingProxyType({f"lot{i}": rng.uniform(0, 20) for i in range(0, 200, 3)}))
    bounds = [roads.coords["0.0"], roads.coords[f"{side - 1}.{side - 1}"]]
    query_ms: list[float] = []
    for _ in range(queries):
        lat = rng.uniform(bounds[0][0], bounds[1][0])
        lon = rng.uniform(bounds[0][1], bounds[1][1])
        t0 = time.perf_counter()
        origin = guidance.snap(lat, lon)
        recs = guidance.recommend(origin, "h/main", views, limit=5, outlook=pending)
        query_ms.append((time.perf_counter() - t0) * 1000)
        assert recs, "a position query found no lot"
    graph = roads.graph
    nodes = sorted(graph.nodes)
    nx_ms: list[float] = []
    for _ in range(baseline_queries):
        source = rng.choice(nodes)
        t0 = time.perf_counter()
        nx.single_source_dijkstra_path_length(graph, source, weight="travel_s")
        nx_ms.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    osm = read_osm(HELSINKI)
    save_graph(workdir / "helsinki.npz", osm.road_graph(), {"source": HELSINKI.name})
    import_s = time.perf_counter() - t0
    n_nodes, n_arcs = graph.number_of_nodes(), graph.number_of_edges()
    details = {
        "nodes": n_nodes,
        "arcs": n_arcs,
        "restrictions": len(roads.restrictions),
        "city_build_s": round(build_s, 2),
        "startup_s": round(startup_s, 2),
        "query_ms": {
            "p50": statistics.median(query_ms),
            "p99": _percentile(query_ms, 0.99),
            "n": len(query_ms),
        },
        "networkx_ms": {"p50": statistics.median(nx_ms), "p99": _percentile(nx_ms, 0.99), "n": len(nx_ms)},
        "helsinki_import_s": round(import_s, 3),
        "helsinki_nodes": osm.graph.number_of_nodes(),
    }
    where = (
        f"{n_nodes:,}-node grid, {n_arcs:,} arcs, {len(roads.restrictions)} banned turns, 200 lots, 50 boards"
    )
    p99 = details["query_ms"]["p99"]
    return [
        Figure(
            "guidance", "position query p50", details["query_ms"]["p50"], "ms", details["networkx_ms"]["p50"],
            note=f"{where}; snap + rank 200 lots + top-5 routes; baseline networkx single-source Dijkstra",
        ),
        Figure(
            "guidance", "position query p99", p99, "ms", details["networkx_ms"]["p99"],
            f"< {P99_TARGET_MS:g} ms", p99 < P99_TARGET_MS, f"{len(query_ms)} queries, {len(nx_ms)} baseline",
        ),
        Figure(
            "guidance", "start-up: load graph, table, 50 boards", round(startup_s, 2), "s", None,
            f"< {STARTUP_TARGET_S:g} s", startup_s < STARTUP_TARGET_S,
        ),
        Figure(
            "guidance", "import Helsinki extract (read, build, save)", round(import_s, 3), "s", None,
            note=f"{osm.graph.number_of_nodes()} nodes kept; {HELSINKI.name}",
        ),
    ], details  # fmt: skip
