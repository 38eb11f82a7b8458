"""`check` reads the road graph a config names; `run` refuses a config whose nodes it lacks (issue #21.2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from parking.app.cli import EXIT_ERROR, EXIT_OK, EXIT_REFUSED, main
from tests.test_osm_dead_ends import clipped_xml

SITE = """
site: {{name: Clipped, timezone: Europe/Helsinki}}
hospitals:
  - id: h
    name: Clinic
    destinations: [{{id: main, name: Main door, lat: 60.1695, lon: 24.9410}}]
lots:
  - {{id: corner, name: Corner, feed: lot, lat: 60.1700, lon: 24.9400, capacity: {{general: 20}},
     entrances: [{{lat: 60.1700, lon: 24.9400, node: "{entrance}"}}]}}
boards:
  - {{id: east, name: East, lat: 60.1700, lon: 24.9440, node: "7", facing_deg: {facing}, destination: h/main}}
roads:
  file: roads.npz
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    extract = tmp_path / "clipped.osm"
    extract.write_text(clipped_xml(), encoding="utf-8")
    assert main(["import-osm", str(extract), "-o", str(tmp_path / "roads.npz")]) == EXIT_OK
    return tmp_path


def write(site: Path, entrance: str = "1", facing: int = 270) -> str:
    path = site / "config.yaml"
    path.write_text(SITE.format(entrance=entrance, facing=facing), encoding="utf-8")
    return str(path)


def test_check_passes_a_site_whose_boards_reach_a_lot(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "-c", write(site)]) == EXIT_OK
    assert "OK" in capsys.readouterr().out


def test_a_node_the_graph_lacks_fails_check_and_is_refused_by_run(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(site, entrance="9")  # the node the extract lost
    assert main(["check", "-c", path]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert f"  {path}: lots[0].entrances[0].node: '9' is not a node of the road graph" in err
    assert main(["run", "-c", path]) == EXIT_REFUSED  # before it binds a port or meets the broker
    assert "lots[0].entrances[0].node" in capsys.readouterr().err


def test_a_board_that_reaches_no_lot_fails_check(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(site, facing=90)  # facing out of the extract, where the road is cut
    assert main(["check", "-c", path]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert f"  {path}: boards[0]: no lot can be reached by road from board 'east' facing 90 degrees" in err
