"""The `boards` section: guidance boards and the traffic passing them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from parking.config.models.common import Category, Ident, Latitude, Longitude, Model


class Board(Model):
    id: Ident
    name: str
    lat: Latitude
    lon: Longitude
    facing_deg: float = Field(ge=0, lt=360)
    node: str | None = None
    destination: str = Field(description="hospital_id/destination_id")
    pinned: list[Ident] = Field(default_factory=list)
    lines: int | None = Field(None, ge=1, le=12)
    needs: list[Category] = Field(default_factory=list)
    # drivers passing the board an hour (estimated); None: guidance.board_traffic_per_h
    traffic_per_h: float | None = Field(None, ge=0, le=100_000)
    # drivers passing it an hour by local hour (0-23, e.g. from traffic counts); other hours: traffic_per_h
    traffic_by_hour: dict[Annotated[int, Field(ge=0, le=23)], Annotated[float, Field(ge=0, le=100_000)]] = (
        Field(default_factory=dict)
    )
