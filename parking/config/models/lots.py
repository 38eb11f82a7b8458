"""The `lots` section: a lot, its entrances, its sources and capacity, and the spot range syntax."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from parking.config.models.common import Category, Ident, Latitude, Longitude, Model
from parking.config.models.defaults import Thresholds
from parking.config.models.hours import TimeWindow

_RANGE = re.compile(r"^(?P<prefix>[A-Za-z_\-]*)(?P<start>\d+)-(?P=prefix)(?P<end>\d+)$")


class Entrance(Model):
    id: Ident = Field("main", description="Name of the entrance within the lot.")
    lat: Latitude = Field(description="Latitude of the entrance; navigation links lead drivers here.")
    lon: Longitude = Field(description="Longitude of the entrance.")
    node: str | None = Field(
        None,
        description="The road node drivers are routed to for this entrance; null: the node nearest to it.",
    )


LotKind = Literal["hospital", "office", "hotel", "mall", "street", "public", "other"]
FeedKind = Literal["spot", "lot", "gate"]


class Lot(Model):
    id: Ident = Field(description="Unique among lots; the {lot} level of its topics.")
    name: str = Field(description="Full name (driver page, dashboard).")
    label: str | None = Field(
        None, max_length=24, description="Short name for boards; null: the first 24 characters of name."
    )
    kind: LotKind = Field(
        "other", description="What the lot is: hospital, office, hotel, mall, street, public or other."
    )
    feed: FeedKind | list[FeedKind] = Field(
        description="What counts the lot: bay sensors (spot), its own system (lot), gate counters (gate)."
    )
    lat: Latitude = Field(description="Latitude of the middle of the lot (for maps).")
    lon: Longitude = Field(description="Longitude of the middle of the lot (for maps).")
    capacity: dict[Category, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict,
        description="Spaces per category without bay sensors, e.g. {general: 300, disabled: 12}.",
    )
    capacity_estimated: bool = Field(
        False,
        description="The capacity is a guess (import-osm found no capacity tag); check warns while true.",
    )
    spots: dict[Category, str | list[str]] = Field(
        default_factory=dict,
        description="The bay ids per category with bay sensors: a range (H001-H040) or a list.",
    )
    entrances: list[Entrance] = Field(min_length=1, description="Where cars drive in; at least one.")
    gates: list[Ident] = Field(
        default_factory=list, description="For feed gate: the gate ids, the {gate} level of its topics."
    )
    freshness_s: int | None = Field(None, ge=10, description="Overrides defaults.freshness_s for this lot.")
    min_reported_share: float | None = Field(
        None, gt=0, le=1, description="For feed spot only: overrides defaults.min_reported_share."
    )
    sensor_silence_s: int | None = Field(
        None, ge=60, description="For feed spot only: overrides defaults.sensor_silence_s."
    )
    thresholds: Thresholds | None = Field(None, description="Overrides defaults.thresholds as a whole.")
    opening_hours: list[TimeWindow] = Field(
        default_factory=list,
        description="When the lot is open; empty means always. Outside these the lot is closed.",
    )
    guidance_windows: list[TimeWindow] = Field(
        default_factory=list,
        description="When the lot takes the visitors guidance sends; empty means always.",
    )
    height_limit_m: float | None = Field(
        None,
        gt=0,
        description="Clearance of the entrance, for filtering out lots a tall vehicle cannot enter.",
    )
    walk_s: dict[str, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict,
        description="Known walking times from this lot to destinations (hospital/destination ids).",
    )

    @field_validator("feed")
    @classmethod
    def _sources_listed_once(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list):
            if not value:
                raise ValueError("list at least one source: spot, lot or gate")
            if len(set(value)) != len(value):
                raise ValueError("a source is listed twice")
        return value

    @model_validator(mode="after")
    def _capacity_matches_feed(self) -> Lot:
        if "spot" in self.sources:
            self._check_bays()
        else:
            self._check_counted()
        return self

    def _check_bays(self) -> None:
        """A lot with bay sensors: its spots give their categories' capacity, and each bay is listed once."""
        if not self.spots:
            raise ValueError("a lot with feed 'spot' lists its spots (spots: {category: ids})")
        if self.capacity and self.sources == {"spot"}:
            raise ValueError("a lot with feed 'spot' takes its capacity from spots; drop capacity")
        for category in self.capacity:
            if category in self.spots:
                raise ValueError(
                    f"category {category!r} has bays in spots, which give its capacity; drop it from capacity"
                )
        seen: set[str] = set()
        for ids in self.spot_ids().values():
            for spot in ids:
                if spot in seen:
                    raise ValueError(f"spot {spot!r} is listed twice")
                seen.add(spot)

    def _check_counted(self) -> None:
        """A lot counted by a lot system or gates: a capacity, and none of the bay-sensor keys."""
        feed = self.feed if isinstance(self.feed, str) else "/".join(self.feed)
        if self.spots:
            raise ValueError(f"spots are only for feed 'spot', this lot has feed {feed!r}")
        if self.min_reported_share is not None:
            raise ValueError(f"min_reported_share is only for feed 'spot', this lot has feed {feed!r}")
        if self.sensor_silence_s is not None:
            raise ValueError(f"sensor_silence_s is only for feed 'spot', this lot has feed {feed!r}")
        if not self.capacity or sum(self.capacity.values()) == 0:
            raise ValueError("capacity must give at least one category with spaces")

    @property
    def sources(self) -> frozenset[str]:
        """The kinds of source that count this lot: 'spot' (bay sensors), 'lot', 'gate'."""
        return frozenset((self.feed,) if isinstance(self.feed, str) else self.feed)

    @property
    def display_label(self) -> str:
        """The short name shown on boards."""
        return self.label or self.name[:24]

    def spot_ids(self) -> dict[str, list[str]]:
        """Expand spot specs ('A01-A40' or a list) into ids per category."""
        return {cat: _expand_spots(spec) for cat, spec in self.spots.items()}

    def capacities(self) -> dict[str, int]:
        """Capacity per category: the number of bays of a category in `spots`, else from `capacity`."""
        out = {cat: len(ids) for cat, ids in self.spot_ids().items()}
        for category, capacity in self.capacity.items():
            out.setdefault(category, capacity)
        return out


def _expand_spots(spec: str | list[str]) -> list[str]:
    if isinstance(spec, list):
        return [str(s) for s in spec]
    match = _RANGE.match(spec.strip())
    if not match:
        raise ValueError(f"spot range {spec!r} must look like 'A01-A40' (or give a list of ids)")
    prefix, start, end = match["prefix"], match["start"], match["end"]
    width = len(start)
    first, last = int(start), int(end)
    if last < first or last - first > 100_000:
        raise ValueError(f"spot range {spec!r} is empty or too large")
    return [f"{prefix}{n:0{width}d}" for n in range(first, last + 1)]
