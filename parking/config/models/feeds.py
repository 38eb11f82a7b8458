"""The `feeds` section: each feed's format and topic template, and LoRaWAN device maps."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from parking.config.models.common import Ident, Model

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

    occupied_field: str = Field(
        "occupied",
        min_length=1,
        max_length=200,
        description="The decoded-payload field (a dotted path) that says a bay is occupied.",
    )


class Device(Model):
    """One LoRaWAN device: the bay it watches, and its profile (None: the feed's own occupied_field)."""

    lot: Ident = Field(description="The lot of the bay the device watches; its feed lists spot.")
    spot: str = Field(
        min_length=1, max_length=64, description="The bay the device watches, one of the lot's spots."
    )
    profile: str | None = Field(
        None,
        description="The device's profile among the feed's profiles; null: the feed's own occupied_field.",
    )


class FeedEntry(Model):
    """One feed: a format, a topic template, and the format's options (LoRaWAN: a device map)."""

    format: FeedFormat = Field(description="The payload format: spot, lot, gate, ttn-v3 or chirpstack-v4.")
    topic: str = Field(
        min_length=1,
        max_length=1024,
        description="The topic template; {name} placeholders are read from each message's topic.",
    )
    occupied_field: str = Field(
        "occupied",
        min_length=1,
        max_length=200,
        description="LoRaWAN only: the decoded-payload field (a dotted path) that says a bay is occupied.",
    )
    profiles: dict[str, DeviceProfile] = Field(
        default_factory=dict,
        description="LoRaWAN only: device profiles whose codec names the occupied field otherwise.",
    )
    devices: dict[str, Device] = Field(
        default_factory=dict,
        description="LoRaWAN only: device id or DevEUI -> the lot and spot it watches, and its profile.",
    )

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
