"""`parking-guide evaluate` runs every strategy on the same arrivals and reports each (a short run)."""

from __future__ import annotations

import pytest

from parking.availability.views import LotView
from parking.simulation import evaluate, scenario
from parking.simulation.evaluate import STRATEGIES, run_scenario
from tests.helpers.site import site_config


def test_every_strategy_sees_the_same_visitors_and_parks_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scenario, "HOURS", 1.0)  # a short morning keeps the test quick
    results = run_scenario(site_config(), scale=1.0, seed=3)
    assert [r.strategy for r in results] == list(STRATEGIES)
    assert len({r.visitors for r in results}) == 1
    for r in results:
        assert r.parked > 0
        assert 0.0 <= r.full_share <= 1.0
        assert set(r.peak_by_lot) == {"hospital", "tower", "street", "mall"}


def _lots_and_views(
    *lots: tuple[str, int, int, bool, int],
) -> tuple[dict[str, scenario.LotState], dict[str, LotView]]:
    """(id, capacity, parked, taking visitors, cars waiting at the gate) per lot."""
    config = site_config()
    specs = {lot.id: lot for lot in config.lots}
    out, views = {}, {}
    for lot_id, capacity, parked, taking, waiting in lots:
        out[lot_id] = scenario.LotState(specs[lot_id], capacity, parked, queue=list(range(waiting)))
        views[lot_id] = LotView(
            lot_id, "open", capacity - parked, capacity, "steady", None, {}, accepts_visitors=taking
        )
    return out, views


def test_none_free_when_every_lot_taking_visitors_is_full_or_has_a_queue() -> None:
    lots, views = _lots_and_views(
        ("hospital", 100, 100, True, 0), ("tower", 200, 150, True, 2), ("mall", 500, 10, False, 0)
    )
    assert evaluate.none_free(lots, views)  # the mall has room, but takes no visitors now
    assert evaluate.visitor_area_occupancy(lots, views) == pytest.approx(250 / 300)


def test_one_space_in_a_lot_taking_visitors_is_not_none_free() -> None:
    lots, views = _lots_and_views(("hospital", 100, 99, True, 0), ("tower", 200, 200, True, 0))
    assert not evaluate.none_free(lots, views)
