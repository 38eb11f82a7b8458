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


def road_problems(config: Config, *, routes: bool = True) -> list[str]:
    """What stops guidance on this config's roads, as config problems: the graph file cannot be read,
    a board or lot entrance names a node the graph does not have; with `routes`, a board reaches
    no lot by road (that builds the drive table, the costly part of start-up)."""
    file = config.roads.file
    if file is None:
        roads = build_road_graph(config.roads)
    else:
        try:
            roads, _ = load_graph(Path(file))
        except GraphFileError as exc:
            return [f"roads.file: {exc}"]
    where = f"the road graph {file}" if file is not None else "roads.nodes"
    problems = [
        f"lots[{i}].entrances[{j}].node: {entrance.node!r} is not a node of {where}"
        for i, lot in enumerate(config.lots)
        for j, entrance in enumerate(lot.entrances)
        if entrance.node is not None and entrance.node not in roads.coords
    ]
    problems += [
        f"boards[{i}].node: {board.node!r} is not a node of {where}"
        for i, board in enumerate(config.boards)
        if board.node is not None and board.node not in roads.coords
    ]
    if problems or not routes:
        return problems
    table = RouteTable(config, roads)
    return [
        f"boards[{i}]: no lot can be reached by road from board {board.id!r}"
        + (f" facing {board.facing_deg:g} degrees" if board.facing_deg is not None else "")
        for i, board in enumerate(config.boards)
        if not table.reaches(board.id)
    ]


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
