"""The `hospitals` section: each hospital and the destinations inside it."""

from __future__ import annotations

from pydantic import Field

from parking.config.models.common import Ident, Latitude, Longitude, Model


class Destination(Model):
    id: Ident
    name: str
    lat: Latitude
    lon: Longitude


class Hospital(Model):
    id: Ident
    name: str
    destinations: list[Destination] = Field(min_length=1)
