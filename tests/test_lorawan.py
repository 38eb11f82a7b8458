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
from typing import Any

import pytest

from parking.availability import Availability
from parking.config import Config
from parking.config.models import Device, FeedEntry
from parking.errors import DecodeError
from parking.observations import SpotObservation
from sensors.decoders import decoder_for
from sensors.ingest import Dispatcher
from tests.helpers.data import fixture
from tests.helpers.site import T0, site_config
from tests.helpers.sites import lorawan_site

TTN_TOPIC = "v3/app1@ttn/devices/dev1/up"
CS_TOPIC = "application/17c82e96-be03-4f38-aef3-f83d48582d97/device/0101010101010101/event/up"


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


def feed_entry(config: Config, fmt: str) -> FeedEntry:
    return next(entry for entry in config.feeds if entry.format == fmt)


def decode_with(fmt: str, fields: dict[str, str], data: dict[str, Any]) -> SpotObservation:
    """Decode with the LoRaWAN site's feed of that format and these topic fields."""
    obs = decoder_for(feed_entry(lorawan_site(), fmt))(fields, json.dumps(data).encode())
    assert isinstance(obs, SpotObservation)
    return obs


def decode_error(fmt: str, data: dict[str, Any], fields: dict[str, str] | None = None) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        decode_with(fmt, fields or {}, data)
    return info.value


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

    def test_the_uplinks_device_id_wins_over_the_topics(self) -> None:
        # the topic names another mapped device: the uplink's own id is looked up first
        obs = decode_with("ttn-v3", {"device": "0004a30b001c0999"}, ttn(occupied=True))
        assert obs.spot == "S01"

    def test_without_a_device_id_the_dev_eui_finds_the_device(self) -> None:
        data = ttn(occupied=True)
        data["end_device_ids"] = {"dev_eui": "0004A30B001C0999"}
        assert decode_with("ttn-v3", {"device": "dev1"}, data).spot == "S02"

    def test_without_end_device_ids_the_topics_device_finds_the_device(self) -> None:
        data = ttn(occupied=True)
        del data["end_device_ids"]
        assert decode_with("ttn-v3", {"device": "dev1"}, data).spot == "S01"

    def test_without_end_device_ids_or_a_topic_device_the_topics_dev_eui_finds_it(self) -> None:
        data = ttn(occupied=True)
        del data["end_device_ids"]
        assert decode_with("ttn-v3", {"dev_eui": "0004a30b001c0999"}, data).spot == "S02"

    @pytest.mark.parametrize("device_id", [17, True, ["dev1"]])
    def test_a_device_id_that_is_not_a_string_is_wrong_type(self, device_id: object) -> None:
        data = ttn(occupied=True)
        data["end_device_ids"]["device_id"] = device_id
        assert decode_error("ttn-v3", data).reason == "wrong_type"

    def test_an_uplink_without_uplink_message_is_missing_field(self) -> None:
        data = fixture("ttn-v3-uplink.json")
        del data["uplink_message"]
        error = decode_error("ttn-v3", data)
        assert error.reason == "missing_field"
        assert "'uplink_message'" in error.detail

    @pytest.mark.parametrize("field", ["uplink_message", "end_device_ids", "decoded_payload"])
    def test_a_part_of_the_uplink_that_is_not_an_object_is_wrong_type(self, field: str) -> None:
        data = ttn(occupied=True)
        if field == "decoded_payload":
            data["uplink_message"][field] = [True]
        else:
            data[field] = "x"
        error = decode_error("ttn-v3", data)
        assert error.reason == "wrong_type"
        assert repr(field) in error.detail

    def test_an_uplink_without_decoded_payload_is_a_heartbeat(self) -> None:
        data = fixture("ttn-v3-uplink.json")
        del data["uplink_message"]["decoded_payload"]
        assert decode_with("ttn-v3", {}, data).occupied is None

    def test_without_the_uplinks_receipt_time_the_messages_orders_it(self) -> None:
        data = ttn(occupied=True)
        del data["uplink_message"]["received_at"]
        obs = decode_with("ttn-v3", {}, data)
        assert obs.ts == datetime(2020, 2, 12, 15, 15, 46, 14773, tzinfo=UTC)

    def test_the_codecs_battery_is_kept(self) -> None:
        data = ttn(occupied=True)
        data["uplink_message"]["decoded_payload"]["battery"] = 87
        assert decode_with("ttn-v3", {}, data).battery == 87.0

    def test_without_a_codec_battery_the_last_battery_percentage_is_kept(self) -> None:
        data = ttn(occupied=True, last_battery_percentage={"f_cnt": 1, "value": 64.5})
        assert decode_with("ttn-v3", {}, data).battery == 64.5

    def test_the_codecs_battery_wins_over_the_last_battery_percentage(self) -> None:
        data = ttn(occupied=True, last_battery_percentage={"f_cnt": 1, "value": 64.5})
        data["uplink_message"]["decoded_payload"]["battery"] = 87
        assert decode_with("ttn-v3", {}, data).battery == 87.0

    @pytest.mark.parametrize("battery", [True, "87", {"percent": 87}])
    def test_a_battery_that_is_not_a_number_is_left_out(self, battery: object) -> None:
        data = ttn(occupied=True)
        data["uplink_message"]["decoded_payload"]["battery"] = battery
        assert decode_with("ttn-v3", {}, data).battery is None

    def test_the_best_gateway_gives_the_signal(self) -> None:
        receptions = [
            {"gateway_ids": {"gateway_id": "far"}, "rssi": -110, "snr": -3},
            {"gateway_ids": {"gateway_id": "near"}, "rssi": -60, "snr": 9.25},
            {"gateway_ids": {"gateway_id": "mid"}, "rssi": -80, "snr": 4},
        ]
        obs = decode_with("ttn-v3", {}, ttn(occupied=True, rx_metadata=receptions))
        assert (obs.rssi, obs.snr) == (-60.0, 9.25)

    def test_a_reception_that_is_not_an_object_or_has_no_rssi_is_skipped(self) -> None:
        receptions = ["gtw0", {"snr": 12}, {"rssi": -70, "snr": 2}]
        obs = decode_with("ttn-v3", {}, ttn(occupied=True, rx_metadata=receptions))
        assert (obs.rssi, obs.snr) == (-70.0, 2.0)

    @pytest.mark.parametrize("receptions", [None, [], {"rssi": -70}], ids=["absent", "empty", "object"])
    def test_without_a_list_of_receptions_there_is_no_signal(self, receptions: object) -> None:
        data = ttn(occupied=True)
        data["uplink_message"]["rx_metadata"] = receptions
        obs = decode_with("ttn-v3", {}, data)
        assert (obs.rssi, obs.snr) == (None, None)

    @pytest.mark.parametrize(
        ("value", "occupied"),
        [
            pytest.param(True, True, id="true"),
            pytest.param(False, False, id="false"),
            pytest.param(1, True, id="1"),
            pytest.param(0, False, id="0"),
            pytest.param(1.0, True, id="1.0"),
            pytest.param(0.0, False, id="0.0"),
            pytest.param("occupied", True, id="occupied"),
            pytest.param("free", False, id="free"),
            pytest.param("vacant", False, id="vacant"),
            pytest.param("true", True, id="true-word"),
            pytest.param("false", False, id="false-word"),
            pytest.param(" Occupied ", True, id="spaced-capitalised"),
        ],
    )
    def test_every_documented_occupied_value_is_read(self, value: object, occupied: bool) -> None:
        assert decode_with("ttn-v3", {}, ttn(occupied=value)).occupied is occupied

    def test_the_feeds_occupied_field_may_be_a_dotted_path(self) -> None:
        entry = FeedEntry(
            format="ttn-v3",
            topic="v3/{app}@{tenant}/devices/{device}/up",
            occupied_field="status.occupied",
            devices={"dev1": Device(lot="street", spot="S01")},
        )
        data = fixture("ttn-v3-uplink.json")
        data["uplink_message"]["decoded_payload"] = {"status": {"occupied": True}}
        obs = decoder_for(entry)({}, json.dumps(data).encode())
        assert isinstance(obs, SpotObservation)
        assert obs.occupied is True


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

    def test_without_device_info_the_topics_dev_eui_finds_the_device(self) -> None:
        data = chirpstack(object={"occupied": True})
        del data["deviceInfo"]
        topic = {"dev_eui": "0101010101010102", "device": "0101010101010103"}
        assert decode_with("chirpstack-v4", topic, data).spot == "S04"

    def test_without_a_dev_eui_anywhere_the_topics_device_finds_the_device(self) -> None:
        data = chirpstack(object={"occupied": True})
        del data["deviceInfo"]["devEui"]
        assert decode_with("chirpstack-v4", {"device": "0101010101010103"}, data).spot == "S05"

    @pytest.mark.parametrize("dedup", [42, True, {"id": "x"}])
    def test_a_deduplication_id_that_is_not_a_string_is_wrong_type(self, dedup: object) -> None:
        error = decode_error("chirpstack-v4", chirpstack(deduplicationId=dedup))
        assert error.reason == "wrong_type"
        assert "'deduplicationId'" in error.detail

    def test_without_a_deduplication_id_or_fcnt_it_is_frame_zero(self) -> None:
        data = chirpstack(object={"occupied": True})
        del data["deduplicationId"]
        assert decode_with("chirpstack-v4", {}, data).uplink == "f0"

    def test_an_object_that_is_not_an_object_is_wrong_type(self) -> None:
        error = decode_error("chirpstack-v4", chirpstack(object=[1]))
        assert error.reason == "wrong_type"
        assert "'object'" in error.detail


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
