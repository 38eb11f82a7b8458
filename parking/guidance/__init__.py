"""Guidance: the road graph, routes from boards to lot entrances, and the ranking (pure)."""

from parking.guidance.graph import RoadGraph, build_road_graph
from parking.guidance.ranking import Candidate, rank
from parking.guidance.routes import Route, RouteTable

__all__ = ["Candidate", "RoadGraph", "Route", "RouteTable", "build_road_graph", "rank"]
