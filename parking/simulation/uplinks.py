"""Uplinks as LoRaWAN network servers publish them, for the simulator and the benchmarks.

The shapes follow the documented examples (The Things Stack "Data Formats",
ChirpStack v4 "Event types: up"), with the device's decoded payload where its
codec puts it. `topic_fields` fills any topic template's placeholders for a device.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

import orjson

from parking.config.models import FeedEntry

_DEV_EUI = re.compile(r"^[0-9a-f]{16}$")


def dev_eui_of(device_id: str) -> str:
    """The device's DevEUI: its id when that is one, else 16 hex digits derived from it."""
    if _DEV_EUI.match(device_id):
        return device_id
    return hashlib.blake2b(device_id.encode(), digest_size=8).hexdigest()


def topic_fields(entry: FeedEntry, device_id: str) -> dict[str, str]:
    """Values for every placeholder of a LoRaWAN feed's topic template, for one device."""
    names = re.findall(r"\{([a-z_]+)\}", entry.topic)
    values = {"device": device_id, "device_id": device_id, "dev_eui": dev_eui_of(device_id)}
    values["deveui"] = values["dev_eui"]
    return {name: values.get(name, "parking-guide" if "app" in name else "sim") for name in names}


def decoded(entry: FeedEntry, device_id: str, occupied: bool, battery: float | None) -> dict[str, Any]:
    """What the device's codec would decode: its occupied field (a dotted path), and the battery."""
    device = entry.devices[device_id]
    path = entry.occupied_field_of(device).split(".")
    out: dict[str, Any] = {}
    inner = out
    for key in path[:-1]:
        inner = inner.setdefault(key, {})
    inner[path[-1]] = occupied
    if battery is not None:
        out["battery"] = battery
    return out


def ttn_v3_uplink(
    entry: FeedEntry,
    device_id: str,
    f_cnt: int,
    received_at: str,
    payload: dict[str, Any],
    rssi: float,
    snr: float,
) -> bytes:
    """The Things Stack v3 uplink message."""
    return orjson.dumps(
        {
            "end_device_ids": {
                "device_id": device_id,
                "application_ids": {"application_id": "parking-guide"},
                "dev_eui": dev_eui_of(device_id).upper(),
            },
            "received_at": received_at,
            "uplink_message": {
                "f_port": 1,
                "f_cnt": f_cnt,
                "decoded_payload": payload,
                "rx_metadata": [{"gateway_ids": {"gateway_id": "gtw1"}, "rssi": rssi, "snr": snr}],
                "received_at": received_at,
            },
        }
    )


def chirpstack_v4_up(
    entry: FeedEntry, device_id: str, f_cnt: int, time: str, payload: dict[str, Any], rssi: float, snr: float
) -> bytes:
    """ChirpStack v4 `up` event."""
    return orjson.dumps(
        {
            "deduplicationId": str(
                uuid.UUID(bytes=hashlib.blake2b(f"{device_id}/{f_cnt}".encode(), digest_size=16).digest())
            ),
            "time": time,
            "deviceInfo": {
                "applicationName": "parking-guide",
                "deviceProfileName": device_id.split("-")[0],
                "deviceName": device_id,
                "devEui": dev_eui_of(device_id),
            },
            "fCnt": f_cnt,
            "fPort": 1,
            "object": payload,
            "rxInfo": [{"gatewayId": "0016c001f153a14c", "rssi": rssi, "snr": snr}],
        }
    )


def uplink(
    entry: FeedEntry,
    device_id: str,
    f_cnt: int,
    at: str,
    occupied: bool,
    *,
    battery: float | None = None,
    rssi: float = -90.0,
    snr: float = 7.5,
) -> tuple[str, bytes]:
    """(topic, payload) of one uplink of a mapped device in its feed's format."""
    payload = decoded(entry, device_id, occupied, battery)
    build = ttn_v3_uplink if entry.format == "ttn-v3" else chirpstack_v4_up
    topic = entry.topic.format(**topic_fields(entry, device_id))
    return topic, build(entry, device_id, f_cnt, at, payload, rssi, snr)
