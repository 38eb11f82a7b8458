"""One pydantic model per config section; unknown keys are errors, cross-references checked."""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Category = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
Ident = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=64)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^(?P<prefix>[A-Za-z_\-]*)(?P<start>\d+)-(?P=prefix)(?P<end>\d+)$")


class Model(BaseModel):
    """Base: immutable, and a typo in a key is an error rather than a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsConfig(Model):
    enabled: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure: bool = False


class MqttConfig(Model):
    host: str = "127.0.0.1"
    port: int = Field(1883, ge=1, le=65535)
    client_id: str = "parking-guide"
    username: str | None = None
    password: str | None = None
    tls: TlsConfig = TlsConfig()
    keepalive_s: int = Field(30, ge=5, le=3600)
    protocol: Literal["auto", "mqttv5", "mqttv311"] = "auto"
    clean_start: bool = False
    session_expiry_s: int = Field(86_400, ge=0, le=4_294_967_295)
    reconnect_min_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(30.0, gt=0)
    max_payload_bytes: int = Field(4096, ge=64, le=1_048_576)
    max_silence_s: float | None = Field(300.0, gt=0)

    @model_validator(mode="after")
    def _backoff_range(self) -> MqttConfig:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be >= reconnect_min_s")
        return self


FeedFormat = Literal["spot", "lot", "gate", "ttn-v3", "chirpstack-v4"]
FEED_FORMATS: tuple[str, ...] = ("spot", "lot", "gate", "ttn-v3", "chirpstack-v4")
LORAWAN_FORMATS = ("ttn-v3", "chirpstack-v4")
# The placeholders each plain format takes and needs; LoRaWAN topics may name any (ids come from the payload).
_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "spot": ("lot", "spot"),
    "lot": ("lot",),
    "gate": ("lot", "gate"),
}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_DEV_EUI = re.compile(r"^[0-9A-Fa-f]{16}$")
DEFAULT_FEEDS: tuple[tuple[str, str], ...] = (
    ("spot", "parking/{lot}/spots/{spot}"),
    ("lot", "parking/{lot}/status"),
    ("gate", "parking/{lot}/gates/{gate}"),
)


class DeviceProfile(Model):
    """How a kind of LoRaWAN device reports occupancy in its decoded payload."""

    occupied_field: str = Field("occupied", min_length=1, max_length=200)


class Device(Model):
    """One LoRaWAN device: the bay it watches, and its profile (None: the feed's own occupied_field)."""

    lot: Ident
    spot: str = Field(min_length=1, max_length=64)
    profile: str | None = None


class FeedEntry(Model):
    """One feed: a format, a topic template, and the format's options (LoRaWAN: a device map)."""

    format: FeedFormat
    topic: str = Field(min_length=1, max_length=1024)
    occupied_field: str = Field("occupied", min_length=1, max_length=200)
    profiles: dict[str, DeviceProfile] = Field(default_factory=dict)
    devices: dict[str, Device] = Field(default_factory=dict)

    @field_validator("devices")
    @classmethod
    def _dev_euis_in_lower_case(cls, value: dict[str, Device]) -> dict[str, Device]:
        # a DevEUI is hex: "0004A30B001C0530" and "0004a30b001c0530" are one device
        if not any(_DEV_EUI.match(key) and not key.islower() for key in value):
            return value
        out: dict[str, Device] = {}
        for key, device in value.items():
            key = key.lower() if _DEV_EUI.match(key) else key
            if key in out:
                raise ValueError(f"device {key!r} is listed twice")
            out[key] = device
        return out

    @model_validator(mode="after")
    def _topic_fits_format(self) -> FeedEntry:
        names = topic_placeholders(self.topic)
        if self.format in _PLACEHOLDERS:
            allowed = _PLACEHOLDERS[self.format]
            for name in names:
                if name not in allowed:
                    braced = ", ".join(f"{{{n}}}" for n in allowed)
                    raise ValueError(
                        f"unknown placeholder {{{name}}} in a {self.format} topic (use {braced})"
                    )
            for name in allowed:
                if name not in names:
                    raise ValueError(f"a {self.format} topic template must contain {{{name}}}")
            if self.devices or self.profiles or self.occupied_field != "occupied":
                raise ValueError(
                    f"devices, profiles and occupied_field are for LoRaWAN feeds, not {self.format}"
                )
        for device_id, device in self.devices.items():
            if device.profile is not None and device.profile not in self.profiles:
                raise ValueError(f"device {device_id!r}: unknown profile {device.profile!r}")
        return self

    def occupied_field_of(self, device: Device) -> str:
        """The decoded-payload field that says whether this device's bay is occupied."""
        return self.occupied_field if device.profile is None else self.profiles[device.profile].occupied_field


def topic_placeholders(template: str) -> list[str]:
    """The placeholder names of a topic template, in order; ValueError if it is malformed.

    A placeholder is `{name}`; several may share a level with literal text (`{app}@{tenant}`),
    but not touch each other, since nothing would tell where one ends.
    """
    if "+" in template or "#" in template:
        raise ValueError("use {placeholders}, not MQTT wildcards (+, #)")
    names: list[str] = []
    for level in template.split("/"):
        rest = _PLACEHOLDER.sub("\0", level)
        if "{" in rest or "}" in rest:
            raise ValueError(f"unbalanced braces in topic level {level!r}")
        if "\0\0" in rest:
            raise ValueError(f"placeholders must be separated by text in topic level {level!r}")
        for name in _PLACEHOLDER.findall(level):
            if not re.fullmatch(r"[a-z][a-z_]*", name):
                raise ValueError(f"placeholder {{{name}}}: names are lower-case letters and _")
            if name in names:
                raise ValueError(f"placeholder {{{name}}} appears twice")
            names.append(name)
    return names


def _old_style_feeds(value: dict[str, Any]) -> str:
    """The error for a `feeds:` mapping of format -> template, showing the list to write instead."""
    entries = [
        f'{{format: {fmt}, topic: "{topic}"}}' for fmt, topic in value.items() if isinstance(topic, str)
    ]
    example = ", ".join(entries) or '{format: spot, topic: "parking/{lot}/spots/{spot}"}'
    return (
        "feeds is now a list, one entry per feed with its format and topic (formats left out are off; "
        f"see docs/config.md#feeds); write: feeds: [{example}]"
    )


class HttpConfig(Model):
    """The web server: where it listens, and how long and how many connections it keeps."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    public_url: str | None = None
    header_timeout_s: float = Field(10.0, gt=0, le=300)
    keepalive_timeout_s: float = Field(75.0, gt=0, le=3600)
    max_connections: int = Field(4096, ge=1, le=1_000_000)


class Thresholds(Model):
    """Hysteresis: a lot becomes almost_full/full at `*_enter`, and leaves only at `*_exit`."""

    almost_full_enter_pct: float = Field(10.0, ge=0, le=100)
    almost_full_exit_pct: float = Field(15.0, ge=0, le=100)
    full_enter_free: int = Field(0, ge=0)
    full_exit_free: int = Field(2, ge=0)

    @model_validator(mode="after")
    def _exit_above_enter(self) -> Thresholds:
        if self.almost_full_exit_pct < self.almost_full_enter_pct:
            raise ValueError("almost_full_exit_pct must be >= almost_full_enter_pct")
        if self.full_exit_free < self.full_enter_free:
            raise ValueError("full_exit_free must be >= full_enter_free")
        return self


class Defaults(Model):
    freshness_s: int = Field(900, ge=10)
    thresholds: Thresholds = Thresholds()
    walk_speed_mps: float = Field(1.2, gt=0)
    walk_detour_factor: float = Field(1.3, ge=1)
    board_lines: int = Field(3, ge=1, le=12)
    board_ttl_s: int = Field(5, ge=1, le=300)
    # a spot category is unknown until this share of its bays has reported (docs/feeds.md, spot lots)
    min_reported_share: float = Field(0.9, gt=0, le=1)
    # how far ahead of its receipt a message's ts is believed (docs/feeds.md, field types and rules)
    max_ts_ahead_s: float = Field(2.0, ge=0, le=300)
    # how far ahead a sequence number is adopted at once (docs/feeds.md, sequence numbers)
    max_seq_jump: int = Field(10, ge=1, le=999)
    # a bay sensor silent this long counts as unknown, not free (docs/feeds.md, liveness)
    sensor_silence_s: int = Field(1800, ge=60)


class TimeWindow(Model):
    """Days and a local time range; `to` earlier than `from` crosses midnight."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    days: list[str] = Field(default_factory=lambda: list(WEEKDAYS))
    start: time = Field(alias="from")
    end: time = Field(alias="to")

    @field_validator("days", mode="before")
    @classmethod
    def _expand_days(cls, value: object) -> object:
        if isinstance(value, str):
            return _expand_day_spec(value)
        return value

    @field_validator("days")
    @classmethod
    def _known_days(cls, value: list[str]) -> list[str]:
        for day in value:
            if day not in WEEKDAYS:
                raise ValueError(f"unknown day {day!r}; use {', '.join(WEEKDAYS)}")
        return value


def _expand_day_spec(spec: str) -> list[str]:
    """'daily', 'mon-fri', 'sat,sun' -> list of weekday names (unknown names left for the check)."""
    spec = spec.strip().lower()
    if spec in ("daily", "all", "*"):
        return list(WEEKDAYS)
    days: list[str] = []
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            first, last = (p.strip() for p in part.split("-", 1))
            if first in WEEKDAYS and last in WEEKDAYS:
                i, j = WEEKDAYS.index(first), WEEKDAYS.index(last)
                span = range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)]
                days.extend(WEEKDAYS[k] for k in span)
                continue
        days.append(part)
    return days


class Destination(Model):
    id: Ident
    name: str
    lat: Latitude
    lon: Longitude


class Hospital(Model):
    id: Ident
    name: str
    destinations: list[Destination] = Field(min_length=1)


class Entrance(Model):
    id: Ident = "main"
    lat: Latitude
    lon: Longitude
    node: str | None = None


LotKind = Literal["hospital", "office", "hotel", "mall", "street", "public", "other"]
FeedKind = Literal["spot", "lot", "gate"]


class Lot(Model):
    id: Ident
    name: str
    label: str | None = Field(None, max_length=24)
    kind: LotKind = "other"
    # the sources that count the lot: bay sensors (spot), a lot system (lot), gate counters (gate)
    feed: FeedKind | list[FeedKind]
    lat: Latitude
    lon: Longitude
    capacity: dict[Category, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    spots: dict[Category, str | list[str]] = Field(default_factory=dict)
    entrances: list[Entrance] = Field(min_length=1)
    gates: list[Ident] = Field(default_factory=list)
    freshness_s: int | None = Field(None, ge=10)
    min_reported_share: float | None = Field(None, gt=0, le=1)
    sensor_silence_s: int | None = Field(None, ge=60)
    thresholds: Thresholds | None = None
    opening_hours: list[TimeWindow] = Field(default_factory=list)
    guidance_windows: list[TimeWindow] = Field(default_factory=list)
    height_limit_m: float | None = Field(None, gt=0)
    walk_s: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)

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
        sources = self.sources
        feed = self.feed if isinstance(self.feed, str) else "/".join(self.feed)
        if "spot" in sources:
            if not self.spots:
                raise ValueError("a lot with feed 'spot' lists its spots (spots: {category: ids})")
            if self.capacity and sources == {"spot"}:
                raise ValueError("a lot with feed 'spot' takes its capacity from spots; drop capacity")
            for category in self.capacity:
                if category in self.spots:
                    raise ValueError(
                        f"category {category!r} has bays in spots, which give its capacity; "
                        "drop it from capacity"
                    )
            seen: set[str] = set()
            for ids in self.spot_ids().values():
                for spot in ids:
                    if spot in seen:
                        raise ValueError(f"spot {spot!r} is listed twice")
                    seen.add(spot)
        else:
            if self.spots:
                raise ValueError(f"spots are only for feed 'spot', this lot has feed {feed!r}")
            if self.min_reported_share is not None:
                raise ValueError(f"min_reported_share is only for feed 'spot', this lot has feed {feed!r}")
            if self.sensor_silence_s is not None:
                raise ValueError(f"sensor_silence_s is only for feed 'spot', this lot has feed {feed!r}")
            if not self.capacity or sum(self.capacity.values()) == 0:
                raise ValueError("capacity must give at least one category with spaces")
        return self

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


class Way(Model):
    name: str = ""
    nodes: list[str] = Field(min_length=2)
    oneway: bool = False
    speed_kmh: float = Field(30.0, gt=0, le=200)


class Roads(Model):
    """The road network: inline nodes and ways, or a graph file written by `parking-guide import-osm`."""

    file: str | None = None  # relative to the config file
    nodes: dict[str, tuple[Latitude, Longitude]] = Field(default_factory=dict)
    ways: list[Way] = Field(default_factory=list)

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


class Site(Model):
    name: str
    timezone: str = "UTC"
    language: Literal["zh", "en"] = "zh"  # of driver pages when the browser does not say

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class GuidanceConfig(Model):
    """Answers to drivers and the expected-space model behind every recommendation (docs/guidance.md)."""

    max_snap_m: float = Field(300.0, gt=0, le=10_000)
    answer_lots: int = Field(5, ge=1, le=20)
    pending_slack_s: float = Field(300.0, ge=0, le=7200)
    # a lot expected to have fewer free spaces than max(reserve_spaces, reserve_share x capacity)
    # on arrival is never recommended before one that is not
    reserve_spaces: int = Field(3, ge=0, le=1000)
    reserve_share: float = Field(0.05, ge=0, le=1)
    street_search_s: float = Field(60.0, ge=0, le=3600)  # looking for the free bay on a street
    no_alternative_s: float = Field(900.0, ge=0, le=7200)  # a full lot with nowhere else to go: queue
    # a typical stay: an occupied space frees once this often, for the wait when every lot is full
    mean_stay_s: float = Field(2400.0, gt=0, le=86_400)
    board_follow_rate: float = Field(0.3, ge=0, le=1)  # share of a board's traffic that follows line 1
    board_traffic_per_h: float = Field(120.0, ge=0, le=100_000)  # drivers passing a board an hour
    refresh_s: float = Field(5.0, ge=0.5, le=300)  # boards re-ranked for pending arrivals this often
    # when a lot's free count falls, retire as many pending arrivals already due (ETA passed):
    # a driver who has parked is then not counted both in the count and as pending
    settle_pending: bool = True


class SignageConfig(Model):
    """What LED boards show when the engine has nothing fresh to say."""

    fallback_text: str = Field("NO PARKING DATA", min_length=1, max_length=64)


class StoreConfig(Model):
    """PostgreSQL: history, the event log and what a restart recovers (docs/deployment.md, The store)."""

    # postgresql://user@host/db, best from the environment: dsn: ${PARKING_GUIDE_DSN}
    dsn: str | None = None
    # without a dsn, `run` and `demo` start a private PostgreSQL in data_dir (false: no history at all)
    embedded: bool = True
    data_dir: str | None = None
    buffer_rows: int = Field(200_000, ge=100, le=50_000_000)  # rows held while PostgreSQL is away
    batch_rows: int = Field(5_000, ge=1, le=100_000)
    flush_interval_s: float = Field(0.2, gt=0, le=60)
    snapshot_interval_s: float = Field(60.0, ge=1, le=3600)  # every lot, besides on every change
    snapshot_min_spacing_s: float = Field(5.0, ge=0, le=3600)  # at most one change snapshot per lot per ...
    startup_wait_s: float = Field(30.0, ge=0, le=3600)  # for the database at start-up, before going on
    reconnect_min_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(30.0, gt=0)
    retention_days: int | None = Field(400, ge=1)  # observations older than this are deleted; None: kept

    @field_validator("dsn", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value  # `dsn: ${PARKING_GUIDE_DSN:-}` with the variable unset

    @model_validator(mode="after")
    def _backoff_range(self) -> StoreConfig:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be >= reconnect_min_s")
        if self.dsn is not None and not self.dsn.startswith(("postgresql://", "postgres://")):
            raise ValueError("dsn must be a postgresql:// URL")
        return self


OPS_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.@\-]{0,63}$"


class OpsUser(Model):
    """One ops login: a name and an argon2 hash (`parking-guide hash-password`), never a password."""

    name: Annotated[str, Field(pattern=OPS_NAME)]
    password_hash: Annotated[str, Field(pattern=r"^\$argon2(id|i|d)\$")]


class OpsConfig(Model):
    """Who may use the ops dashboard and its APIs (docs/deployment.md, The ops dashboard)."""

    users: list[OpsUser] = Field(default_factory=list)
    # behind a reverse proxy that authenticates: the header naming the user (e.g. X-Remote-User),
    # believed only from the proxy addresses below
    proxy_header: str | None = Field(None, pattern=r"^[A-Za-z0-9\-]{1,64}$")
    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    # signs session cookies; shared by replicas so a session works on each (random per process if unset)
    session_secret: str | None = Field(None, min_length=32)
    session_max_age_s: int = Field(12 * 3600, ge=60, le=30 * 86400)
    secure_cookies: bool = True  # false only for plain-HTTP testing away from localhost
    login_failures: int = Field(5, ge=1, le=100)  # per client address within login_window_s, then 429
    login_window_s: float = Field(300.0, ge=1, le=86400)

    @model_validator(mode="after")
    def _unique_users(self) -> OpsConfig:
        _unique("ops.users", [user.name for user in self.users])
        return self


class Config(Model):
    site: Site
    mqtt: MqttConfig = MqttConfig()
    feeds: list[FeedEntry] = Field(
        default_factory=lambda: [FeedEntry(format=fmt, topic=topic) for fmt, topic in DEFAULT_FEEDS]
    )
    http: HttpConfig = HttpConfig()
    defaults: Defaults = Defaults()
    hospitals: list[Hospital] = Field(min_length=1)
    lots: list[Lot] = Field(min_length=1)
    boards: list[Board] = Field(default_factory=list)
    roads: Roads
    guidance: GuidanceConfig = GuidanceConfig()
    signage: SignageConfig = SignageConfig()
    store: StoreConfig = StoreConfig()
    ops: OpsConfig = Field(default_factory=OpsConfig)

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


def _unique(section: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for ident in ids:
        if ident in seen:
            raise ValueError(f"{section}: id {ident!r} is used twice")
        seen.add(ident)
