"""Bad input, generated: whatever an MQTT client publishes, ingestion neither crashes nor miscounts.

Every decoder and the topic matcher get arbitrary bytes and arbitrary JSON; the only
outcomes are an Observation or our own DecodeError with a stable reason. Then whole
streams of such messages go through the real Dispatcher, feed sink and live site:
counts stay within 0..capacity, and metric label sets stay bounded.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parking.app.feed import SiteFeed
from parking.app.metrics import Metrics
from parking.errors import DecodeError
from parking.live import LiveSite
from parking.observations import Observation
from sensors.decoders import decoder_for
from sensors.ingest import Dispatcher
from sensors.topics import TopicTemplate
from tests.helpers.data import fixture
from tests.helpers.site import T0
from tests.helpers.sites import lorawan_site

REASONS = {
    "bad_json",
    "wrong_type",
    "missing_field",
    "negative_count",
    "out_of_range",
    "free_above_capacity",
    "bad_timestamp",
    "unknown_value",
    "unknown_device",
}
CONFIG = lorawan_site()
FIELDS = {
    "spot": {"lot": "street", "spot": "S01"},
    "lot": {"lot": "tower"},
    "gate": {"lot": "hospital", "gate": "north"},
    "ttn-v3": {"app": "app1", "tenant": "ttn", "device": "dev1"},
    "chirpstack-v4": {"app": "a", "dev_eui": "0101010101010101"},
}
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
# keys every decoder reads, so generated objects reach the checks past the first missing field
known_keys = st.sampled_from(
    [
        "occupied", "seq", "ts", "free", "capacity", "categories", "entries", "exits", "event", "category",
        "end_device_ids", "uplink_message", "received_at", "decoded_payload", "f_cnt", "rx_metadata",
        "deviceInfo", "devEui", "deduplicationId", "fCnt", "time", "object", "rxInfo", "rssi", "snr",
        "battery", "device_id", "dev_eui", "status",
    ]
)  # fmt: skip
objects = st.recursive(
    st.dictionaries(known_keys, json_values, max_size=6),
    lambda children: st.dictionaries(known_keys, children | json_values, max_size=6),
    max_leaves=12,
)


def dumps(value: object) -> bytes:
    """JSON of any generated value (integers beyond 64 bits too, which orjson refuses to write)."""
    return json.dumps(value).encode()


def mutated(base: dict[str, Any], path: list[str], value: object) -> dict[str, Any]:
    """A documented uplink with one (possibly nested) field replaced."""
    data: dict[str, Any] = json.loads(json.dumps(base))
    inner = data
    for key in path[:-1]:
        child = inner.get(key)
        if not isinstance(child, dict):
            child = inner[key] = {}
        inner = child
    inner[path[-1]] = value
    return data


def outcome(fmt: str, payload: bytes) -> Observation | str:
    entry = next(entry for entry in CONFIG.feeds if entry.format == fmt)
    try:
        return decoder_for(entry)(FIELDS[fmt], payload)
    except DecodeError as exc:
        return exc.reason


@FUZZ
@given(st.sampled_from(list(FIELDS)), st.binary(max_size=300))
def test_arbitrary_bytes_decode_or_fail_with_a_stable_reason(fmt: str, payload: bytes) -> None:
    result = outcome(fmt, payload)
    assert not isinstance(result, str) or result in REASONS


@FUZZ
@given(st.sampled_from(list(FIELDS)), json_values | objects)
def test_arbitrary_json_decodes_or_fails_with_a_stable_reason(fmt: str, value: object) -> None:
    result = outcome(fmt, dumps(value))
    assert not isinstance(result, str) or result in REASONS


@FUZZ
@given(
    st.sampled_from(
        [
            ("ttn-v3", "ttn-v3-uplink.json", ["uplink_message", "decoded_payload", "occupied"]),
            ("ttn-v3", "ttn-v3-uplink.json", ["uplink_message", "f_cnt"]),
            ("ttn-v3", "ttn-v3-uplink.json", ["uplink_message", "received_at"]),
            ("ttn-v3", "ttn-v3-uplink.json", ["uplink_message", "rx_metadata"]),
            ("ttn-v3", "ttn-v3-uplink.json", ["end_device_ids", "device_id"]),
            ("ttn-v3", "ttn-v3-uplink.json", ["uplink_message"]),
            ("chirpstack-v4", "chirpstack-v4-up.json", ["object", "occupied"]),
            ("chirpstack-v4", "chirpstack-v4-up.json", ["deduplicationId"]),
            ("chirpstack-v4", "chirpstack-v4-up.json", ["time"]),
            ("chirpstack-v4", "chirpstack-v4-up.json", ["rxInfo"]),
            ("chirpstack-v4", "chirpstack-v4-up.json", ["deviceInfo", "devEui"]),
            ("chirpstack-v4", "chirpstack-v4-up.json", ["deviceInfo"]),
        ]
    ),
    json_values,
)
def test_a_documented_uplink_with_any_field_replaced_decodes_or_fails_cleanly(
    case: tuple[str, str, list[str]], value: object
) -> None:
    fmt, name, path = case
    result = outcome(fmt, dumps(mutated(fixture(name), path, value)))
    assert not isinstance(result, str) or result in REASONS


@FUZZ
@given(st.text(max_size=80))
def test_the_topic_matcher_takes_any_topic(topic: str) -> None:
    for entry in CONFIG.feeds:
        fields = TopicTemplate(entry.format, entry.topic).match(topic)
        assert fields is None or all(fields.values())


class Stream:
    """The real dispatcher, feed sink, metrics and live site, without a broker."""

    def __init__(self) -> None:
        self.live = LiveSite(CONFIG, T0)
        self.metrics = Metrics.of(self.live)
        self.now = T0
        self.sink = SiteFeed(self.live, self.metrics, lambda: self.now)
        self.dispatcher = Dispatcher(CONFIG.feeds, self.sink, 4096)


def ttn_uplink(occupied: bool, f_cnt: int) -> bytes:
    data = mutated(fixture("ttn-v3-uplink.json"), ["uplink_message", "f_cnt"], f_cnt)
    return dumps(mutated(data, ["uplink_message", "decoded_payload", "occupied"], occupied))


topics = st.sampled_from(
    [
        "parking/{lot}/spots/{id}",
        "parking/{lot}/status",
        "parking/{lot}/gates/{id}",
        "v3/app1@ttn/devices/{id}/up",
        "application/app/device/{id}/event/up",
    ]
)
lots = st.sampled_from(["street", "tower", "hospital", "mall", "nowhere"]) | st.text(
    alphabet="abcxyz-", min_size=1, max_size=8
)
ids = st.sampled_from(["S01", "S02", "E1", "north", "south", "dev1", "0101010101010101"]) | st.text(
    alphabet="0123456789abcdef", min_size=1, max_size=16
)
payloads = st.one_of(
    objects.map(dumps),
    st.builds(
        lambda free, cats: dumps({"free": free, "categories": cats}),
        st.integers(-5, 10**6),
        st.dictionaries(
            st.sampled_from(["general", "ev", "disabled", "x"]), st.integers(-5, 500), max_size=3
        ),
    ),
    st.builds(
        lambda entries, exits: dumps({"entries": entries, "exits": exits}),
        st.integers(0, 10**6),
        st.integers(0, 10**6),
    ),
    st.builds(lambda event: dumps({"event": event}), st.sampled_from(["entry", "exit"])),
    st.sampled_from([b"1", b"0", b"occupied", b"free"]),
    st.builds(
        lambda occupied, f_cnt: dumps(
            mutated(
                mutated(fixture("ttn-v3-uplink.json"), ["uplink_message", "f_cnt"], f_cnt),
                ["uplink_message", "decoded_payload", "occupied"],
                occupied,
            )
        ),
        st.booleans(),
        st.integers(0, 20),
    ),
)
messages = st.lists(st.tuples(topics, lots, ids, payloads, st.integers(0, 4000)), max_size=60)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages)
def test_no_stream_of_messages_crashes_ingestion_or_leaves_counts_out_of_range(
    stream: list[tuple[str, str, str, bytes, int]],
) -> None:
    run = Stream()
    for template, lot, device, payload, after_s in stream:
        run.now += timedelta(seconds=after_s)
        run.dispatcher.dispatch(template.format(lot=lot, id=device), payload)
        run.live.tick(run.now)
    results = run.metrics.feed_messages.counts
    assert "internal_error" not in {result for _, result in results}
    for view in run.live.views().values():
        assert view.free is None or 0 <= view.free <= view.capacity
        for cat in view.categories.values():
            assert cat.free is None or 0 <= cat.free <= cat.capacity
    # labels: feed formats and result words only, whatever ids were sent
    assert {feed for feed, _ in results} <= {*FIELDS, "unknown"}
    configured = {lot.id for lot in CONFIG.lots}
    for family in run.metrics.registry.collect():
        for sample in family.samples:
            assert sample.labels.get("lot", "street") in configured
