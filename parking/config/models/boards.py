"""The `boards` section: guidance boards and the traffic passing them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from parking.config.models.common import Category, Ident, Latitude, Longitude, Model


class Board(Model):
    id: Ident = Field(
        description="Unique among boards; in the board URLs (/api/v1/boards/{id}, /go/{id}, /qr/{id}.svg)."
    )
    name: str = Field(description="Where the board is, for people.")
    lat: Latitude = Field(description="Latitude of the board.")
    lon: Longitude = Field(description="Longitude of the board.")
    facing_deg: float = Field(
        ge=0,
        lt=360,
        description="The direction drivers reading it travel (0 north, 90 east); arrows are relative to it.",
    )
    node: str | None = Field(
        None,
        description="The road node at the board, on the road drivers are on; null: the node nearest to it.",
    )
    destination: str = Field(
        description="<hospital id>/<destination id> the board guides to, e.g. general/main."
    )
    pinned: list[Ident] = Field(
        default_factory=list, description="Lots always shown first, whatever their state."
    )
    lines: int | None = Field(
        None,
        ge=1,
        le=12,
        description="Lines the board shows, pinned lots included; null: defaults.board_lines.",
    )
    needs: list[Category] = Field(
        default_factory=list,
        description="For a board serving particular drivers, e.g. [disabled]: lots are ranked by the first.",
    )
    traffic_per_h: float | None = Field(
        None,
        ge=0,
        le=100_000,
        description="Drivers passing the board an hour (estimated); null: guidance.board_traffic_per_h.",
    )
    traffic_by_hour: dict[Annotated[int, Field(ge=0, le=23)], Annotated[float, Field(ge=0, le=100_000)]] = (
        Field(
            default_factory=dict,
            description="Drivers passing it an hour by local hour (0-23); other hours: traffic_per_h.",
        )
    )
