"""Feed decoders and topic templates: what integrators may publish, and how each message is read.

Each decoder takes the placeholder values of the topic (``{"lot": ..., "spot": ...}``)
and the raw payload bytes, and returns one Observation or raises DecodeError whose
`reason` is the label counted in ``parking_feed_messages_total{feed, result}``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parking.config.models import DEFAULT_FEEDS, FeedEntry
from parking.errors import DecodeError, ParkingGuideError
from parking.observations import (
    GateCounterObservation,
    GateEventObservation,
    LotObservation,
    SpotObservation,
)
from sensors import ingest
from sensors.decoders import DECODERS, Decoder, decode_gate, decode_lot, decode_spot
from sensors.decoders.common import MAX_COUNT, _non_negative, count, counts, optional_count
from sensors.ingest import Dispatcher
from sensors.topics import TopicTemplate

SPOT = {"lot": "general-surface", "spot": "H001"}
LOT = {"lot": "nongfa-tower"}
GATE = {"lot": "general-cp", "gate": "west"}
FIELDS: dict[str, dict[str, str]] = {"spot": SPOT, "lot": LOT, "gate": GATE}

# 2026-11-25 08:00:00 UTC, in every form a feed may send it
TS = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
TS_EPOCH_S = 1_795_593_600


def decode_error(decoder: Decoder, fields: dict[str, str], payload: bytes) -> DecodeError:
    """The DecodeError a payload raises (fails the test if it decodes)."""
    with pytest.raises(DecodeError) as info:
        decoder(fields, payload)
    return info.value


# -- the registry --------------------------------------------------------------


def test_there_is_one_decoder_per_implemented_feed_format() -> None:
    assert {"spot": decode_spot, "lot": decode_lot, "gate": decode_gate} == DECODERS


def test_a_decode_error_is_one_of_ours_and_leads_with_its_reason() -> None:
    error = decode_error(decode_lot, LOT, b"{}")
    assert isinstance(error, ParkingGuideError)
    assert error.reason == "missing_field"
    assert str(error).startswith("missing_field: ")


# -- spot: one bay occupied or free --------------------------------------------


def test_spot_json_carries_occupied_ts_and_seq() -> None:
    obs = decode_spot(SPOT, b'{"occupied": true, "ts": "2026-11-25T08:00:00Z", "seq": 7}')
    assert obs == SpotObservation("general-surface", "H001", occupied=True, ts=TS, seq=7)


def test_spot_json_ts_and_seq_are_optional() -> None:
    obs = decode_spot(SPOT, b'{"occupied": false}')
    assert obs == SpotObservation("general-surface", "H001", occupied=False, ts=None, seq=None)


@pytest.mark.parametrize(
    ("payload", "occupied"),
    [
        pytest.param(b'{"occupied": 1}', True, id="one"),
        pytest.param(b'{"occupied": 0}', False, id="zero"),
    ],
)
def test_spot_json_occupied_may_be_one_or_zero(payload: bytes, occupied: bool) -> None:
    assert decode_spot(SPOT, payload).occupied is occupied


@pytest.mark.parametrize(
    ("payload", "occupied"),
    [
        pytest.param(b"1", True, id="1"),
        pytest.param(b"0", False, id="0"),
        pytest.param(b"true", True, id="true"),
        pytest.param(b"false", False, id="false"),
        pytest.param(b"occupied", True, id="occupied-unquoted"),
        pytest.param(b"free", False, id="free-unquoted"),
        pytest.param(b'"occupied"', True, id="occupied-quoted"),
        pytest.param(b'"free"', False, id="free-quoted"),
        pytest.param(b" 1\r\n", True, id="surrounding-whitespace"),
        pytest.param(b"TRUE", True, id="upper-case"),
        pytest.param(b'"Free"', False, id="mixed-case-quoted"),
    ],
)
def test_spot_bare_values_say_occupied_or_free_without_ts_or_seq(payload: bytes, occupied: bool) -> None:
    assert decode_spot(SPOT, payload) == SpotObservation("general-surface", "H001", occupied)


# -- lot: a lot management system's free count ---------------------------------


def test_lot_with_capacity_and_categories() -> None:
    payload = (
        b'{"free": 37, "capacity": 446, "ts": "2026-11-25T08:00:00Z", "categories": {"disabled": 2, "ev": 5}}'
    )
    assert decode_lot(LOT, payload) == LotObservation(
        "nongfa-tower", free=37, capacity=446, categories={"disabled": 2, "ev": 5}, ts=TS
    )


def test_lot_with_free_only() -> None:
    assert decode_lot(LOT, b'{"free": 37}') == LotObservation("nongfa-tower", 37, None, {}, None)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b'{"free": 37, "categories": {}}', id="empty-object"),
        pytest.param(b'{"free": 37, "categories": null}', id="null"),
    ],
)
def test_lot_empty_or_null_categories_mean_none(payload: bytes) -> None:
    assert decode_lot(LOT, payload).categories == {}


def test_lot_general_may_be_given_as_a_category() -> None:
    obs = decode_lot(LOT, b'{"free": 37, "categories": {"general": 30, "disabled": 2, "ev": 5}}')
    assert obs.categories == {"general": 30, "disabled": 2, "ev": 5}


@pytest.mark.parametrize(
    ("payload", "free", "capacity"),
    [
        pytest.param(b'{"free": 0, "capacity": 300}', 0, 300, id="empty-lot-is-full"),
        pytest.param(b'{"free": 300, "capacity": 300}', 300, 300, id="free-equals-capacity"),
    ],
)
def test_lot_free_may_range_from_zero_to_capacity(payload: bytes, free: int, capacity: int) -> None:
    obs = decode_lot(LOT, payload)
    assert (obs.free, obs.capacity) == (free, capacity)


def test_a_whole_float_count_is_accepted_as_an_integer() -> None:
    obs = decode_lot(LOT, b'{"free": 3.0, "capacity": 300.0, "categories": {"ev": 1.0}}')
    assert (obs.free, obs.capacity, obs.categories) == (3, 300, {"ev": 1})
    assert type(obs.free) is int
    assert type(obs.capacity) is int
    assert type(obs.categories["ev"]) is int


def test_a_float_zero_count_is_the_count_zero_not_negative() -> None:
    obs = decode_lot(LOT, b'{"free": 0.0, "categories": {"ev": 0.0}}')
    assert (obs.free, obs.categories) == (0, {"ev": 0})


# -- gate: cumulative counters or one event ------------------------------------


def test_gate_cumulative_counters() -> None:
    obs = decode_gate(GATE, b'{"entries": 1042, "exits": 998, "ts": "2026-11-25T08:00:00Z"}')
    assert obs == GateCounterObservation("general-cp", "west", entries=1042, exits=998, ts=TS)


def test_gate_counters_without_ts() -> None:
    assert decode_gate(GATE, b'{"entries": 0, "exits": 0}') == GateCounterObservation(
        "general-cp", "west", 0, 0, None
    )


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(
            b'{"event": "entry", "ts": "2026-11-25T08:00:00Z", "seq": 5}',
            GateEventObservation("general-cp", "west", "entry", ts=TS, seq=5),
            id="entry",
        ),
        pytest.param(
            b'{"event": "exit", "ts": "2026-11-25T08:00:00Z", "seq": 6}',
            GateEventObservation("general-cp", "west", "exit", ts=TS, seq=6),
            id="exit",
        ),
    ],
)
def test_gate_event_with_ts_and_seq(payload: bytes, expected: GateEventObservation) -> None:
    assert decode_gate(GATE, payload) == expected


def test_gate_event_ts_and_seq_are_optional() -> None:
    assert decode_gate(GATE, b'{"event": "exit"}') == GateEventObservation("general-cp", "west", "exit")


def test_a_gate_message_with_an_event_is_an_event_whatever_else_it_carries() -> None:
    obs = decode_gate(GATE, b'{"event": "entry", "entries": 1042, "exits": 998}')
    assert isinstance(obs, GateEventObservation)


def test_a_gate_event_carries_the_category_the_gate_names() -> None:
    obs = decode_gate(GATE, b'{"event": "entry", "category": "disabled", "seq": 5}')
    assert obs == GateEventObservation("general-cp", "west", "entry", seq=5, category="disabled")


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b'{"event": "exit"}', id="absent"),
        pytest.param(b'{"event": "exit", "category": null}', id="null"),
    ],
)
def test_a_gate_event_without_a_category_has_none(payload: bytes) -> None:
    obs = decode_gate(GATE, payload)
    assert isinstance(obs, GateEventObservation)
    assert obs.category is None


@pytest.mark.parametrize(
    "category",
    [
        pytest.param(b'"Disabled"', id="upper-case"),
        pytest.param(b'""', id="empty"),
        pytest.param(b'"2wheel"', id="leading-digit"),
        pytest.param(b'"ev charging"', id="space"),
        pytest.param(b'"%s"' % (b"e" * 65), id="65-characters"),
        pytest.param(b"3", id="number"),
        pytest.param(b'["ev"]', id="array"),
    ],
)
def test_a_gate_event_category_that_is_not_a_category_name_is_wrong_type(category: bytes) -> None:
    error = decode_error(decode_gate, GATE, b'{"event": "entry", "category": %s}' % category)
    assert error.reason == "wrong_type"
    assert "'category'" in error.detail


def test_a_gate_event_category_may_be_64_characters_long() -> None:
    obs = decode_gate(GATE, b'{"event": "entry", "category": "%s"}' % (b"e" * 64))
    assert isinstance(obs, GateEventObservation)
    assert obs.category == "e" * 64


# -- timestamps ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        pytest.param('"2026-11-25T08:00:00Z"', TS, id="iso-z"),
        pytest.param('"2026-11-25T08:00:00+00:00"', TS, id="iso-utc-offset"),
        pytest.param('"2026-11-25T16:00:00+08:00"', TS, id="iso-east-offset"),
        pytest.param('"2026-11-25T03:00:00-05:00"', TS, id="iso-west-offset"),
        pytest.param('"2026-11-25T08:00:00"', TS, id="iso-naive-is-utc"),
        pytest.param('"2026-11-25 08:00:00"', TS, id="iso-space-separator"),
        pytest.param('"2026-11-25T08:00:00.250Z"', TS + timedelta(milliseconds=250), id="iso-fraction"),
        pytest.param(str(TS_EPOCH_S), TS, id="epoch-seconds"),
        pytest.param(f"{TS_EPOCH_S}.5", TS + timedelta(milliseconds=500), id="epoch-seconds-fraction"),
        pytest.param(str(TS_EPOCH_S * 1000), TS, id="epoch-milliseconds"),
        pytest.param(str(TS_EPOCH_S * 1000 + 250), TS + timedelta(milliseconds=250), id="epoch-ms-fraction"),
    ],
)
def test_timestamp_forms_all_give_the_same_aware_instant(ts: str, expected: datetime) -> None:
    obs = decode_spot(SPOT, b'{"occupied": true, "ts": %s}' % ts.encode())
    assert obs.ts == expected
    assert obs.ts is not None
    assert obs.ts.utcoffset() is not None


def test_an_offset_timestamp_keeps_its_offset() -> None:
    obs = decode_spot(SPOT, b'{"occupied": true, "ts": "2026-11-25T16:00:00+08:00"}')
    assert obs.ts is not None
    assert obs.ts.utcoffset() == timedelta(hours=8)
    assert obs.ts == TS


def test_an_epoch_of_exactly_ten_to_the_ten_is_still_seconds() -> None:
    """Only values above 10**10 are milliseconds: 10**10 itself is 2286-11-20 in seconds."""
    obs = decode_spot(SPOT, b'{"occupied": true, "ts": 10000000000}')
    assert obs.ts == datetime(2286, 11, 20, 17, 46, 40, tzinfo=UTC)


def test_the_first_second_after_1970_is_a_time() -> None:
    obs = decode_spot(SPOT, b'{"occupied": true, "ts": 1}')
    assert obs.ts == datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("feed", "payload"),
    [
        pytest.param("spot", b'{"occupied": true, "ts": %d}', id="spot"),
        pytest.param("lot", b'{"free": 37, "ts": %d}', id="lot"),
        pytest.param("gate", b'{"entries": 1, "exits": 0, "ts": %d}', id="gate-counters"),
        pytest.param("gate", b'{"event": "entry", "ts": %d}', id="gate-event"),
    ],
)
def test_every_json_format_reads_ts_the_same_way(feed: str, payload: bytes) -> None:
    obs = DECODERS[feed](FIELDS[feed], payload % (TS_EPOCH_S * 1000))
    assert obs.ts == TS


# -- bad payloads --------------------------------------------------------------

BAD_PAYLOADS = [
    # not JSON at all
    pytest.param("spot", b"{", "bad_json", id="spot-truncated-json"),
    pytest.param("spot", b"", "bad_json", id="spot-empty"),
    pytest.param("spot", b"yes", "bad_json", id="spot-unknown-bare-word"),
    pytest.param("spot", b"\xff\xfe\x00", "bad_json", id="spot-not-utf8"),
    pytest.param("lot", b"free=37", "bad_json", id="lot-not-json"),
    pytest.param("lot", b'{"free": NaN}', "bad_json", id="lot-nan"),
    pytest.param("gate", b"{'entries': 1, 'exits': 0}", "bad_json", id="gate-single-quotes"),
    # JSON, but not an object
    pytest.param("spot", b"[true]", "wrong_type", id="spot-array"),
    pytest.param("spot", b'"parked"', "wrong_type", id="spot-string"),
    pytest.param("spot", b"2", "wrong_type", id="spot-number-other-than-0-1"),
    pytest.param("spot", b"null", "wrong_type", id="spot-null"),
    pytest.param("lot", b"[37, 300]", "wrong_type", id="lot-array"),
    pytest.param("lot", b'"37"', "wrong_type", id="lot-string"),
    pytest.param("lot", b"37", "wrong_type", id="lot-number"),
    pytest.param("gate", b'["entry"]', "wrong_type", id="gate-array"),
    pytest.param("gate", b'"entry"', "wrong_type", id="gate-string"),
    pytest.param("gate", b"1", "wrong_type", id="gate-number"),
    # a required field is absent (or null)
    pytest.param("spot", b"{}", "missing_field", id="spot-no-occupied"),
    pytest.param("spot", b'{"occupied": null}', "missing_field", id="spot-occupied-null"),
    pytest.param("lot", b'{"capacity": 300}', "missing_field", id="lot-no-free"),
    pytest.param("lot", b'{"free": null}', "missing_field", id="lot-free-null"),
    pytest.param("gate", b"{}", "missing_field", id="gate-empty-object"),
    pytest.param("gate", b'{"entries": 1042}', "missing_field", id="gate-no-exits"),
    pytest.param("gate", b'{"exits": 998}', "missing_field", id="gate-no-entries"),
    # a field of the wrong type
    pytest.param("spot", b'{"occupied": "yes"}', "wrong_type", id="spot-occupied-string"),
    pytest.param("spot", b'{"occupied": 2}', "wrong_type", id="spot-occupied-2"),
    pytest.param("spot", b'{"occupied": true, "seq": "7"}', "wrong_type", id="spot-seq-string"),
    pytest.param("spot", b'{"occupied": true, "seq": 7.5}', "wrong_type", id="spot-seq-fraction"),
    pytest.param("lot", b'{"free": true}', "wrong_type", id="lot-free-bool-true"),
    pytest.param("lot", b'{"free": false}', "wrong_type", id="lot-free-bool-false"),
    pytest.param("lot", b'{"free": 3.5}', "wrong_type", id="lot-free-fraction"),
    pytest.param("lot", b'{"free": "37"}', "wrong_type", id="lot-free-string"),
    pytest.param("lot", b'{"free": 37, "capacity": 300.5}', "wrong_type", id="lot-capacity-fraction"),
    pytest.param("lot", b'{"free": 37, "categories": [2, 5]}', "wrong_type", id="lot-categories-array"),
    pytest.param("lot", b'{"free": 37, "categories": {"ev": true}}', "wrong_type", id="lot-category-bool"),
    pytest.param("lot", b'{"free": 37, "categories": {"ev": 1.5}}', "wrong_type", id="lot-category-frac"),
    pytest.param("gate", b'{"entries": 1042.5, "exits": 998}', "wrong_type", id="gate-entries-fraction"),
    pytest.param("gate", b'{"entries": 1042, "exits": true}', "wrong_type", id="gate-exits-bool"),
    pytest.param("gate", b'{"event": "entry", "seq": "5"}', "wrong_type", id="gate-event-seq-string"),
    # a count below zero
    pytest.param("spot", b'{"occupied": true, "seq": -1}', "negative_count", id="spot-seq"),
    pytest.param("lot", b'{"free": -1}', "negative_count", id="lot-free"),
    pytest.param("lot", b'{"free": 0, "capacity": -300}', "negative_count", id="lot-capacity"),
    pytest.param("lot", b'{"free": 3, "categories": {"ev": -1}}', "negative_count", id="lot-category"),
    pytest.param("gate", b'{"entries": -1, "exits": 0}', "negative_count", id="gate-entries"),
    pytest.param("gate", b'{"event": "exit", "seq": -5}', "negative_count", id="gate-event-seq"),
    # a lot cannot have more free spaces than it has spaces
    pytest.param("lot", b'{"free": 301, "capacity": 300}', "free_above_capacity", id="lot-301-of-300"),
    pytest.param("lot", b'{"free": 1, "capacity": 0}', "free_above_capacity", id="lot-1-of-0"),
    # a timestamp that is not a time
    pytest.param("spot", b'{"occupied": true, "ts": "yesterday"}', "bad_timestamp", id="spot-ts-word"),
    pytest.param("spot", b'{"occupied": true, "ts": ""}', "bad_timestamp", id="spot-ts-empty"),
    pytest.param("spot", b'{"occupied": true, "ts": true}', "bad_timestamp", id="spot-ts-bool"),
    pytest.param("spot", b'{"occupied": true, "ts": [2026, 11, 25]}', "bad_timestamp", id="spot-ts-array"),
    pytest.param("spot", b'{"occupied": true, "ts": "1795593600"}', "bad_timestamp", id="spot-ts-quoted"),
    pytest.param("lot", b'{"free": 37, "ts": "2026-13-01T00:00:00Z"}', "bad_timestamp", id="lot-ts-month"),
    pytest.param("lot", b'{"free": 37, "ts": 1e300}', "bad_timestamp", id="lot-ts-out-of-range"),
    pytest.param("gate", b'{"event": "entry", "ts": "25/11/2026"}', "bad_timestamp", id="gate-ts-format"),
    pytest.param("gate", b'{"entries": 1, "exits": 0, "ts": {}}', "bad_timestamp", id="gate-ts-object"),
    # a value outside the documented set
    pytest.param("gate", b'{"event": "sideways"}', "unknown_value", id="gate-event-sideways"),
    pytest.param("gate", b'{"event": "ENTRY"}', "unknown_value", id="gate-event-upper-case"),
    pytest.param("gate", b'{"event": null}', "unknown_value", id="gate-event-null"),
    pytest.param("gate", b'{"event": 1}', "unknown_value", id="gate-event-number"),
]


@pytest.mark.parametrize(("feed", "payload", "reason"), BAD_PAYLOADS)
def test_a_bad_payload_raises_decode_error_with_its_reason(feed: str, payload: bytes, reason: str) -> None:
    assert decode_error(DECODERS[feed], FIELDS[feed], payload).reason == reason


@pytest.mark.parametrize(
    ("feed", "payload", "field"),
    [
        pytest.param("spot", b'{"occupied": "yes"}', "'occupied'", id="spot-occupied"),
        pytest.param("spot", b'{"occupied": true, "seq": -1}', "'seq'", id="spot-seq"),
        pytest.param("lot", b'{"capacity": 300}', "'free'", id="lot-free"),
        pytest.param("lot", b'{"free": 3, "categories": {"ev": -1}}', "'ev'", id="lot-category"),
        pytest.param("gate", b'{"entries": 1}', "'exits'", id="gate-exits"),
        pytest.param("gate", b'{"event": "sideways"}', "'sideways'", id="gate-event"),
        pytest.param("gate", b'{"event": "entry", "ts": "soon"}', "'ts'", id="gate-ts"),
        pytest.param("spot", b"{}", "'occupied'", id="spot-occupied-missing"),
        pytest.param("lot", b'{"free": 3, "categories": [1]}', "'categories'", id="lot-categories"),
        pytest.param("gate", b'{"event": "entry", "category": 7}', "'category'", id="gate-category"),
        # JSON that is not an object: what it is instead
        pytest.param("lot", b"[37, 300]", "list", id="lot-array"),
        pytest.param("spot", b'"parked"', "str", id="spot-string"),
        # not JSON: the parser's own words, with where it stopped
        pytest.param("lot", b'{"free": 37', "(char 11)", id="lot-truncated"),
    ],
)
def test_the_detail_names_what_was_wrong_for_the_log(feed: str, payload: bytes, field: str) -> None:
    assert field in decode_error(DECODERS[feed], FIELDS[feed], payload).detail


# -- topic templates -----------------------------------------------------------

SPOT_TOPICS = TopicTemplate("spot", "parking/{lot}/spots/{spot}")
LOT_TOPICS = TopicTemplate("lot", "parking/{lot}/status")
GATE_TOPICS = TopicTemplate("gate", "parking/{lot}/gates/{gate}")


@pytest.mark.parametrize(
    ("template", "subscription"),
    [
        pytest.param(SPOT_TOPICS, "parking/+/spots/+", id="spot"),
        pytest.param(LOT_TOPICS, "parking/+/status", id="lot"),
        pytest.param(GATE_TOPICS, "parking/+/gates/+", id="gate"),
        pytest.param(
            TopicTemplate("spot", "city/wulin/{lot}/bays/{spot}/state"),
            "city/wulin/+/bays/+/state",
            id="custom",
        ),
        pytest.param(TopicTemplate("lot", "{lot}"), "+", id="lot-id-only"),
    ],
)
def test_the_subscription_has_a_single_level_wildcard_per_placeholder(
    template: TopicTemplate, subscription: str
) -> None:
    assert template.subscription == subscription


def test_the_default_feed_templates_are_the_documented_ones() -> None:
    templates = [TopicTemplate(feed, topic) for feed, topic in DEFAULT_FEEDS]
    assert [t.subscription for t in templates] == [
        "parking/+/spots/+",
        "parking/+/status",
        "parking/+/gates/+",
    ]


@pytest.mark.parametrize(
    ("template", "topic", "fields"),
    [
        pytest.param(
            SPOT_TOPICS, "parking/hospital-p1/spots/A-017", {"lot": "hospital-p1", "spot": "A-017"}, id="spot"
        ),
        pytest.param(LOT_TOPICS, "parking/hospital-p1/status", {"lot": "hospital-p1"}, id="lot"),
        pytest.param(
            GATE_TOPICS, "parking/general-cp/gates/west", {"lot": "general-cp", "gate": "west"}, id="gate"
        ),
        pytest.param(
            TopicTemplate("spot", "city/wulin/{lot}/bays/{spot}/state"),
            "city/wulin/heping-street/bays/S01/state",
            {"lot": "heping-street", "spot": "S01"},
            id="custom",
        ),
        pytest.param(LOT_TOPICS, "parking/status/status", {"lot": "status"}, id="id-equal-to-a-literal"),
    ],
)
def test_match_gives_the_placeholder_values(
    template: TopicTemplate, topic: str, fields: dict[str, str]
) -> None:
    assert template.match(topic) == fields


@pytest.mark.parametrize(
    ("template", "topic"),
    [
        pytest.param(SPOT_TOPICS, "parking/hospital-p1/spots", id="too-few-levels"),
        pytest.param(SPOT_TOPICS, "parking/hospital-p1/spots/A-017/battery", id="too-many-levels"),
        pytest.param(LOT_TOPICS, "parking/hospital-p1/status/", id="trailing-slash"),
        pytest.param(LOT_TOPICS, "/parking/hospital-p1/status", id="leading-slash"),
        pytest.param(LOT_TOPICS, "parking/hospital-p1/state", id="wrong-last-literal"),
        pytest.param(LOT_TOPICS, "garage/hospital-p1/status", id="wrong-first-literal"),
        pytest.param(LOT_TOPICS, "Parking/hospital-p1/status", id="literals-are-case-sensitive"),
        pytest.param(GATE_TOPICS, "parking/general-cp/spots/west", id="another-feeds-topic"),
        pytest.param(LOT_TOPICS, "parking//status", id="empty-lot"),
        pytest.param(SPOT_TOPICS, "parking/hospital-p1/spots/", id="empty-spot"),
        pytest.param(LOT_TOPICS, "", id="empty-topic"),
    ],
)
def test_match_is_none_for_a_topic_not_of_the_template(template: TopicTemplate, topic: str) -> None:
    assert template.match(topic) is None


# Templates with shared levels, built inside each test: a template built at import would be built
# before mutmut activates a mutant of the code that builds it (docs/testing.md).
TTN_TOPIC = "v3/{app}@{tenant}/devices/{device}/up"
PREFIXED_TOPIC = "site/lot-{lot}/bay-{spot}"
SUFFIXED_TOPIC = "lots/{lot}.json"


@pytest.mark.parametrize(
    ("template", "topic", "fields"),
    [
        pytest.param(
            TTN_TOPIC,
            "v3/app1@ttn/devices/dev1/up",
            {"app": "app1", "tenant": "ttn", "device": "dev1"},
            id="placeholders-around-text",
        ),
        pytest.param(PREFIXED_TOPIC, "site/lot-p1/bay-A-17", {"lot": "p1", "spot": "A-17"}, id="text-before"),
        pytest.param(SUFFIXED_TOPIC, "lots/tower.json", {"lot": "tower"}, id="text-after"),
    ],
)
def test_placeholders_sharing_a_level_with_text_are_read_back(
    template: str, topic: str, fields: dict[str, str]
) -> None:
    assert TopicTemplate("feed", template).match(topic) == fields


@pytest.mark.parametrize(
    ("template", "topic"),
    [
        pytest.param(TTN_TOPIC, "v3/app1-ttn/devices/dev1/up", id="separator-missing"),
        pytest.param(TTN_TOPIC, "v3/@ttn/devices/dev1/up", id="empty-before-the-separator"),
        pytest.param(TTN_TOPIC, "v3/app1@/devices/dev1/up", id="empty-after-the-separator"),
        pytest.param(PREFIXED_TOPIC, "site/lot-p1/bay-", id="empty-after-the-text"),
        pytest.param(PREFIXED_TOPIC, "site/lxt-p1/bay-7", id="text-before-differs"),
        pytest.param(PREFIXED_TOPIC, "site/p1/bay-7", id="text-before-missing"),
        pytest.param(SUFFIXED_TOPIC, "lots/towerxjson", id="dot-is-literal"),
    ],
)
def test_a_shared_level_matches_only_with_its_text_and_non_empty_values(template: str, topic: str) -> None:
    assert TopicTemplate("feed", template).match(topic) is None


def test_in_a_shared_level_the_first_placeholder_ends_at_the_first_separator() -> None:
    fields = TopicTemplate("ttn-v3", TTN_TOPIC).match("v3/a@b@c/devices/d/up")
    assert fields == {"app": "a", "tenant": "b@c", "device": "d"}


@pytest.mark.parametrize(
    ("template", "topic", "field"),
    [
        pytest.param("parking/{lot}/spots/{spot}", "parking/p1/spots/a\nb", "spot", id="whole-level"),
        pytest.param(TTN_TOPIC, "v3/a\nb@ttn/devices/d/up", "app", id="shared-level"),
    ],
)
def test_a_placeholder_value_may_hold_any_character_even_a_newline(
    template: str, topic: str, field: str
) -> None:
    fields = TopicTemplate("feed", template).match(topic)
    assert fields is not None
    assert fields[field] == "a\nb"


def test_the_placeholders_are_named_in_the_order_they_appear() -> None:
    template = TopicTemplate("ttn-v3", TTN_TOPIC)
    assert template.placeholders == ("app", "tenant", "device")
    assert template.subscription == "v3/+/devices/+/up"


def test_format_builds_a_topic_that_matches_back() -> None:
    topic = SPOT_TOPICS.format(lot="heping-street", spot="SE1")
    assert topic == "parking/heping-street/spots/SE1"
    assert SPOT_TOPICS.match(topic) == {"lot": "heping-street", "spot": "SE1"}


class TestCorruptValues:
    """Values that are syntactically numbers but cannot be real readings."""

    @pytest.mark.parametrize(
        ("payload", "reason"),
        [
            pytest.param(b'{"free": 1e300}', "out_of_range", id="huge-whole-float-count"),
            pytest.param(b'{"free": 9007199254740993}', "out_of_range", id="count-above-2**53"),
            pytest.param(b'{"free": 18446744073709551615}', "out_of_range", id="count-2**64-1"),
            pytest.param(b'{"free": 18446744073709551616}', "out_of_range", id="count-2**64"),
            pytest.param(b'{"free": 3, "capacity": 1%s}' % (b"0" * 30), "out_of_range", id="capacity-10**30"),
            pytest.param(b'{"free": 3, "categories": {"ev": 1e19}}', "out_of_range", id="category-1e19"),
            pytest.param(b'{"free": 1e400}', "out_of_range", id="count-beyond-a-double"),
            pytest.param(b'{"free": 1%s}' % (b"0" * 400), "out_of_range", id="400-digit-count"),
            pytest.param(b'{"free": 3, "note": 1e400}', "out_of_range", id="beyond-a-double-anywhere"),
            pytest.param(b'{"free": -18446744073709551616}', "negative_count", id="count-minus-2**64"),
            pytest.param(b'{"free": -1e400}', "out_of_range", id="count-below-minus-a-double"),
            pytest.param(b'{"free": 3, "ts": -5}', "bad_timestamp", id="negative-epoch"),
            pytest.param(b'{"free": 3, "ts": 0}', "bad_timestamp", id="zero-epoch"),
            pytest.param(b'{"free": 3, "categories": []}', "wrong_type", id="categories-empty-list"),
            pytest.param(b'{"free": 3, "categories": 0}', "wrong_type", id="categories-zero"),
        ],
    )
    def test_is_rejected_with_a_reason(self, payload: bytes, reason: str) -> None:
        with pytest.raises(DecodeError) as caught:
            decode_lot({"lot": "p1"}, payload)
        assert caught.value.reason == reason


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b'{"free": 9007199254740992}', id="integer"),
        pytest.param(b'{"free": 9007199254740992.0}', id="whole-float"),
    ],
)
def test_the_largest_count_is_two_to_the_53(payload: bytes) -> None:
    assert decode_lot(LOT, payload).free == 2**53


@pytest.mark.parametrize(
    ("feed", "payload"),
    [
        pytest.param("spot", b'{"occupied": true, "seq": 18446744073709551616}', id="spot-seq"),
        pytest.param("gate", b'{"entries": 18446744073709551616, "exits": 0}', id="gate-entries"),
        pytest.param("gate", b'{"event": "exit", "seq": 1e19}', id="gate-event-seq"),
    ],
)
def test_an_integer_beyond_64_bits_is_out_of_range_in_every_format(feed: str, payload: bytes) -> None:
    """orjson reads such an integer as a float without error; it is a corrupt value, not a wrong type."""
    assert decode_error(DECODERS[feed], FIELDS[feed], payload).reason == "out_of_range"


@pytest.mark.parametrize(
    ("feed", "payload", "field", "value"),
    [
        pytest.param("lot", b'{"free": 1, "free": 2}', "free", 2, id="lot-free"),
        pytest.param("spot", b'{"occupied": true, "occupied": false}', "occupied", False, id="spot-occupied"),
        pytest.param("gate", b'{"event": "entry", "event": "exit"}', "event", "exit", id="gate-event"),
    ],
)
def test_a_key_given_twice_keeps_its_last_value(feed: str, payload: bytes, field: str, value: object) -> None:
    assert getattr(DECODERS[feed](FIELDS[feed], payload), field) == value


def read_outcome(read: Callable[..., object], *args: object) -> object:
    """What a reader returns, with its type, or the reason of the DecodeError it raises."""
    try:
        value = read(*args)
    except DecodeError as exc:
        return exc.reason
    return (type(value), value)


@given(
    st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([0, 1, MAX_COUNT, MAX_COUNT + 1, -1, True, False, 0.0, -0.0, 3.0, 2.0**53, 2.0**64])
    | st.floats()
    | st.text(max_size=3)
)
def test_a_count_reads_the_same_on_the_fast_path_as_by_the_general_rule(value: object) -> None:
    """count, optional_count and counts take an in-range int at once; anything else goes to _non_negative."""
    expected = read_outcome(_non_negative, "n", value)
    assert read_outcome(count, {"n": value}, "n") == expected
    assert read_outcome(optional_count, {"n": value}, "n") == expected
    counted = read_outcome(lambda data: [(type(v), v) for v in counts(data).values()], {"a": 1, "n": value})
    assert counted == (expected if isinstance(expected, str) else (list, [(int, 1), expected]))


def default_feeds() -> list[FeedEntry]:
    return [FeedEntry(format=feed, topic=topic) for feed, topic in DEFAULT_FEEDS]


class TestDispatcher:
    """Routing raw messages to decoders and the sink."""

    class Sink:
        def __init__(self, fail: bool = False) -> None:
            self.fail = fail
            self.seen: list[tuple[str, object]] = []
            self.rejected: list[tuple[str, str]] = []

        def observe(self, feed: str, obs: object) -> None:
            if self.fail:
                raise RuntimeError("bug")
            self.seen.append((feed, obs))

        def reject(self, feed: str, reason: str, topic: str, payload: bytes, detail: str) -> None:
            self.rejected.append((feed, reason))

        def connection_changed(self, state: object) -> None:
            pass

    def test_routes_by_topic_template(self) -> None:
        sink = self.Sink()
        Dispatcher(default_feeds(), sink, 4096).dispatch("parking/p1/spots/a7", b"1")
        assert sink.seen == [("spot", SpotObservation("p1", "a7", True))]

    def test_a_topic_of_no_template_is_bad_topic(self) -> None:
        sink = self.Sink()
        Dispatcher(default_feeds(), sink, 4096).dispatch("parking/p1/weather", b"1")
        assert sink.rejected == [("unknown", "bad_topic")]

    def test_an_oversized_payload_is_not_parsed(self) -> None:
        sink = self.Sink()
        Dispatcher(default_feeds(), sink, 64).dispatch("parking/p1/status", b'{"free": 1}' + b" " * 64)
        assert sink.rejected == [("lot", "oversized")]

    def test_a_bug_while_applying_is_counted_and_does_not_escape(self) -> None:
        sink = self.Sink(fail=True)
        Dispatcher(default_feeds(), sink, 4096).dispatch("parking/p1/status", b'{"free": 1}')
        assert sink.rejected == [("lot", "internal_error")]

    def test_a_bug_while_decoding_is_counted_and_does_not_escape(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken(fields: dict[str, str], payload: bytes) -> SpotObservation:
            raise KeyError("bug")

        monkeypatch.setitem(DECODERS, "spot", broken)
        sink = self.Sink()
        Dispatcher(default_feeds(), sink, 4096).dispatch("parking/p1/spots/a7", b"1")
        assert sink.rejected == [("spot", "internal_error")]

    def test_a_retained_gate_event_is_dropped_so_reconnects_do_not_count_it_again(self) -> None:
        sink = self.Sink()
        dispatcher = Dispatcher(default_feeds(), sink, 4096)
        dispatcher.dispatch("parking/p1/gates/west", b'{"event": "entry"}', retain=True)
        assert sink.rejected == [("gate", "retained_event")]
        assert sink.seen == []
        dispatcher.dispatch("parking/p1/gates/west", b'{"event": "entry"}', retain=False)
        assert sink.seen == [("gate", GateEventObservation("p1", "west", "entry"))]

    @pytest.mark.parametrize(
        ("topic", "payload"),
        [
            pytest.param("parking/p1/gates/west", b'{"entries": 5, "exits": 2}', id="gate-counters"),
            pytest.param("parking/p1/status", b'{"free": 3}', id="lot"),
            pytest.param("parking/p1/spots/a7", b"1", id="spot"),
        ],
    )
    def test_a_retained_state_is_applied(self, topic: str, payload: bytes) -> None:
        sink = self.Sink()
        Dispatcher(default_feeds(), sink, 4096).dispatch(topic, payload, retain=True)
        assert sink.rejected == []
        assert len(sink.seen) == 1

    def test_a_retained_event_that_does_not_decode_keeps_its_decode_reason(self) -> None:
        sink = self.Sink()
        Dispatcher(default_feeds(), sink, 4096).dispatch(
            "parking/p1/gates/west", b'{"event": "up"}', retain=True
        )
        assert sink.rejected == [("gate", "unknown_value")]

    def test_a_topic_seen_again_routes_as_it_did_the_first_time(self) -> None:
        sink = self.Sink()
        dispatcher = Dispatcher(default_feeds(), sink, 4096)
        for _ in range(2):
            dispatcher.dispatch("parking/p1/spots/a7", b"1")
            dispatcher.dispatch("parking/p1/weather", b"1")
        assert sink.seen == [("spot", SpotObservation("p1", "a7", True))] * 2
        assert sink.rejected == [("unknown", "bad_topic")] * 2

    def test_a_flood_of_distinct_topics_is_remembered_only_up_to_a_bound(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(ingest, "MATCH_CACHE_TOPICS", 100)
        sink = self.Sink()
        dispatcher = Dispatcher(default_feeds(), sink, 4096)
        for n in range(1_000):
            dispatcher.dispatch(f"parking/lot{n}/spots/a", b"1")
        remembered = dispatcher.remembered_topics
        dispatcher.dispatch("parking/p1/spots/" + "x" * ingest.MATCH_CACHE_TOPIC_CHARS, b"1")
        assert 0 < remembered <= 100
        assert dispatcher.remembered_topics == remembered  # a long topic is matched, not remembered
        assert len(sink.seen) == 1_001
