"""Dead ends come from the source data, not from the pruned graph (issue #21).

     1 ---- 2 ---- 7 ---- 8 ---- (9)      Ulko St runs on out of the extract: 9 is lost
     |      |                             Reuna St (4-10) was clipped at the extract's
10 - 4 ---- 3                             west edge (10 lies on the <bounds> box)
            |                             Umpi St (3-5) truly ends at 5
            5
"""

from __future__ import annotations

import collections
import itertools
from pathlib import Path

import numpy as np
import osmium
import pytest

from parking.app.cli import main
from parking.guidance.drive import quickest_drives
from parking.roads.graphfile import load_graph, save_graph
from parking.roads.osm import drivable, read_osm

HELSINKI = Path(__file__).resolve().parent / "data" / "helsinki-centre.osm.pbf"
NODES = {
    1: (60.1700, 24.9400),
    2: (60.1700, 24.9420),
    3: (60.1690, 24.9420),
    4: (60.1690, 24.9400),
    5: (60.1680, 24.9420),
    7: (60.1700, 24.9440),
    8: (60.1700, 24.9460),
    10: (60.1690, 24.9380),
}
WAYS = {
    1: ([1, 2, 3, 4, 1], "Kortteli St"),
    2: ([2, 7, 8, 9], "Ulko St"),
    3: ([3, 5], "Umpi St"),
    4: ([4, 10], "Reuna St"),
}


def clipped_xml() -> str:
    """An extract with a bounds box, a road running out of it and one clipped at its edge."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    out.append('<bounds minlat="60.1670" minlon="24.9380" maxlat="60.1720" maxlon="24.9480"/>')
    out += [f'<node id="{n}" version="1" lat="{lat}" lon="{lon}"/>' for n, (lat, lon) in NODES.items()]
    for way, (refs, name) in WAYS.items():
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        out.append(
            f'<way id="{way}" version="1">{nds}<tag k="highway" v="residential"/>'
            f'<tag k="name" v="{name}"/></way>'
        )
    out.append("</osm>")
    return "\n".join(out)


@pytest.fixture
def extract(tmp_path: Path) -> Path:
    path = tmp_path / "clipped.osm"
    path.write_text(clipped_xml(), encoding="utf-8")
    return path


def test_only_the_road_that_ends_in_the_data_is_a_dead_end(extract: Path) -> None:
    osm = read_osm(extract)
    # 8 and 10 have one way out in the graph, as 5 has, but only 5 ends a road in the data
    assert all(osm.graph.out_degree(n) == 1 for n in ("5", "8", "10"))
    assert osm.dead_ends == {"5"}
    assert osm.stats.cut_ways == 2
    assert osm.stats.cut_roads == ["Reuna St", "Ulko St"]


def test_no_u_turn_where_the_road_runs_out_of_the_extract(extract: Path) -> None:
    arcs = read_osm(extract).road_graph().arcs
    index = arcs.index

    def reached(origin: str, towards: str) -> set[str]:
        first = [a for a in arcs.out_arcs(index[origin]) if arcs.nodes[int(arcs.head[a])] == towards]
        return {arcs.nodes[n] for n in quickest_drives(arcs, index[origin], first).time_s}

    # heading out of the extract there is no way back: turning at 8 or 10 would be in mid-road
    assert reached("7", "8") == {"7", "8"}
    assert reached("4", "10") == {"4", "10"}
    assert "1" in reached("3", "5")  # at the true dead end the car turns and drives on


def test_the_graph_file_keeps_the_dead_ends_and_reads_old_files(extract: Path, tmp_path: Path) -> None:
    roads = read_osm(extract).road_graph()
    save_graph(tmp_path / "g.npz", roads, {"source": "clipped"})
    loaded, header = load_graph(tmp_path / "g.npz")
    assert header["version"] == 2
    assert loaded.dead_ends == {"5"}
    assert np.array_equal(loaded.arcs.u_turn, roads.arcs.u_turn)
    with np.load(tmp_path / "g.npz") as data:  # a version 1 file: no dead_end array
        old = {k: data[k] for k in data.files if k != "dead_end"}
    old["header"] = np.array(str(old["header"]).replace('"version": 2', '"version": 1'))
    np.savez_compressed(tmp_path / "old.npz", **old)  # type: ignore[arg-type]
    read_old, _ = load_graph(tmp_path / "old.npz")
    assert read_old.dead_ends is None
    assert read_old.arcs.u_turn[read_old.arcs.index["8"]]  # as before: one way out is a dead end


def test_the_import_report_names_the_cut_roads(
    extract: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import-osm", str(extract), "-o", str(tmp_path / "g.npz")]) == 0
    out = capsys.readouterr().out
    assert "2 cut at the extract's edge" in out
    assert "Reuna St, Ulko St" in out


def test_no_helsinki_route_turns_back_in_mid_road() -> None:
    neighbours: dict[str, set[int]] = collections.defaultdict(set)
    ways = osmium.FileProcessor(str(HELSINKI)).with_filter(osmium.filter.KeyFilter("highway"))
    for way in ways:
        if isinstance(way, osmium.osm.Way) and drivable({t.k: t.v for t in way.tags}):
            refs = [n.ref for n in way.nodes]
            for a, b in itertools.pairwise(refs):
                neighbours[str(a)].add(b)
                neighbours[str(b)].add(a)
    arcs = read_osm(HELSINKI).road_graph().arcs
    turned: set[str] = set()
    for origin in range(0, len(arcs.nodes), 7):
        tree = quickest_drives(arcs, origin, arcs.out_arcs(origin))
        for node in tree.time_s:
            path = tree.path(tree.arcs_to(node))
            turned |= {b for a, b, c in zip(path, path[1:], path[2:], strict=False) if a == c}
    assert turned  # routes do turn at the extract's true dead ends ...
    assert all(len(neighbours[node]) == 1 for node in turned)  # ... and nowhere else
