"""deploy/: every metric the alert rules and the Grafana dashboard name is one the engine exports."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from parking.app.metrics import Metrics, StoreStats

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
_METRIC = re.compile(r"\bparking_[a-z0-9_]+")
_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created")}


def exported() -> set[str]:
    """Every sample name the engine's registry exports, with a store (its metrics appear only then)."""
    metrics = Metrics(list, lambda: 1)
    metrics.watch_store(lambda: StoreStats(True, True, 0, 100))
    names = set()
    for family in metrics.registry.collect():
        names.add(family.name)
        names.update(family.name + suffix for suffix in _SUFFIXES.get(family.type, ()))
    return names


def expressions(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "expression") and isinstance(value, str):
                yield value
            else:
                yield from expressions(value)
    elif isinstance(node, list):
        for item in node:
            yield from expressions(item)


def named_in(exprs: list[str]) -> set[str]:
    return {name for expr in exprs for name in _METRIC.findall(expr)}


def test_every_alert_names_exported_metrics() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    exprs = list(expressions(rules))
    assert len(exprs) >= 10
    assert named_in(exprs) <= exported(), named_in(exprs) - exported()


def test_every_dashboard_panel_names_exported_metrics() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "parking-guide.json").read_text())
    exprs = list(expressions(dashboard))
    assert len(exprs) >= 10
    assert named_in(exprs) <= exported(), named_in(exprs) - exported()


def test_the_check_catches_a_misspelt_metric() -> None:
    assert named_in(["rate(parking_feed_mesages_total[5m])"]) - exported() == {"parking_feed_mesages_total"}


def test_what_ops_alert_on_is_covered() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    names = named_in(list(expressions(rules)))
    for needed in (
        "parking_feed_last_message_age_seconds",  # feed silence
        "parking_feed_messages_total",  # decode errors
        "parking_store_backlog_rows",  # store backlog
        "parking_store_dropped_rows_total",  # and drops
        "parking_store_up",  # database up
        "parking_board_last_seen_age_seconds",  # board silence
        "parking_guidance_answers_total",  # guidance answers
    ):
        assert needed in names
