"""The `hospitals` section: each hospital and the destinations inside it."""

from __future__ import annotations

from pydantic import Field

from parking.config.models.common import Ident, Latitude, Longitude, Model


class Destination(Model):
    id: Ident = Field(description="Unique within its hospital, e.g. main, emergency, outpatient.")
    name: str = Field(description="Shown to drivers.")
    lat: Latitude = Field(description="Latitude of the door people walk to.")
    lon: Longitude = Field(description="Longitude of the door people walk to.")


class Hospital(Model):
    id: Ident = Field(description="Unique among hospitals.")
    name: str = Field(description="Full name.")
    destinations: list[Destination] = Field(
        min_length=1, description="The places inside the hospital people are going to; at least one."
    )
