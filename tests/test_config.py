"""The config loader: what a valid config.yaml looks like, and how mistakes are reported."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from datetime import time
from pathlib import Path

import networkx as nx
import pytest

from parking.config import Config, load_config, load_config_text
from parking.config.loader import MAX_BYTES, MAX_DEPTH
from parking.config.models import WEEKDAYS
from parking.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "config.yaml"

MINIMAL = """\
site:
  name: Test site
  timezone: Asia/Shanghai
hospitals:
  - id: general
    name: City General Hospital
    destinations:
      - id: main
        name: Main entrance
        lat: 30.2705
        lon: 120.1604
lots:
  - id: cp
    name: Hospital Car Park
    feed: lot
    lat: 30.2708
    lon: 120.1598
    capacity: {general: 300}
    entrances:
      - lat: 30.2706
        lon: 120.1590
        node: a
boards:
  - id: north
    name: North approach
    lat: 30.2750
    lon: 120.1600
    facing_deg: 180
    node: b
    destination: general/main
    pinned: [cp]
roads:
  nodes:
    a: [30.2706, 120.1590]
    b: [30.2750, 120.1600]
  ways:
    - name: Test Road
      nodes: [a, b]
"""

SPOT_LOT = """\
  - id: bays
    name: Street bays
    feed: spot
    lat: 30.2712
    lon: 120.1601
    spots: {general: S01-S24, ev: [SE1, SE2]}
    entrances:
      - lat: 30.2712
        lon: 120.1601
"""


def minimal_yaml() -> str:
    """A small valid config: one hospital, one lot, one board, a two-node road."""
    return MINIMAL


def edit(text: str, old: str, new: str) -> str:
    """Replace one exact snippet (which must be there) to make a variant of a config."""
    assert text.count(old) == 1, f"snippet not found exactly once: {old!r}"
    return text.replace(old, new)


def with_lot(lot_yaml: str) -> str:
    """The minimal config with one more lot appended to `lots`."""
    return edit(minimal_yaml(), "boards:\n", lot_yaml + "boards:\n")


def load(text: str, env: dict[str, str] | None = None) -> Config:
    """Load YAML text with a controlled environment (never the real one)."""
    return load_config_text(text, source="test.yaml", env=env or {})


def problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    """The problems reported for an invalid config."""
    with pytest.raises(ConfigError) as info:
        load(text, env)
    assert info.value.source == "test.yaml"
    return info.value.problems


def line_of(text: str, snippet: str) -> int:
    """1-based number of the line containing `snippet`."""
    matches = [n for n, line in enumerate(text.splitlines(), start=1) if snippet in line]
    assert len(matches) == 1, f"{snippet!r} is on lines {matches}"
    return matches[0]


# --- the example site -------------------------------------------------------


def test_example_config_loads() -> None:
    config = load_config(EXAMPLE, env={})
    assert config.site.timezone == "Asia/Shanghai"
    assert len(config.roads.nodes) >= 70
    assert len(config.lots) >= 6
    assert len(config.boards) >= 4
    assert {"general/main", "general/emergency"} <= set(config.destination_ids())
    assert {lot.kind for lot in config.lots} >= {"hospital", "office", "hotel", "mall", "street"}
    assert set().union(*(lot.sources for lot in config.lots)) == {"spot", "lot", "gate"}
    assert {entry.format for entry in config.feeds} == {"spot", "lot", "gate", "ttn-v3", "chirpstack-v4"}


def test_example_config_takes_secrets_from_the_environment() -> None:
    assert load_config(EXAMPLE, env={}).mqtt.password == ""
    assert load_config(EXAMPLE, env={"MQTT_PASSWORD": "s3cret"}).mqtt.password == "s3cret"


def test_example_lots_are_reachable_from_every_board() -> None:
    config = load_config(EXAMPLE, env={})
    graph = nx.DiGraph()
    for way in config.roads.ways:
        for a, b in itertools.pairwise(way.nodes):
            graph.add_edge(a, b)
            if not way.oneway:
                graph.add_edge(b, a)
    for board in config.boards:
        assert board.node is not None
        for lot in config.lots:
            for entrance in lot.entrances:
                assert entrance.node is not None
                assert nx.has_path(graph, board.node, entrance.node), (board.id, lot.id)


def test_minimal_config_loads_with_defaults() -> None:
    config = load(minimal_yaml())
    assert config.mqtt.host == "127.0.0.1"
    assert config.mqtt.port == 1883
    assert [(entry.format, entry.topic) for entry in config.feeds] == [
        ("spot", "parking/{lot}/spots/{spot}"),
        ("lot", "parking/{lot}/status"),
        ("gate", "parking/{lot}/gates/{gate}"),
    ]
    assert config.defaults.freshness_s == 900
    assert config.lot("cp").capacities() == {"general": 300}
    assert config.lot("cp").entrances[0].id == "main"
    assert config.lot("cp").display_label == "Hospital Car Park"


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.yaml", env={})


def test_a_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read: Is a directory"):
        load_config(tmp_path, env={})


# --- the file must be UTF-8 text ---------------------------------------------


def test_a_file_that_is_not_utf8_names_the_line_and_key(tmp_path: Path) -> None:
    text = edit(minimal_yaml(), "name: Test site", "name: Caf\u00e9 site")
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(text.encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        load_config(latin1, env={})
    assert info.value.source == str(latin1)
    assert info.value.problems == [
        f"line {line_of(text, 'Caf')}: site.name: byte 0xe9 is not UTF-8 (save the file as UTF-8)"
    ]


def test_a_binary_file_is_a_config_error(tmp_path: Path) -> None:
    png = tmp_path / "logo.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(ConfigError) as info:
        load_config(png, env={})
    assert info.value.problems == ["line 1: byte 0x89 is not UTF-8 (save the file as UTF-8)"]


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    with_bom = tmp_path / "bom.yaml"
    with_bom.write_bytes(b"\xef\xbb\xbf" + minimal_yaml().encode())
    assert load_config(with_bom, env={}).site.name == "Test site"


def test_a_control_character_names_the_line_and_key() -> None:
    text = edit(minimal_yaml(), "name: Test site", "name: Test\x00site")
    line = line_of(text, "Test\x00")
    assert problems(text) == [
        f"line {line}: site.name: character U+0000 is not allowed in YAML (is this a text file?)"
    ]


def test_a_file_larger_than_any_config_is_refused_unread(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    huge.write_bytes(b"#" * (MAX_BYTES + 1))
    with pytest.raises(ConfigError, match=r"larger than 16 MiB"):
        load_config(huge, env={})


# --- errors name the file, the line and the dotted path ---------------------


def test_unknown_key_names_its_path_and_line() -> None:
    text = edit(minimal_yaml(), "    feed: lot\n", "    feed: lot\n    colour: red\n")
    assert problems(text) == [
        f"line {line_of(text, 'colour')}: lots[0].colour: "
        "unknown key (check the spelling; see docs/config.md)"
    ]


def test_unknown_top_level_section_is_an_error() -> None:
    text = minimal_yaml() + "databse:\n  dsn: postgres://localhost/parking\n"
    [problem] = problems(text)
    assert problem.startswith(f"line {line_of(text, 'databse')}: databse: unknown key")


def test_wrong_type_names_its_path_and_line() -> None:
    text = edit(minimal_yaml(), "facing_deg: 180", "facing_deg: south")
    [problem] = problems(text)
    assert problem.startswith(f"line {line_of(text, 'facing_deg')}: boards[0].facing_deg: ")
    assert "valid number" in problem


def test_missing_required_key_names_the_section() -> None:
    text = edit(minimal_yaml(), "    feed: lot\n", "")
    assert problems(text) == [f"line {line_of(text, '- id: cp')}: lots[0]: missing required key 'feed'"]


def test_every_problem_is_reported_at_once() -> None:
    text = edit(minimal_yaml(), "facing_deg: 180", "facing_deg: 400")
    text = edit(text, "    feed: lot\n", "    feed: lot\n    colour: red\n")
    reported = problems(text)
    assert len(reported) == 2
    assert any("boards[0].facing_deg" in p for p in reported)
    assert any("lots[0].colour" in p for p in reported)


def test_error_message_starts_with_the_file_name() -> None:
    text = edit(minimal_yaml(), "facing_deg: 180", "facing_deg: south")
    with pytest.raises(ConfigError) as info:
        load(text)
    assert str(info.value).startswith("test.yaml: line ")


def test_invalid_yaml_reports_its_line() -> None:
    text = edit(minimal_yaml(), "    feed: lot\n", "    feed: [lot\n")
    [problem] = problems(text)
    assert problem.startswith("line ")
    assert "invalid YAML" in problem
    reported_line = int(problem.split(":")[0].removeprefix("line "))
    assert line_of(text, "feed: [lot") <= reported_line <= line_of(text, "feed: [lot") + 1


def test_duplicate_yaml_key_is_reported_with_its_line() -> None:
    text = edit(minimal_yaml(), "    feed: lot\n", "    feed: lot\n    feed: gate\n")
    assert problems(text) == [f"line {line_of(text, 'feed: gate')}: lots[0].feed: duplicate key"]


def test_an_empty_value_is_null() -> None:
    # `username:` with nothing after it means no username: an anonymous broker
    config = load(minimal_yaml() + "mqtt:\n  username:\n  password: ${MQTT_PASSWORD:-}\n")
    assert config.mqtt.username is None


def test_an_empty_value_where_one_is_required_names_its_line() -> None:
    text = minimal_yaml() + "mqtt:\n  port:\n"
    assert problems(text) == [f"line {line_of(text, 'port:')}: mqtt.port: Input should be a valid integer"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("!!int abc", "'abc' is not a valid !!int"),
        ("0x_", "'0x_' is not a valid !!int"),
        pytest.param("9" * 5000, "is not a valid !!int", id="5000-digits"),
        ("!!bool maybe", "'maybe' is not a valid !!bool"),
        ("!!timestamp soon", "'soon' is not a valid !!timestamp"),
        ("!secret abc", "could not determine a constructor for the tag '!secret'"),
        ("!!python/object:os.system ls", "could not determine a constructor"),
    ],
)
def test_a_value_yaml_cannot_read_names_its_line(value: str, message: str) -> None:
    text = minimal_yaml() + f"mqtt:\n  port: {value}\n"
    [problem] = problems(text)
    assert problem.startswith(f"line {line_of(text, 'port:')}: mqtt.port: ")
    assert message in problem
    assert len(problem) < 200


@pytest.mark.parametrize("key", ["[x, y]", "{x: 1}", "<<"])
def test_a_key_must_be_a_plain_name(key: str) -> None:
    text = minimal_yaml() + f"mqtt:\n  ? {key}\n  : {{host: broker}}\n"
    assert problems(text) == [
        f"line {line_of(text, key)}: mqtt: a key must be a plain name (no lists, mappings or << merges)"
    ]


def test_empty_file_is_an_error() -> None:
    assert problems("") == ["the file is empty"]


def test_top_level_must_be_a_mapping() -> None:
    assert problems("- site\n- lots\n") == ["line 1: the top level must be a mapping of sections"]


# --- anchors, aliases and nesting: bounded work for any file ---------------


REFUSED = "YAML anchors and aliases are not allowed; write each value out in full"


def test_anchors_and_aliases_are_refused_with_their_lines() -> None:
    text = edit(
        minimal_yaml(), "hospitals:\n", "defaults:\n  thresholds: &usual {full_exit_free: 3}\nhospitals:\n"
    )
    text = edit(text, "    feed: lot\n", "    feed: lot\n    thresholds: *usual\n")
    assert problems(text) == [
        f"line {line_of(text, '&usual')}: defaults.thresholds: anchor &usual: {REFUSED}",
        f"line {line_of(text, '*usual')}: lots[0].thresholds: alias *usual: {REFUSED}",
    ]


def test_a_line_of_aliases_is_one_problem() -> None:
    text = minimal_yaml() + "x: &x [1, 2]\ny: [*x, *x, *x]\n"
    assert problems(text) == [
        f"line {line_of(text, '&x')}: x: anchor &x: {REFUSED}",
        f"line {line_of(text, '*x')}: y[0]: alias *x: {REFUSED}",
    ]


def test_nesting_up_to_the_cap_is_read() -> None:
    depth = MAX_DEPTH - 2  # the top level and `mqtt` are two levels
    text = minimal_yaml() + "mqtt:\n  host: " + "[" * depth + "]" * depth + "\n"
    [problem] = problems(text)
    assert problem.startswith(f"line {line_of(text, 'host:')}: mqtt.host: Input should be a valid string")


def test_nesting_beyond_the_cap_is_refused_with_its_line() -> None:
    depth = MAX_DEPTH - 1
    text = minimal_yaml() + "mqtt:\n  host: " + "[" * depth + "]" * depth + "\n"
    path = "mqtt.host" + "[0]" * (depth - 1)
    assert problems(text) == [
        f"line {line_of(text, 'host:')}: {path}: nested more than {MAX_DEPTH} levels deep"
    ]


# The child's own peak is VmHWM, its address space's high-water mark: Linux carries
# ru_maxrss across exec, so that would report the test run's peak whenever it is the larger.
LOAD_IN_A_CHILD = """
import json, sys
from parking.config import load_config
from parking.errors import ConfigError
try:
    load_config(sys.argv[1], env={})
    problems = []
except ConfigError as exc:
    problems = exc.problems
with open("/proc/self/status") as status:
    peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"problems": problems, "peak_rss_mib": peak_kib / 1024}))
"""


def load_in_a_child(path: Path) -> tuple[list[str], float]:
    """Load a config file in a fresh interpreter: the problems found, and its peak RSS in MiB.

    The child measures itself: RUSAGE_CHILDREN here would be the largest of every child this
    test run has waited for (the demo, private brokers), not this one, and its own ru_maxrss
    starts at this process's peak (Linux keeps it across exec).
    """
    child = subprocess.run(
        [sys.executable, "-c", LOAD_IN_A_CHILD, str(path)], capture_output=True, text=True, check=True
    )
    report = json.loads(child.stdout)
    return report["problems"], report["peak_rss_mib"]


def billion_laughs() -> str:
    """Nine levels of nine aliases: a few hundred bytes that expand to 9**9 strings."""
    lines = ["a: &a [" + ",".join(['"lol"'] * 9) + "]"]
    for previous, name in itertools.pairwise("abcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.slow
@pytest.mark.timeout(30)
def test_an_alias_bomb_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(billion_laughs())
    assert bomb.stat().st_size < 400
    found, peak_mib = load_in_a_child(bomb)
    assert found[:2] == [f"line 1: a: anchor &a: {REFUSED}", f"line 2: b: anchor &b: {REFUSED}"]
    assert len(found) == 9  # one per line
    assert peak_mib < 200


@pytest.mark.slow
@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("nesting", "line"),
    [
        pytest.param("site: " + "[" * 50_000 + "]" * 50_000 + "\n", 1, id="flow"),
        pytest.param("site:\n  " + "- " * 50_000 + "x\n", 2, id="block"),
    ],
)
def test_deep_nesting_is_refused_in_bounded_memory(tmp_path: Path, nesting: str, line: int) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text(nesting)
    found, peak_mib = load_in_a_child(deep)
    assert found == [f"line {line}: site{'[0]' * (MAX_DEPTH - 1)}: nested more than {MAX_DEPTH} levels deep"]
    assert peak_mib < 200


# --- environment variables ---------------------------------------------------


def test_set_environment_variable_is_substituted() -> None:
    text = edit(minimal_yaml(), "name: Test site", "name: ${SITE_NAME}")
    assert load(text, env={"SITE_NAME": "Wulin"}).site.name == "Wulin"


def test_substitution_works_inside_a_longer_string() -> None:
    text = edit(minimal_yaml(), "name: Test site", "name: Site ${CITY} (${DISTRICT:-centre})")
    assert load(text, env={"CITY": "Hangzhou"}).site.name == "Site Hangzhou (centre)"


def test_missing_environment_variable_is_an_error() -> None:
    text = edit(minimal_yaml(), "name: Test site", "name: ${SITE_NAME}")
    assert problems(text) == [
        f"line {line_of(text, 'SITE_NAME')}: site.name: environment variable SITE_NAME is not set"
    ]


def test_default_is_used_when_the_variable_is_unset() -> None:
    text = minimal_yaml() + "mqtt:\n  password: ${MQTT_PASSWORD:-guest}\n"
    assert load(text).mqtt.password == "guest"


def test_empty_default_gives_an_empty_string() -> None:
    text = minimal_yaml() + "mqtt:\n  password: ${MQTT_PASSWORD:-}\n"
    assert load(text).mqtt.password == ""


def test_empty_variable_is_replaced_by_the_default_as_in_the_shell() -> None:
    text = minimal_yaml() + "mqtt:\n  password: ${MQTT_PASSWORD:-guest}\n"
    assert load(text, env={"MQTT_PASSWORD": ""}).mqtt.password == "guest"


def test_empty_variable_without_default_is_empty() -> None:
    text = minimal_yaml() + "mqtt:\n  password: ${MQTT_PASSWORD}\n"
    assert load(text, env={"MQTT_PASSWORD": ""}).mqtt.password == ""


def test_set_variable_wins_over_the_default() -> None:
    text = minimal_yaml() + "mqtt:\n  password: ${MQTT_PASSWORD:-guest}\n"
    assert load(text, env={"MQTT_PASSWORD": "s3cret"}).mqtt.password == "s3cret"


def test_substituted_value_is_validated_for_its_field() -> None:
    text = minimal_yaml() + "mqtt:\n  port: ${MQTT_PORT:-1883}\n"
    assert load(text).mqtt.port == 1883
    assert load(text, env={"MQTT_PORT": "8883"}).mqtt.port == 8883
    [problem] = problems(text, env={"MQTT_PORT": "eighty"})
    assert problem.startswith(f"line {line_of(text, 'MQTT_PORT')}: mqtt.port: ")


# --- cross-references --------------------------------------------------------


def test_duplicate_lot_ids_are_rejected() -> None:
    text = with_lot(SPOT_LOT.replace("id: bays", "id: cp"))
    [problem] = problems(text)
    assert "lots: id 'cp' is used twice" in problem


def test_board_pinned_to_an_unknown_lot_is_rejected() -> None:
    text = edit(minimal_yaml(), "pinned: [cp]", "pinned: [nowhere]")
    [problem] = problems(text)
    assert "board 'north': pinned lot 'nowhere' is not a lot" in problem
    assert problem.startswith(f"line {line_of(text, 'id: north')}: ")


def test_board_with_an_unknown_destination_is_rejected() -> None:
    text = edit(minimal_yaml(), "destination: general/main", "destination: general/er")
    [problem] = problems(text)
    assert "board 'north': unknown destination 'general/er' (known: general/main)" in problem


def test_destination_must_name_the_hospital_too() -> None:
    text = edit(minimal_yaml(), "destination: general/main", "destination: main")
    assert "unknown destination 'main'" in problems(text)[0]


def test_entrance_on_an_unknown_road_node_is_rejected() -> None:
    text = edit(minimal_yaml(), "node: a\n", "node: zz\n")
    assert "lot 'cp' entrance 'main': unknown road node 'zz'" in problems(text)[0]


def test_way_through_an_unknown_node_is_rejected() -> None:
    text = edit(minimal_yaml(), "nodes: [a, b]", "nodes: [a, b, c]")
    [problem] = problems(text)
    assert "roads: ways[0] (Test Road) uses unknown node 'c'" in problem


def test_walk_times_name_full_destination_ids() -> None:
    text = edit(minimal_yaml(), "    feed: lot\n", "    feed: lot\n    walk_s: {general/main: 90}\n")
    assert load(text).lot("cp").walk_s == {"general/main": 90}
    text = edit(minimal_yaml(), "    feed: lot\n", "    feed: lot\n    walk_s: {main: 90}\n")
    assert "lot 'cp' walk_s: unknown destination 'main'" in problems(text)[0]


# --- spots and capacity ------------------------------------------------------


def test_spot_ranges_expand_keeping_prefix_and_width() -> None:
    lot = load(with_lot(SPOT_LOT)).lot("bays")
    ids = lot.spot_ids()
    assert ids["general"][:3] == ["S01", "S02", "S03"]
    assert ids["general"][-1] == "S24"
    assert len(ids["general"]) == 24
    assert ids["ev"] == ["SE1", "SE2"]


def test_capacity_of_a_spot_lot_is_counted_from_its_spots() -> None:
    lot = load(with_lot(SPOT_LOT)).lot("bays")
    assert lot.capacities() == {"general": 24, "ev": 2}


def test_range_without_a_prefix_and_with_wider_numbers() -> None:
    text = with_lot(SPOT_LOT.replace("S01-S24", "098-101"))
    assert load(text).lot("bays").spot_ids()["general"] == ["098", "099", "100", "101"]


@pytest.mark.parametrize("spec", ["S01-T24", "S24-S01", "S01..S24", "S01"])
def test_malformed_spot_range_is_rejected(spec: str) -> None:
    [problem] = problems(with_lot(SPOT_LOT.replace("S01-S24", spec)))
    assert problem.startswith(f"line {line_of(with_lot(SPOT_LOT), '- id: bays')}: lots[1]: ")
    assert f"spot range {spec!r}" in problem


def test_same_spot_twice_in_a_lot_is_rejected() -> None:
    [problem] = problems(with_lot(SPOT_LOT.replace("[SE1, SE2]", "[SE1, S07]")))
    assert "spot 'S07' is listed twice" in problem


def test_spot_lot_with_a_capacity_is_rejected() -> None:
    text = with_lot(SPOT_LOT.replace("    entrances:", "    capacity: {general: 24}\n    entrances:"))
    [problem] = problems(text)
    assert "lots[1]: a lot with feed 'spot' takes its capacity from spots; drop capacity" in problem


def test_spot_lot_without_spots_is_rejected() -> None:
    text = with_lot(SPOT_LOT.replace("    spots: {general: S01-S24, ev: [SE1, SE2]}\n", ""))
    assert "lists its spots" in problems(text)[0]


def test_counted_lot_with_spots_is_rejected() -> None:
    text = edit(minimal_yaml(), "    feed: lot\n", "    feed: lot\n    spots: {general: A01-A10}\n")
    assert "spots are only for feed 'spot'" in problems(text)[0]


@pytest.mark.parametrize("capacity", ["{}", "{general: 0}"])
def test_counted_lot_needs_some_capacity(capacity: str) -> None:
    text = edit(minimal_yaml(), "capacity: {general: 300}", f"capacity: {capacity}")
    assert "capacity must give at least one category with spaces" in problems(text)[0]


def test_category_names_are_lower_case() -> None:
    text = edit(minimal_yaml(), "capacity: {general: 300}", "capacity: {General: 300}")
    assert problems(text)[0].startswith(f"line {line_of(text, '{General')}: lots[0].capacity.General: ")


def test_board_label_is_at_most_24_characters() -> None:
    text = edit(minimal_yaml(), "    feed: lot\n", "    feed: lot\n    label: " + "x" * 25 + "\n")
    assert "lots[0].label" in problems(text)[0]


# --- time windows ------------------------------------------------------------


def hours(days: str, start: str = '"07:00"', end: str = '"10:00"') -> str:
    """The minimal config with one opening-hours window on the lot."""
    window = f"    opening_hours: [{{days: {days}, from: {start}, to: {end}}}]\n"
    return edit(minimal_yaml(), "    feed: lot\n", "    feed: lot\n" + window)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("daily", list(WEEKDAYS)),
        ("mon-fri", ["mon", "tue", "wed", "thu", "fri"]),
        ('"sat,sun"', ["sat", "sun"]),
        ("[tue, thu]", ["tue", "thu"]),
        ('"mon-wed, sat"', ["mon", "tue", "wed", "sat"]),
        ("fri-mon", ["fri", "sat", "sun", "mon"]),
        ("Mon-Tue", ["mon", "tue"]),
    ],
)
def test_days_spec_expands_to_weekday_names(spec: str, expected: list[str]) -> None:
    [window] = load(hours(spec)).lot("cp").opening_hours
    assert window.days == expected


def test_days_default_to_every_day() -> None:
    text = edit(
        minimal_yaml(),
        "    feed: lot\n",
        "    feed: lot\n    opening_hours: [{from: '07:00', to: '10:00'}]\n",
    )
    assert load(text).lot("cp").opening_hours[0].days == list(WEEKDAYS)


def test_unknown_day_is_rejected() -> None:
    text = hours("mon-fry")
    assert problems(text) == [
        f"line {line_of(text, 'mon-fry')}: lots[0].opening_hours[0].days: "
        "unknown day 'mon-fry'; use mon, tue, wed, thu, fri, sat, sun"
    ]


def test_window_times_are_local_clock_times() -> None:
    [window] = load(hours("daily", '"06:30"', '"22:00"')).lot("cp").opening_hours
    assert (window.start, window.end) == (time(6, 30), time(22, 0))


def test_unquoted_times_are_read_as_clock_times() -> None:
    # YAML 1.1 would read a bare 22:00 as the base-60 number 1320
    [window] = load(hours("daily", "06:30", "22:00")).lot("cp").opening_hours
    assert (window.start, window.end) == (time(6, 30), time(22, 0))


def test_window_may_cross_midnight() -> None:
    [window] = load(hours("daily", '"22:00"', '"02:00"')).lot("cp").opening_hours
    assert window.end < window.start


def test_invalid_time_is_rejected() -> None:
    assert "lots[0].opening_hours[0].to" in problems(hours("daily", '"07:00"', '"25:00"'))[0]


# --- other sections ----------------------------------------------------------


def test_invalid_timezone_is_rejected() -> None:
    text = edit(minimal_yaml(), "Asia/Shanghai", "Asia/Atlantis")
    assert problems(text) == [
        f"line {line_of(text, 'Atlantis')}: site.timezone: unknown time zone 'Asia/Atlantis'"
    ]


def test_timezone_defaults_to_utc() -> None:
    assert load(edit(minimal_yaml(), "  timezone: Asia/Shanghai\n", "")).site.timezone == "UTC"


def test_thresholds_must_leave_above_where_they_enter() -> None:
    text = minimal_yaml() + "defaults:\n  thresholds: {full_enter_free: 5, full_exit_free: 2}\n"
    [problem] = problems(text)
    assert "defaults.thresholds: full_exit_free must be >= full_enter_free" in problem


def test_lot_thresholds_replace_the_defaults() -> None:
    text = edit(
        minimal_yaml(),
        "    feed: lot\n",
        "    feed: lot\n    thresholds: {almost_full_enter_pct: 5, almost_full_exit_pct: 8}\n",
    )
    thresholds = load(text).lot("cp").thresholds
    assert thresholds is not None
    assert thresholds.almost_full_enter_pct == 5
    assert thresholds.full_exit_free == 2


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("parking/+/spots/{spot}", "not MQTT wildcards"),
        ("parking/#", "not MQTT wildcards"),
        ("parking/spots/{spot}", "must contain {lot}"),
        ("parking/{lot}/spots/{bay}", "unknown placeholder {bay}"),
        ("parking/{lot}{spot}", "separated by text"),
        ("parking/{lot/{spot}", "unbalanced braces"),
        ("parking/{lot}/{lot}/{spot}", "appears twice"),
    ],
)
def test_topic_templates_are_checked(template: str, message: str) -> None:
    text = minimal_yaml() + f'feeds:\n  - format: spot\n    topic: "{template}"\n'
    [problem] = problems(text)
    assert problem.startswith(f"line {line_of(text, '- format: spot')}: feeds[0]: ")
    assert message in problem


def test_placeholders_may_share_a_topic_level() -> None:
    text = minimal_yaml() + (
        'feeds:\n  - {format: spot, topic: "site/lot-{lot}/bay-{spot}"}\n'
        '  - {format: ttn-v3, topic: "v3/{app}@{tenant}/devices/{device}/up"}\n'
    )
    assert [entry.topic for entry in load(text).feeds] == [
        "site/lot-{lot}/bay-{spot}",
        "v3/{app}@{tenant}/devices/{device}/up",
    ]


def test_a_format_left_out_is_off_and_one_format_may_have_several_feeds() -> None:
    text = minimal_yaml() + (
        "feeds:\n"
        '  - {format: lot, topic: "site/{lot}/free"}\n'
        '  - {format: lot, topic: "legacy/{lot}/count"}\n'
    )
    assert [(e.format, e.topic) for e in load(text).feeds] == [
        ("lot", "site/{lot}/free"),
        ("lot", "legacy/{lot}/count"),
    ]


def test_an_old_style_feeds_mapping_says_how_to_write_the_list() -> None:
    text = minimal_yaml() + "feeds:\n  gate: null\n  lot: site/{lot}/free\n"
    [problem] = problems(text)
    assert problem == (
        f"line {line_of(text, 'feeds:')}: feeds: feeds is now a list, one entry per feed with its format "
        "and topic (formats left out are off; see docs/config.md#feeds); write: "
        'feeds: [{format: lot, topic: "site/{lot}/free"}]'
    )


def test_config_is_immutable() -> None:
    config = load(minimal_yaml())
    with pytest.raises(ValueError, match="frozen"):
        config.site.name = "changed"  # type: ignore[misc]


def test_the_demo_runs_on_config_yaml_itself_not_a_copy() -> None:
    from importlib import resources

    packaged = resources.files("parking").joinpath("example.yaml")
    assert packaged.read_text(encoding="utf-8") == EXAMPLE.read_text(encoding="utf-8")
    assert (Path(__file__).resolve().parent.parent / "parking" / "example.yaml").is_symlink()
