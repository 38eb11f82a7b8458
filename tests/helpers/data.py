"""Recorded data the tests replay: a real day of free counts, and the vendors' own LoRaWAN uplinks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent.parent
REAL_DAY = TESTS / "data" / "real-free-2020-06-15.csv"
FIXTURES = TESTS / "fixtures"


def fixture(name: str) -> dict[str, Any]:
    """A JSON file under tests/fixtures/."""
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data
