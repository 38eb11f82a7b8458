"""The `roads` section: the road network for drive times and turn arrows."""

from __future__ import annotations

from pydantic import Field, model_validator

from parking.config.models.common import Latitude, Longitude, Model


class Way(Model):
    name: str = Field("", description="Street name.")
    nodes: list[str] = Field(min_length=2, description="The nodes in order; each must be in roads.nodes.")
    oneway: bool = Field(
        False, description="true: traffic flows only in the listed order; otherwise both ways."
    )
    speed_kmh: float = Field(
        30.0,
        gt=0,
        le=200,
        description="Typical speed; the drive time of each edge is its length divided by this.",
    )


class Roads(Model):
    """The road network: inline nodes and ways, or a graph file written by `parking-guide import-osm`."""

    file: str | None = Field(
        None,
        description="A graph from parking-guide import-osm (relative to this file), not nodes and ways.",
    )
    nodes: dict[str, tuple[Latitude, Longitude]] = Field(
        default_factory=dict, description="Junctions and points along roads: id -> [lat, lon]."
    )
    ways: list[Way] = Field(default_factory=list, description="Roads, as sequences of nodes.")

    @model_validator(mode="after")
    def _ways_use_known_nodes(self) -> Roads:
        if self.file is not None:
            if self.nodes or self.ways:
                raise ValueError("give either file (an imported graph) or nodes and ways, not both")
            return self
        if len(self.nodes) < 2 or not self.ways:
            raise ValueError("roads needs at least 2 nodes and 1 way, or a graph file (roads.file)")
        for i, way in enumerate(self.ways):
            for node in way.nodes:
                if node not in self.nodes:
                    raise ValueError(f"ways[{i}] ({way.name or 'unnamed'}) uses unknown node {node!r}")
        return self
