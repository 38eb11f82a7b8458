"""`parking-guide evaluate` runs every strategy on the same arrivals and reports each (a short run)."""

from __future__ import annotations

import pytest

from parking.app import evaluate
from parking.app.evaluate import STRATEGIES, run_scenario
from tests.site import site_config


def test_every_strategy_sees_the_same_visitors_and_parks_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluate, "HOURS", 1.0)  # a short morning keeps the test quick
    results = run_scenario(site_config(), scale=1.0, seed=3)
    assert [r.strategy for r in results] == list(STRATEGIES)
    assert len({r.visitors for r in results}) == 1
    for r in results:
        assert r.parked > 0
        assert 0.0 <= r.full_share <= 1.0
        assert set(r.peak_by_lot) == {"hospital", "tower", "street", "mall"}
