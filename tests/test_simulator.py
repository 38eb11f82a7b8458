"""The feed simulator, without a loop or broker: its messages decode and keep the engine in step."""

from __future__ import annotations

import random
import statistics
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from parking.availability import Availability
from parking.observations import (
    GateCounterObservation,
    GateEventObservation,
    LotObservation,
    SpotObservation,
)
from parking.simulation.demand import demand
from parking.simulation.simulator import RECOUNT_S, SiteSimulator
from tests.helpers.simulation import TZ, WEDNESDAY_06, decode, site

SATURDAY_06 = datetime(2026, 11, 28, 6, 0, tzinfo=TZ)

Batch = list[tuple[str, bytes]]


def simulate(
    sim: SiteSimulator, start: datetime, steps: int, dt_s: float = 1.0
) -> Iterator[tuple[datetime, Batch]]:
    """The snapshot and `steps` steps (lazily), each paired with the time it is published at.

    Published time moves with simulated time (dt_s * time_scale a step), as the engine would see it.
    """
    now = start.astimezone(UTC)
    yield now, sim.initial_messages(now)
    for _ in range(steps):
        now += timedelta(seconds=dt_s * sim.time_scale)
        yield now, sim.step(now, dt_s)


class TestMessages:
    def test_every_message_decodes_into_a_configured_lot_spot_or_gate(self) -> None:
        config = site()
        sim = SiteSimulator(config, random.Random(1), time_scale=30)
        batches = simulate(sim, WEDNESDAY_06, steps=100)
        feeds_seen: set[str] = set()
        for _, batch in batches:
            for topic, payload in batch:
                obs = decode(config, topic, payload)
                lot = config.lot(obs.lot)
                feeds_seen.add(type(obs).__name__)
                if isinstance(obs, SpotObservation):
                    assert lot.feed == "spot"
                    assert obs.spot in {s for ids in lot.spot_ids().values() for s in ids}
                    assert obs.seq is not None
                    assert obs.ts is not None
                elif isinstance(obs, GateCounterObservation):
                    assert lot.feed == "gate"
                    assert obs.gate in (lot.gates or ["g1"])
                    assert obs.entries >= obs.exits
                elif isinstance(obs, LotObservation):
                    assert lot.feed in ("lot", "gate")
                    assert obs.capacity == sum(lot.capacities().values())
                    assert 0 <= obs.free <= obs.capacity
                    assert set(obs.categories) == set(lot.capacities()) - {"general"}
                else:
                    assert not isinstance(obs, GateEventObservation), "counters only"
        assert feeds_seen == {"SpotObservation", "GateCounterObservation", "LotObservation"}

    def test_the_snapshot_reports_every_spot_every_gate_and_every_count(self) -> None:
        config = site()
        snapshot = SiteSimulator(config, random.Random(2)).initial_messages(WEDNESDAY_06)
        topics = [topic for topic, _ in snapshot]
        assert len(topics) == len(set(topics))
        assert {t for t in topics if "/spots/" in t} == {
            f"parking/{lot.id}/spots/{spot}"
            for lot in config.lots
            if lot.feed == "spot"
            for ids in lot.spot_ids().values()
            for spot in ids
        }
        assert {t for t in topics if "/gates/" in t} == {
            "parking/hospital-cp/gates/west",
            "parking/hospital-cp/gates/north",
            "parking/hotel/gates/g1",
        }
        # gate lots get a lot-level truth, after their counters
        assert {t for t in topics if t.endswith("/status")} == {
            "parking/hospital-cp/status",
            "parking/tower/status",
            "parking/hotel/status",
        }
        assert topics.index("parking/hospital-cp/status") > topics.index("parking/hospital-cp/gates/north")

    def test_gate_counters_start_as_a_plausible_history(self) -> None:
        config = site()
        sim = SiteSimulator(config, random.Random(3))
        snapshot = sim.initial_messages(WEDNESDAY_06)
        counters = [decode(config, t, p) for t, p in snapshot if t.startswith("parking/hospital-cp/gates/")]
        assert all(isinstance(c, GateCounterObservation) and c.exits > 1000 for c in counters)
        inside = sum(c.entries - c.exits for c in counters if isinstance(c, GateCounterObservation))
        assert inside == sum(sim.occupancy("hospital-cp").values())

    def test_spot_sequence_numbers_only_increase(self) -> None:
        config = site()
        sim = SiteSimulator(config, random.Random(4), time_scale=60)
        last: dict[str, int] = {}
        for _, batch in simulate(sim, WEDNESDAY_06, steps=100):
            for topic, payload in batch:
                obs = decode(config, topic, payload)
                if isinstance(obs, SpotObservation):
                    assert obs.seq is not None
                    assert obs.seq > last.get(topic, -1)
                    last[topic] = obs.seq

    def test_a_feed_left_out_is_not_published(self) -> None:
        config = site(**{"roads:": 'feeds: [{format: lot, topic: "parking/{lot}/status"}]\nroads:'})
        sim = SiteSimulator(config, random.Random(5), time_scale=60)
        topics = {t for _, batch in simulate(sim, WEDNESDAY_06, steps=20) for t, _ in batch}
        assert topics == {"parking/hospital-cp/status", "parking/tower/status", "parking/hotel/status"}

    def test_the_same_seed_gives_the_same_messages(self) -> None:
        config = site()
        runs = [
            list(simulate(SiteSimulator(config, random.Random(6), time_scale=10), WEDNESDAY_06, 50))
            for _ in "ab"
        ]
        assert runs[0] == runs[1]


class TestEngineInStep:
    def test_the_engine_applies_everything_and_agrees_with_the_simulation(self) -> None:
        config = site()
        sim = SiteSimulator(config, random.Random(7), time_scale=30)
        state = Availability(config, WEDNESDAY_06)
        truths = 0
        for now, batch in simulate(sim, WEDNESDAY_06, steps=100):
            told: set[str] = set()
            for topic, payload in batch:
                obs = decode(config, topic, payload)
                outcome = state.apply(obs, now)
                assert outcome.result in ("applied", "duplicate"), (topic, payload, outcome)
                if isinstance(obs, LotObservation):
                    told.add(obs.lot)
            for lot in config.lots:
                view = state.view(lot.id)
                assert view.free is not None
                assert 0 <= view.free <= view.capacity
                assert 0 <= sim.free(lot.id) <= view.capacity
                # spot and lot feeds are exact; gate lots are exact right after a recount
                if lot.feed != "gate" or lot.id in told:
                    assert view.free == sim.free(lot.id), lot.id
                    truths += lot.feed == "gate"
        assert truths >= 2 * 100 * 30 // RECOUNT_S

    def test_a_repeated_snapshot_changes_nothing(self) -> None:
        config = site()
        sim = SiteSimulator(config, random.Random(8), time_scale=30)
        state = Availability(config, WEDNESDAY_06)
        now = WEDNESDAY_06
        for now, batch in simulate(sim, WEDNESDAY_06, steps=20):
            for topic, payload in batch:
                state.apply(decode(config, topic, payload), now)

        def counts() -> list[tuple[object, ...]]:
            return [(v.id, v.status, v.free, v.categories) for v in state.views()]

        before = counts()
        results = {state.apply(decode(config, t, p), now).result for t, p in sim.initial_messages(now)}
        assert results <= {"applied", "duplicate"}
        assert counts() == before


class TestDemand:
    def test_the_hospital_is_full_by_mid_morning(self) -> None:
        config = site()
        sim = SiteSimulator(config, random.Random(9), time_scale=60)
        state = Availability(config, WEDNESDAY_06)
        early = None
        for now, batch in simulate(sim, WEDNESDAY_06, steps=4 * 60):  # 06:00 -> 10:00 local
            for topic, payload in batch:
                state.apply(decode(config, topic, payload), now)
            early = early if early is not None else state.view("hospital-cp").free
        assert sim.clock.astimezone(TZ).hour == 10
        assert early is not None
        assert early > 150
        for lot_id in ("hospital-cp", "hospital-surface"):
            view = state.view(lot_id)
            general = view.category("general")
            assert general is not None
            assert general.free is not None
            assert general.free <= 0.1 * general.capacity, lot_id
            assert view.status in ("almost_full", "full"), lot_id

    def test_a_300_space_lot_changes_every_few_seconds_at_real_time(self) -> None:
        config = site()
        eleven = datetime(2026, 11, 25, 11, 0, tzinfo=TZ)
        prefixes = ("parking/tower/status", "parking/hospital-cp/gates/")  # lot feed, gate feed
        counts: dict[str, list[int]] = {prefix: [] for prefix in prefixes}
        firsts: dict[str, list[int]] = {prefix: [] for prefix in prefixes}
        for seed in range(20):
            sim = SiteSimulator(config, random.Random(seed), time_scale=1)
            steps_with_news: dict[str, set[int]] = {prefix: set() for prefix in prefixes}
            for step, (_, batch) in enumerate(simulate(sim, eleven, steps=60)):
                for topic, _ in batch:
                    for prefix in prefixes:
                        if step and topic.startswith(prefix):
                            steps_with_news[prefix].add(step)
            for prefix, steps in steps_with_news.items():
                counts[prefix].append(len(steps))
                firsts[prefix].append(min(steps, default=61))
        for prefix in prefixes:
            assert statistics.mean(counts[prefix]) >= 6, prefix  # a change every 10 s or better
            assert statistics.median(firsts[prefix]) <= 10, prefix

    def test_a_closed_lot_empties(self) -> None:
        config = site()
        sim = SiteSimulator(config, random.Random(11), time_scale=60)
        evening = datetime(2026, 11, 25, 19, 0, tzinfo=TZ)
        batches = list(simulate(sim, evening, steps=3 * 60))  # closes at 20:00; simulate to 22:00
        assert sum(sim.occupancy("tower").values()) == 0
        last = decode(config, *[m for _, b in batches for m in b if m[0] == "parking/tower/status"][-1])
        assert isinstance(last, LotObservation)
        assert last.free == 310

    def test_occupancy_stays_within_capacity_over_a_day(self) -> None:
        config = site()
        sim = SiteSimulator(config, random.Random(12), time_scale=600)
        now = WEDNESDAY_06.astimezone(UTC)
        sim.initial_messages(now)
        for _ in range(150):  # 25 hours
            now += timedelta(seconds=600)
            sim.step(now, 1.0)
            for lot in config.lots:
                for category, cars in sim.occupancy(lot.id).items():
                    assert 0 <= cars <= lot.capacities()[category]

    @pytest.mark.parametrize(
        ("kind", "busy", "quiet"),
        [
            ("hospital", WEDNESDAY_06.replace(hour=10), WEDNESDAY_06.replace(hour=3)),
            ("office", WEDNESDAY_06.replace(hour=11), SATURDAY_06.replace(hour=11)),
            ("hotel", WEDNESDAY_06.replace(hour=2), WEDNESDAY_06.replace(hour=13)),
            ("mall", WEDNESDAY_06.replace(hour=19), WEDNESDAY_06.replace(hour=10)),
            ("street", WEDNESDAY_06.replace(hour=12), WEDNESDAY_06.replace(hour=4)),
        ],
    )
    def test_demand_curves_by_kind(self, kind: str, busy: datetime, quiet: datetime) -> None:
        assert demand(kind, busy) > demand(kind, quiet) + 0.3

    def test_the_hospital_wants_more_than_it_holds_from_half_past_nine_to_three(self) -> None:
        for hour in (9.5, 12, 14.9):
            at = WEDNESDAY_06.replace(hour=int(hour), minute=int(hour % 1 * 60))
            assert demand("hospital", at) > 1.0
        assert demand("hospital", WEDNESDAY_06.replace(hour=7)) < 0.5
