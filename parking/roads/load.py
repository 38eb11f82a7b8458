"""The site's roads and the guidance service over them: from the config's ways, or its graph file."""

from __future__ import annotations

from pathlib import Path

from parking.config import Config
from parking.guidance.graph import RoadGraph, build_road_graph
from parking.guidance.routes import RouteTable
from parking.guidance.service import GuidanceService
from parking.roads.graphfile import GraphFileError, load_graph


def build_guidance(config: Config) -> GuidanceService:
    """The road graph, every board's routes and the guidance service: CPU work, run in an executor."""
    roads = load_roads(config)
    return GuidanceService(config, RouteTable(config, roads), roads)


def load_roads(config: Config) -> RoadGraph:
    """The road graph: built from the config's ways, or read from its graph file (GraphFileError)."""
    if config.roads.file is None:
        return build_road_graph(config.roads)
    roads, _ = load_graph(Path(config.roads.file))
    nodes = [e.node for lot in config.lots for e in lot.entrances] + [b.node for b in config.boards]
    unknown = sorted({node for node in nodes if node is not None and node not in roads.coords})
    if unknown:
        raise GraphFileError(
            f"{config.roads.file}: the config names road nodes the graph does not have: "
            + ", ".join(unknown[:5])
        )
    return roads
