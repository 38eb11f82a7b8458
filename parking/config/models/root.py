"""The root of the config: every section, and the checks that join them (ids, references)."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from parking.config.models.boards import Board
from parking.config.models.common import Model, _unique
from parking.config.models.defaults import Defaults
from parking.config.models.feeds import DEFAULT_FEEDS, FeedEntry, _old_style_feeds
from parking.config.models.guidance import GuidanceConfig
from parking.config.models.hospitals import Destination, Hospital
from parking.config.models.http import HttpConfig
from parking.config.models.lots import Lot
from parking.config.models.mqtt import MqttConfig
from parking.config.models.ops import OpsConfig
from parking.config.models.roads import Roads
from parking.config.models.signage import SignageConfig
from parking.config.models.site import Site
from parking.config.models.store import StoreConfig


class Config(Model):
    site: Site = Field(description="The site: its name, time zone and default language.")
    mqtt: MqttConfig = Field(
        MqttConfig(), description="The broker that sensors, gate systems and lot systems publish to."
    )
    feeds: list[FeedEntry] = Field(
        default_factory=lambda: [FeedEntry(format=fmt, topic=topic) for fmt, topic in DEFAULT_FEEDS],
        description="The feeds, each a format, a topic template and that format's options.",
    )
    http: HttpConfig = Field(
        HttpConfig(), description="The web server: where it listens, and the connections it keeps."
    )
    defaults: Defaults = Field(
        Defaults(), description="Values that lots and boards use unless they set their own."
    )
    hospitals: list[Hospital] = Field(
        min_length=1, description="The hospitals and the destinations inside them; at least one."
    )
    lots: list[Lot] = Field(
        min_length=1, description="The lots (car parks, street bays) drivers can park in; at least one."
    )
    boards: list[Board] = Field(
        default_factory=list, description="Guidance boards (LED signs); a site may have none."
    )
    roads: Roads = Field(description="The road network for drive times and turn arrows.")
    guidance: GuidanceConfig = Field(
        GuidanceConfig(), description="Answers to drivers and the expected-space model behind them."
    )
    signage: SignageConfig = Field(
        SignageConfig(), description="What LED boards show when the engine has nothing fresh to say."
    )
    store: StoreConfig = Field(
        StoreConfig(), description="PostgreSQL: history, the event log and what a restart recovers."
    )
    ops: OpsConfig = Field(
        default_factory=OpsConfig, description="Who may use the ops dashboard and its APIs."
    )

    @field_validator("feeds", mode="before")
    @classmethod
    def _feeds_are_a_list(cls, value: object) -> object:
        if isinstance(value, dict):
            raise ValueError(_old_style_feeds(value))
        return value

    @model_validator(mode="after")
    def _references_resolve(self) -> Config:
        _unique("hospitals", [h.id for h in self.hospitals])
        _unique("lots", [lot.id for lot in self.lots])
        _unique("boards", [b.id for b in self.boards])
        lot_ids = {lot.id for lot in self.lots}
        destinations = self.destination_ids()
        for lot in self.lots:
            for entrance in lot.entrances:
                if (
                    entrance.node is not None
                    and self.roads.file is None
                    and entrance.node not in self.roads.nodes
                ):
                    raise ValueError(
                        f"lot {lot.id!r} entrance {entrance.id!r}: unknown road node {entrance.node!r}"
                    )
            for dest in lot.walk_s:
                if dest not in destinations:
                    raise ValueError(f"lot {lot.id!r} walk_s: unknown destination {dest!r}")
        for board in self.boards:
            if board.node is not None and self.roads.file is None and board.node not in self.roads.nodes:
                raise ValueError(f"board {board.id!r}: unknown road node {board.node!r}")
            if board.destination not in destinations:
                raise ValueError(
                    f"board {board.id!r}: unknown destination {board.destination!r} "
                    f"(known: {', '.join(sorted(destinations))})"
                )
            for lot_id in board.pinned:
                if lot_id not in lot_ids:
                    raise ValueError(f"board {board.id!r}: pinned lot {lot_id!r} is not a lot")
        self._devices_resolve()
        return self

    def _devices_resolve(self) -> None:
        """Every LoRaWAN device names a bay of a lot with bay sensors, and no bay has two devices."""
        if not any(entry.devices for entry in self.feeds):
            return
        bays = {lot.id: {s for ids in lot.spot_ids().values() for s in ids} for lot in self.lots}
        taken: dict[tuple[str, str], str] = {}
        for entry in self.feeds:
            for device_id, device in entry.devices.items():
                lot_bays = bays.get(device.lot)
                if lot_bays is None:
                    raise ValueError(f"device {device_id!r}: unknown lot {device.lot!r}")
                if device.spot not in lot_bays:
                    raise ValueError(f"device {device_id!r}: lot {device.lot!r} has no spot {device.spot!r}")
                other = taken.setdefault((device.lot, device.spot), device_id)
                if other != device_id:
                    raise ValueError(
                        f"device {device_id!r}: bay {device.spot!r} of lot {device.lot!r} "
                        f"already has device {other!r}"
                    )

    def destination_ids(self) -> dict[str, Destination]:
        """All destinations by 'hospital/destination' id."""
        return {f"{h.id}/{d.id}": d for h in self.hospitals for d in h.destinations}

    def lot(self, lot_id: str) -> Lot:
        """The lot with this id (KeyError if none)."""
        for lot in self.lots:
            if lot.id == lot_id:
                return lot
        raise KeyError(lot_id)
