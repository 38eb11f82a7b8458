"""Road graph files: the imported graph saved as numpy arrays, loaded in seconds at start-up.

One compressed .npz: node ids and positions, edges (as node numbers) with
travel time, length, bearing and street name, turn restrictions, the nodes
that are dead ends in the source data (version 2; version 1 files have none and
read as before: a node whose only way out is back is one), and a JSON
header (format version, source, attribution). Read only by the composition
root; the YAML config loader never sees it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from parking.errors import ParkingGuideError
from parking.guidance.drive import TurnKind, TurnRestriction
from parking.guidance.graph import RoadGraph

FORMAT = "parking-guide road graph"
VERSION = 2  # 2: adds dead_end (the nodes that end a road in the source data)
READABLE = (1, 2)
KINDS: tuple[TurnKind, ...] = ("no", "only")


class GraphFileError(ParkingGuideError):
    """A graph file cannot be read or is not one of ours."""


def save_graph(path: Path, roads: RoadGraph, meta: Mapping[str, Any]) -> None:
    """Write the road graph to `path` (.npz, compressed)."""
    graph = roads.graph
    nodes = list(graph.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    edges = list(graph.edges(data=True))
    names = sorted({str(d.get("name", "")) for _, _, d in edges})
    name_of = {name: i for i, name in enumerate(names)}
    rules = roads.restrictions
    header = {"format": FORMAT, "version": VERSION, **meta}
    with path.open("wb") as file:
        np.savez_compressed(
            file,
            header=np.array(json.dumps(header)),
            node_ids=np.array(nodes, dtype=str),
            lat=np.array([roads.coords[n][0] for n in nodes], dtype=np.float64),
            lon=np.array([roads.coords[n][1] for n in nodes], dtype=np.float64),
            edge_u=np.array([index[u] for u, _, _ in edges], dtype=np.int32),
            edge_v=np.array([index[v] for _, v, _ in edges], dtype=np.int32),
            travel_s=np.array([d["travel_s"] for _, _, d in edges], dtype=np.float64),
            length_m=np.array([d["length_m"] for _, _, d in edges], dtype=np.float64),
            bearing=np.array([d["bearing"] for _, _, d in edges], dtype=np.float64),
            name=np.array([name_of[str(d.get("name", ""))] for _, _, d in edges], dtype=np.int32),
            names=np.array(names, dtype=str),
            rule_kind=np.array([KINDS.index(r.kind) for r in rules], dtype=np.int8),
            rule_nodes=np.array(
                [[index[r.from_node], index[r.via], index[r.to_node]] for r in rules], dtype=np.int32
            ).reshape(-1, 3),
            dead_end=np.asarray(roads.arcs.u_turn, dtype=np.bool_),  # arcs number the nodes as here
        )


def load_graph(path: Path) -> tuple[RoadGraph, dict[str, Any]]:
    """Read a graph file written by save_graph: the road graph and the file's header."""
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            if header.get("format") != FORMAT or header.get("version") not in READABLE:
                raise GraphFileError(f"{path}: not a version {VERSION} {FORMAT} file")
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, KeyError) as exc:
        raise GraphFileError(f"{path}: cannot read the road graph: {exc}") from exc
    ids = arrays["node_ids"].tolist()
    lats, lons = arrays["lat"].tolist(), arrays["lon"].tolist()
    coords = dict(zip(ids, zip(lats, lons, strict=True), strict=True))
    names = arrays["names"].tolist()
    graph = nx.DiGraph()
    graph.add_nodes_from((node, {"lat": lat, "lon": lon}) for node, (lat, lon) in coords.items())
    graph.add_edges_from(
        (ids[u], ids[v], {"travel_s": t, "length_m": m, "bearing": b, "name": names[n]})
        for u, v, t, m, b, n in zip(
            arrays["edge_u"].tolist(),
            arrays["edge_v"].tolist(),
            arrays["travel_s"].tolist(),
            arrays["length_m"].tolist(),
            arrays["bearing"].tolist(),
            arrays["name"].tolist(),
            strict=True,
        )
    )
    rules = [
        TurnRestriction(KINDS[kind], ids[a], ids[via], ids[b])
        for kind, (a, via, b) in zip(arrays["rule_kind"].tolist(), arrays["rule_nodes"].tolist(), strict=True)
    ]
    dead_end = arrays.get("dead_end")
    dead_ends = (
        None if dead_end is None else [n for n, end in zip(ids, dead_end.tolist(), strict=True) if end]
    )
    return RoadGraph(graph, coords, rules, dead_ends), header
