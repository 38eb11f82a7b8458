"""Replaying a recorded day: every recorded value lands, in order, on the lot it is mapped to."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest

from parking.app.feed import SiteFeed
from parking.app.metrics import Metrics
from parking.live import LiveSite
from parking.simulation.faults import Faults
from parking.simulation.replay import ReplayError, frame_messages, frames, lot_mapping, read_recording
from parking.simulation.simulator import SiteSimulator
from sensors.ingest import Dispatcher
from tests.helpers.data import REAL_DAY
from tests.helpers.site import T0, site_config
from tests.helpers.sites import lorawan_site

RECORDED_LOT = """  - id: r{n}
    name: Recorded {n}
    feed: lot
    lat: 30.0
    lon: 120.0
    capacity: {{general: 3000}}
    entrances: [{{lat: 30.0, lon: 120.0, node: n5}}]
"""


def recording() -> Path:
    return REAL_DAY


def test_the_real_day_lands_every_value_carried_forward() -> None:
    lots = "".join(RECORDED_LOT.format(n=n) for n in range(1, 10))
    config = site_config(**{"boards:": lots + "boards:"})
    rows = read_recording(recording())
    recorded = list(dict.fromkeys(lot for _, lot, _ in rows))
    assert len(recorded) == 9
    explicit = {lot: f"r{n}" for n, lot in enumerate(recorded, start=1)}
    mapping = lot_mapping(recorded, config, explicit)
    live = LiveSite(config, T0)
    metrics = Metrics.of(live)
    now = T0
    sink = SiteFeed(live, metrics, lambda: now)
    dispatcher = Dispatcher(config.feeds, sink, 4096)
    replayed = frames(rows, mapping)
    assert len(replayed) == len({at for at, _, _ in rows})  # every time of the day that has a row
    expected: dict[str, int] = {}
    landed = 0
    for frame in replayed:
        now += timedelta(seconds=1)
        for topic, payload in frame_messages(config, frame, now):
            dispatcher.dispatch(topic, payload)
        expected.update(frame.free)
        for lot, free in expected.items():
            assert live.view(lot).free == free, (frame.at, lot)
            landed += 1
    assert metrics.feed_messages.counts == {("lot", "applied"): landed}
    # the recorded rows themselves, each at its own time
    for at, lot, free in rows:
        assert next(f for f in replayed if f.at == at).free[mapping[lot]] == free


def test_recorded_lots_map_by_id_then_in_turn_onto_lot_system_lots() -> None:
    config = site_config()  # lot systems: hospital (gates and truths), tower, mall
    assert lot_mapping(["x", "tower", "y", "z", "w"], config) == {
        "x": "hospital",
        "tower": "tower",
        "y": "mall",
    }
    assert lot_mapping(["x", "y"], config, {"y": "mall"}) == {"y": "mall"}
    with pytest.raises(ReplayError, match="no configured lot 'nope'"):
        lot_mapping(["x"], config, {"x": "nope"})


def test_a_malformed_recording_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "day.csv"
    path.write_text("timestamp,lot,free\n2020-06-15T00:00:02+00:00,a,12\n2020-06-15T00:15:02+00:00,a,many\n")
    with pytest.raises(ReplayError, match="line 3"):
        read_recording(path)


def test_a_faulty_simulation_never_shows_a_count_out_of_range_or_breaks_ingest() -> None:
    config = lorawan_site()
    faults = Faults(duplicate=0.1, reorder=0.1, silent=0.2, skew_s=30, garbage=0.05)
    sim = SiteSimulator(config, random.Random(3), time_scale=60, start=T0, faults=faults)
    live = LiveSite(config, T0)
    metrics = Metrics.of(live)
    now = T0
    dispatcher = Dispatcher(config.feeds, SiteFeed(live, metrics, lambda: now), 4096)
    batches = [sim.initial_messages(T0)]
    for step in range(1, 121):
        batches.append(sim.step(T0 + timedelta(seconds=step), 1.0))
    for step, batch in enumerate(batches):
        now = T0 + timedelta(seconds=step)
        for topic, payload in batch:
            dispatcher.dispatch(topic, payload)
        live.tick(now)
        for view in live.views().values():
            assert view.free is None or 0 <= view.free <= view.capacity
    results = {result for _, result in metrics.feed_messages.counts}
    assert "internal_error" not in results
    assert {"applied", "duplicate"} <= results  # duplicates were sent, and recognised
    assert results - {"applied", "duplicate", "stale"}  # garbage was sent, and dropped


def test_faults_are_parsed_from_the_command_line_form() -> None:
    assert Faults.parse("duplicate=0.05, skew_s=30") == Faults(duplicate=0.05, skew_s=30)
    with pytest.raises(ValueError, match="name=value"):
        Faults.parse("lots=1")
    with pytest.raises(ValueError, match="between 0 and 1"):
        Faults.parse("garbage=2")
