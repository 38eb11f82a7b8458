"""`import-osm --lots-yaml`: a lot per car park, its entrances, a guessed capacity marked (issue #21.3)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from parking.app.cli import EXIT_OK, EXIT_REFUSED, main
from parking.config import load_config_text
from parking.roads.lots import candidate_lots, lots_yaml
from parking.roads.osm import read_osm
from tests.test_osm import HELSINKI, HELSINKI_SITE

# a road, so that the extract imports; the car parks beside it
NODES = {
    1: (60.1700, 24.9400, {}),
    2: (60.1700, 24.9500, {}),
    # an area (11-14) with a point of the same car park inside it and an entrance node at its edge
    11: (60.1710, 24.9410, {}),
    12: (60.1710, 24.9420, {}),
    13: (60.1715, 24.9420, {}),
    14: (60.1715, 24.9410, {}),
    15: (60.17125, 24.9415, {"amenity": "parking", "name": "Torikatu P"}),
    16: (60.1709, 24.9415, {"amenity": "parking_entrance"}),
    # one garage mapped as two points 50 m apart, and one of that name 550 m away
    21: (60.1690, 24.9450, {"amenity": "parking", "name": "Halli", "parking": "underground"}),
    22: (60.1690, 24.9459, {"amenity": "parking", "name": "Halli", "parking": "underground"}),
    23: (60.1640, 24.9450, {"amenity": "parking", "name": "Halli", "capacity": "120"}),
    # private: unnamed (left out) and named (kept)
    31: (60.1680, 24.9400, {"amenity": "parking", "access": "private"}),
    32: (60.1680, 24.9480, {"amenity": "parking", "access": "private", "name": "Staff"}),
}
WAYS = {
    1: ([1, 2], {"highway": "residential", "name": "Katu"}),
    2: ([11, 12, 13, 14, 11], {"amenity": "parking", "parking": "surface"}),
}


def extract_xml() -> str:
    """A small extract with the car parks above."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for node, (lat, lon, tags) in NODES.items():
        tag = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        out.append(f'<node id="{node}" version="1" lat="{lat}" lon="{lon}">{tag}</node>')
    for way, (refs, tags) in WAYS.items():
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        tag = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        out.append(f'<way id="{way}" version="1">{nds}{tag}</way>')
    out.append("</osm>")
    return "\n".join(out)


@pytest.fixture
def extract(tmp_path: Path) -> Path:
    path = tmp_path / "lots.osm"
    path.write_text(extract_xml(), encoding="utf-8")
    return path


def written(extract: Path) -> dict[str, dict[str, object]]:
    osm = read_osm(extract)
    lots, _ = candidate_lots(osm.parking, osm.entrances)
    return {lot["name"]: lot for lot in yaml.safe_load(lots_yaml(lots, "ODbL"))["lots"]}


def test_one_lot_per_car_park(extract: Path) -> None:
    osm = read_osm(extract)
    lots, report = candidate_lots(osm.parking, osm.entrances)
    names = sorted(lot.first.name or lot.first.osm_id for lot in lots)
    assert names == ["Halli", "Halli", "Staff", "w2"]  # the area took its point; 31 left out
    assert (report.merged, report.private_skipped, report.entrances_used) == (2, 1, 1)
    by_id = {lot["id"]: lot for lot in yaml.safe_load(lots_yaml(lots, "ODbL"))["lots"]}
    area = by_id["osm-w2"]
    assert area["name"] == "Torikatu P"  # named by its point
    assert area["entrances"] == [{"id": "e1", "lat": 60.1709, "lon": 24.9415}]  # the parking_entrance node
    garage = by_id["osm-n21"]
    assert [e["lon"] for e in garage["entrances"]] == [24.945, 24.9459]  # each point of it an entrance
    assert "osm-n23" in by_id  # 550 m off: another car park of that name


def test_every_guessed_capacity_is_marked(extract: Path) -> None:
    lots = written(extract)
    assert all(lot.get("capacity_estimated") is True for name, lot in lots.items() if name != "Halli")
    tagged = [lot for lot in lots.values() if lot["id"] == "osm-n23"]
    assert tagged[0]["capacity"] == {"general": 120}
    assert "capacity_estimated" not in tagged[0]
    osm = read_osm(extract)
    text = lots_yaml(candidate_lots(osm.parking, osm.entrances)[0], "ODbL")
    assert "# n21, n22; no capacity tag: a point, 200 assumed for parking=underground" in text
    assert "# n32; no capacity tag: a point, 20 assumed for parking=surface; access=private" in text


def test_the_lots_load_as_config_and_check_warns(
    extract: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lots = tmp_path / "lots.yaml"
    assert main(["import-osm", str(extract), "-o", str(tmp_path / "g.npz"), "--lots-yaml", str(lots)]) == 0
    out = capsys.readouterr().out
    assert "2 merged" in out
    assert "1 left out" in out
    assert "3 capacities estimated" in out
    site = HELSINKI_SITE.split("lots:")[0] + lots.read_text(encoding="utf-8")
    site += "boards:\n  - {id: b, name: B, lat: 60.17, lon: 24.94, facing_deg: 90, destination: h/main}\n"
    site += "roads:\n  file: g.npz\n"
    config_path = tmp_path / "site.yaml"
    config_path.write_text(site, encoding="utf-8")
    config = load_config_text(site, source="<site>", env={})
    assert sum(lot.capacity_estimated for lot in config.lots) == 3
    assert main(["check", "-c", str(config_path)]) == EXIT_OK
    assert "warning:   3 lots have an estimated capacity" in capsys.readouterr().out


def test_board_candidates_on_the_main_roads_to_the_destination(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path = tmp_path / "helsinki.yaml"
    config_path.write_text(HELSINKI_SITE, encoding="utf-8")
    graph = str(tmp_path / "helsinki.npz")
    assert main(["import-osm", str(HELSINKI), "-o", graph, "--board-candidates"]) == EXIT_REFUSED
    assert main(["import-osm", str(HELSINKI), "-o", graph, "-c", str(config_path), "--board-candidates"]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.strip().startswith('node: "')]
    assert 3 <= len(lines) <= 12
    # the node examples/helsinki/config.yaml's Pitkasilta board was picked at by hand, facing south
    assert any('node: "1015008275", facing_deg: 177' in line and "Pitkäsilta" in line for line in lines)
