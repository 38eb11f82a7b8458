"""LoRaWAN network servers: The Things Stack v3 (`ttn-v3`) and ChirpStack v4 (`chirpstack-v4`) uplinks.

The network server publishes one JSON document per uplink; the device's codec has
already decoded its payload (`decoded_payload`, `object`). A device map from the
config names the bay each device watches; the decoded field that says "occupied"
is set per feed and per device profile. An uplink without that field (a startup
or status frame, or no codec) is a heartbeat: it keeps the sensor alive and
changes nothing. Battery and the best gateway's signal are kept per sensor.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from parking.config.models import Device, FeedEntry
from parking.errors import DecodeError
from parking.observations import SpotObservation
from sensors.decoders.common import optional_count, parse_object, timestamp

Radio = tuple[float | None, float | None]  # rssi (dBm), snr (dB) of the best reception
_OCCUPIED_WORDS = {"occupied": True, "true": True, "free": False, "vacant": False, "false": False}


class LorawanDecoder:
    """Decodes one LoRaWAN feed's uplinks with its device map (a dict look-up per message)."""

    def __init__(self, entry: FeedEntry) -> None:
        self._devices = entry.devices
        # the occupied field as a key path ("status.occupied"), split once per profile
        self._default_path = tuple(entry.occupied_field.split("."))
        self._paths = {name: tuple(p.occupied_field.split(".")) for name, p in entry.profiles.items()}
        self._decode = _ttn_v3 if entry.format == "ttn-v3" else _chirpstack_v4

    def __call__(self, fields: dict[str, str], payload: bytes) -> SpotObservation:
        """The bay observation an uplink makes, or DecodeError."""
        return self._decode(self, fields, parse_object(payload))

    def device(self, *keys: object) -> Device:
        """The first of these ids (device id, DevEUI, topic fields) in the device map."""
        devices = self._devices
        for key in keys:
            if key is None:
                continue
            if not isinstance(key, str):
                raise DecodeError("wrong_type", f"a device id must be a string, got {key!r}")
            device = devices.get(key) or devices.get(key.lower())
            if device is not None:
                return device
        raise DecodeError("unknown_device", "the device is not in the feed's device map")

    def observation(
        self, device: Device, decoded: dict[str, Any], ts: datetime | None, uplink: str, radio: Radio
    ) -> SpotObservation:
        """The observation of a decoded payload for a mapped device."""
        value: object = decoded
        path = self._default_path if device.profile is None else self._paths[device.profile]
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        battery = _number(decoded.get("battery"))
        rssi, snr = radio
        return SpotObservation(
            device.lot,
            device.spot,
            _occupied(value),
            ts=ts,
            uplink=uplink,
            battery=battery,
            rssi=rssi,
            snr=snr,
        )


def _ttn_v3(decoder: LorawanDecoder, fields: dict[str, str], data: dict[str, Any]) -> SpotObservation:
    """The Things Stack v3 uplink (integrations/data-formats: "Uplink Messages")."""
    ids = _object(data, "end_device_ids")
    uplink = _object(data, "uplink_message", required=True)
    device = decoder.device(
        ids.get("device_id"), ids.get("dev_eui"), fields.get("device"), fields.get("dev_eui")
    )
    # empty fields are left out of TTS JSON: no f_cnt is frame 0
    f_cnt = optional_count(uplink, "f_cnt") or 0
    ts = timestamp(uplink, "received_at") or timestamp(data, "received_at")
    decoded = _object(uplink, "decoded_payload")
    battery = decoded.get("battery")
    if battery is None:
        battery = _object(uplink, "last_battery_percentage").get("value")
        decoded = {**decoded, "battery": battery} if battery is not None else decoded
    return decoder.observation(device, decoded, ts, f"f{f_cnt}", _best_signal(uplink.get("rx_metadata")))


def _chirpstack_v4(decoder: LorawanDecoder, fields: dict[str, str], data: dict[str, Any]) -> SpotObservation:
    """ChirpStack v4 `up` event (integrations/events: "up - Uplink event")."""
    info = _object(data, "deviceInfo")
    device = decoder.device(info.get("devEui"), fields.get("dev_eui"), fields.get("device"))
    dedup = data.get("deduplicationId")
    if dedup is not None and not isinstance(dedup, str):
        raise DecodeError("wrong_type", f"'deduplicationId' must be a string, got {dedup!r}")
    f_cnt = optional_count(data, "fCnt") or 0  # protobuf JSON leaves out a zero
    ts = timestamp(data, "time")
    decoded = _object(data, "object")
    return decoder.observation(device, decoded, ts, dedup or f"f{f_cnt}", _best_signal(data.get("rxInfo")))


def _object(data: dict[str, Any], key: str, *, required: bool = False) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        if required:
            raise DecodeError("missing_field", f"{key!r} is required")
        return {}
    if not isinstance(value, dict):
        raise DecodeError("wrong_type", f"{key!r} must be an object")
    return value


def _occupied(value: object) -> bool | None:
    """The decoded occupancy: true/false, 1/0, "occupied"/"free"/"vacant"; None when not given."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = _OCCUPIED_WORDS.get(value.strip().lower())
        if word is not None:
            return word
    raise DecodeError("wrong_type", f"the occupied field must be true/false, got {value!r:.40}")


def _number(value: object) -> float | None:
    """A finite number, else None: radio and battery readings are kept when sane, never fatal."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _best_signal(receptions: object) -> Radio:
    """(rssi, snr) of the gateway that heard the uplink best; (None, None) without any."""
    best: Radio = (None, None)
    if not isinstance(receptions, list):
        return best
    for reception in receptions:
        if not isinstance(reception, dict):
            continue
        rssi = _number(reception.get("rssi"))
        if rssi is not None and (best[0] is None or rssi > best[0]):
            best = (rssi, _number(reception.get("snr")))
    return best
