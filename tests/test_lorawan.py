"""LoRaWAN network servers: the documented uplinks of The Things Stack v3 and ChirpStack v4.

The payloads are the vendors' own examples, kept verbatim under tests/fixtures/:
- The Things Stack "Data Formats", uplink message example:
  https://www.thethingsindustries.com/docs/integrations/data-formats/
- ChirpStack v4 "Event types", `up` JSON example:
  https://www.chirpstack.io/docs/chirpstack/integrations/events.html
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from parking.availability import Availability
from parking.config import Config
from parking.errors import DecodeError
from parking.observations import SpotObservation
from sensors.decoders import decoder_for
from sensors.ingest import Dispatcher
from tests.site import T0, site_config

FIXTURES = Path(__file__).parent / "fixtures"
TTN_TOPIC = "v3/app1@ttn/devices/dev1/up"
CS_TOPIC = "application/17c82e96-be03-4f38-aef3-f83d48582d97/device/0101010101010101/event/up"
LORAWAN_FEEDS = """feeds:
  - {format: ttn-v3, topic: "v3/{app}@{tenant}/devices/{device}/up",
     devices: {dev1: {lot: street, spot: S01}, 0004a30b001c0999: {lot: street, spot: S02}}}
  - format: chirpstack-v4
    topic: "application/{app}/device/{dev_eui}/event/up"
    profiles: {milesight: {occupied_field: occupancy}, nested: {occupied_field: status.occupied}}
    devices:
      "0101010101010101": {lot: street, spot: S03}
      "0101010101010102": {lot: street, spot: S04, profile: milesight}
      "0101010101010103": {lot: street, spot: S05, profile: nested}
  - {format: spot, topic: "parking/{lot}/spots/{spot}"}
  - {format: lot, topic: "parking/{lot}/status"}
  - {format: gate, topic: "parking/{lot}/gates/{gate}"}
roads:"""


def lorawan_site() -> Config:
    return site_config(**{"roads:": LORAWAN_FEEDS})


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def ttn(occupied: object = None, **uplink: Any) -> dict[str, Any]:
    data = fixture("ttn-v3-uplink.json")
    if occupied is not None:
        data["uplink_message"]["decoded_payload"]["occupied"] = occupied
    data["uplink_message"].update(uplink)
    return data


def chirpstack(**fields: Any) -> dict[str, Any]:
    data = fixture("chirpstack-v4-up.json")
    data.update(fields)
    return data


def decode(config: Config, fmt: str, topic: str, data: dict[str, Any]) -> SpotObservation:
    entry = next(entry for entry in config.feeds if entry.format == fmt)
    fields = {"device": topic.split("/")[3]} if fmt == "ttn-v3" else {"dev_eui": topic.split("/")[3]}
    obs = decoder_for(entry)(fields, json.dumps(data).encode())
    assert isinstance(obs, SpotObservation)
    return obs


class TestTheThingsStack:
    def test_the_documented_uplink_is_a_heartbeat_with_its_signal(self) -> None:
        # its codec decodes temperature and luminosity: no occupancy, but the sensor is alive
        obs = decode(lorawan_site(), "ttn-v3", TTN_TOPIC, fixture("ttn-v3-uplink.json"))
        assert (obs.lot, obs.spot, obs.occupied) == ("street", "S01", None)
        assert (obs.rssi, obs.snr, obs.uplink) == (-35.0, 5.0, "f1")
        # the Network Server's receipt time orders uplinks
        assert obs.ts == datetime(2020, 2, 12, 15, 15, 45, 789585, tzinfo=UTC)

    def test_a_bosch_style_occupied_field_sets_the_bay(self) -> None:
        obs = decode(lorawan_site(), "ttn-v3", TTN_TOPIC, ttn(occupied=True))
        assert obs.occupied is True

    def test_a_device_is_found_by_its_dev_eui_in_any_case(self) -> None:
        data = ttn(occupied=False)
        data["end_device_ids"]["device_id"] = "renamed"
        data["end_device_ids"]["dev_eui"] = "0004A30B001C0999"
        obs = decode(lorawan_site(), "ttn-v3", "v3/app1@ttn/devices/renamed/up", data)
        assert (obs.spot, obs.occupied) == ("S02", False)

    def test_a_device_not_in_the_map_is_one_drop_reason(self) -> None:
        data = ttn(occupied=True)
        data["end_device_ids"] = {"device_id": "stranger", "dev_eui": "FFFFFFFFFFFFFFFF"}
        with pytest.raises(DecodeError) as info:
            decode(lorawan_site(), "ttn-v3", "v3/app1@ttn/devices/stranger/up", data)
        assert info.value.reason == "unknown_device"

    def test_a_missing_frame_counter_is_frame_zero_as_tts_leaves_zeros_out(self) -> None:
        data = ttn(occupied=True)
        del data["uplink_message"]["f_cnt"]
        assert decode(lorawan_site(), "ttn-v3", TTN_TOPIC, data).uplink == "f0"

    @pytest.mark.parametrize("value", ["maybe", 2, [True], {"x": 1}])
    def test_an_occupied_value_that_says_nothing_is_wrong_type(self, value: object) -> None:
        with pytest.raises(DecodeError) as info:
            decode(lorawan_site(), "ttn-v3", TTN_TOPIC, ttn(occupied=value))
        assert info.value.reason == "wrong_type"


class TestChirpStack:
    def test_the_documented_up_event_is_a_heartbeat_with_its_signal(self) -> None:
        # no codec in its device profile: no `object`, and fCnt 0 is left out of protobuf JSON
        obs = decode(lorawan_site(), "chirpstack-v4", CS_TOPIC, fixture("chirpstack-v4-up.json"))
        assert (obs.lot, obs.spot, obs.occupied) == ("street", "S03", None)
        assert (obs.rssi, obs.snr) == (-36.0, 10.5)
        assert obs.uplink == "3ac7e3c4-4401-4b8d-9386-a5c902f9202d"
        assert obs.ts == datetime(2022, 7, 18, 9, 34, 15, 775023, tzinfo=UTC)

    def test_the_occupied_field_is_set_per_device_profile(self) -> None:
        config = lorawan_site()
        data = chirpstack(object={"occupancy": "vacant", "battery": 93})
        data["deviceInfo"]["devEui"] = "0101010101010102"
        obs = decode(config, "chirpstack-v4", CS_TOPIC, data)
        assert (obs.spot, obs.occupied, obs.battery) == ("S04", False, 93.0)
        data = chirpstack(object={"status": {"occupied": 1}})
        data["deviceInfo"]["devEui"] = "0101010101010103"
        assert decode(config, "chirpstack-v4", CS_TOPIC, data).occupied is True

    def test_without_a_deduplication_id_the_frame_counter_tells_repeats(self) -> None:
        data = chirpstack(object={"occupied": True}, fCnt=42)
        del data["deduplicationId"]
        assert decode(lorawan_site(), "chirpstack-v4", CS_TOPIC, data).uplink == "f42"


class TestUplinksChangeCounts:
    def setup_method(self) -> None:
        self.state = Availability(lorawan_site(), T0)
        self.config = lorawan_site()

    def apply(self, data: dict[str, Any], at: timedelta = timedelta(0)) -> str:
        return self.state.apply(decode(self.config, "ttn-v3", TTN_TOPIC, data), T0 + at).result

    def test_a_duplicate_uplink_changes_nothing(self) -> None:
        assert self.apply(ttn(occupied=True, f_cnt=7, received_at="2026-11-25T07:59:00Z")) == "applied"
        assert self.apply(ttn(occupied=True, f_cnt=7, received_at="2026-11-25T07:59:00Z")) == "duplicate"

    def test_an_older_uplink_delivered_late_changes_nothing(self) -> None:
        assert self.apply(ttn(occupied=True, f_cnt=8, received_at="2026-11-25T07:59:30Z")) == "applied"
        assert self.apply(ttn(occupied=False, f_cnt=7, received_at="2026-11-25T07:59:00Z")) == "stale"
        assert [b.state for b in self.state.bays("street") if b.id == "S01"] == ["occupied"]

    def test_a_heartbeat_keeps_the_bay_alive_without_changing_it(self) -> None:
        self.apply(ttn(occupied=False, f_cnt=1, received_at="2026-11-25T07:59:00Z"))
        heartbeat = copy.deepcopy(fixture("ttn-v3-uplink.json"))
        heartbeat["uplink_message"].update(f_cnt=2, received_at="2026-11-25T08:20:00Z")
        assert self.apply(heartbeat, timedelta(minutes=20)) == "applied"
        self.state.tick(T0 + timedelta(minutes=45))  # 25 minutes after the heartbeat: still live
        [bay] = [b for b in self.state.bays("street") if b.id == "S01"]
        assert (bay.state, bay.rssi, bay.snr) == ("free", -35.0, 5.0)

    def test_dispatching_tries_each_lorawan_feed_of_a_shared_topic_shape(self) -> None:
        config = site_config(
            **{
                "roads:": """feeds:
  - {format: ttn-v3, topic: "v3/{app}@{tenant}/devices/{device}/up", devices: {a1: {lot: street, spot: S01}}}
  - {format: ttn-v3, topic: "v3/{app}@{tenant}/devices/{device}/up",
     devices: {dev1: {lot: street, spot: S02}}}
roads:"""
            }
        )
        seen: list[object] = []

        class Sink:
            def observe(self, feed: str, obs: object) -> None:
                seen.append(obs)

            def reject(self, feed: str, reason: str, topic: str, payload: bytes, detail: str) -> None:
                seen.append(reason)

        dispatcher = Dispatcher(config.feeds, Sink(), 4096)  # type: ignore[arg-type]
        dispatcher.dispatch(TTN_TOPIC, json.dumps(ttn(occupied=True)).encode())
        assert [getattr(obs, "spot", obs) for obs in seen] == ["S02"]
        data = ttn(occupied=True)
        data["end_device_ids"] = {"device_id": "nobody"}
        dispatcher.dispatch("v3/app1@ttn/devices/nobody/up", json.dumps(data).encode())
        assert seen[-1] == "unknown_device"
        assert dispatcher.subscriptions == ["v3/+/devices/+/up"]
