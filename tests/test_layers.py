"""Imports only point down: every module, imported alone in a fresh interpreter, loads nothing above it.

The layers (docs/architecture.md), bottom up:
- the domain (parking/ outside the parts below: config, observations, availability,
  guidance, the live site): no I/O library, nothing of the layers above;
- the edges, each alone: sensors/ (MQTT in), signage/ (what people see),
  parking/store (PostgreSQL), parking/roads (road import and graph files): the
  domain, their own libraries, and no other edge;
- parking/simulation (simulated and replayed feeds, the evaluation): the domain,
  the MQTT edge and the roads, not the store, the signs or the root;
- the composition root (parking/app): anything.
Every module of the three packages is checked; a new one joins its layer by its path.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("parking", "sensors", "signage")
IO_LIBRARIES = ["aiohttp", "aiomqtt", "paho", "asyncpg", "prometheus_client", "amqtt", "asyncio", "osmium"]
ROOT = ["parking.app"]
SIMULATION = ["parking.simulation"]
EDGE_PARTS = {
    "sensors": ["aiohttp", "asyncpg"],
    "signage": ["aiohttp", "aiomqtt", "paho", "asyncpg"],
    "parking.store": ["aiohttp", "aiomqtt", "paho"],
    "parking.roads": ["aiohttp", "aiomqtt", "paho", "asyncpg"],
}
EDGES = list(EDGE_PARTS)


def part_of(module: str, parts: list[str]) -> str | None:
    """The part (a package prefix) that `module` belongs to, if any."""
    return next((p for p in parts if module == p or module.startswith(p + ".")), None)


def layer_of(module: str) -> str:
    """domain, edge, simulation or root, by the module's path."""
    if part_of(module, ROOT):
        return "root"
    if part_of(module, SIMULATION):
        return "simulation"
    if part_of(module, EDGES):
        return "edge"
    return "domain"


def forbidden_for(module: str) -> list[str]:
    """What `module` must not load, by its layer."""
    layer = layer_of(module)
    if layer == "domain":
        return IO_LIBRARIES + EDGES + SIMULATION + ROOT
    if layer == "edge":
        own = part_of(module, EDGES)
        assert own is not None
        others = [p for p in EDGES if p != own]
        return EDGE_PARTS[own] + others + SIMULATION + ROOT
    if layer == "simulation":
        return ["parking.store", "signage", "aiohttp", "asyncpg", *ROOT]
    return []


def every_module() -> list[str]:
    """Every importable module of the three packages, found by path (a command's __main__ aside)."""
    found = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            if parts[-1] == "__main__":
                continue  # importing it runs the command
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


MODULES = every_module()


def loaded_after_import(module: str, extra_path: Path | None = None) -> set[str]:
    """Every module name loaded by importing `module` in a fresh interpreter."""
    code = (
        "import importlib, json, sys\n"
        f"sys.path.insert(0, {str(extra_path or '')!r})\n"
        f"importlib.import_module({module!r})\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return set(json.loads(out))


@cache
def loaded_by_every_module() -> dict[str, set[str]]:
    """What each module loads, measured once for all of them, a few interpreters at a time."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(MODULES, pool.map(loaded_after_import, MODULES), strict=True))


def offending(loaded: set[str], forbidden: list[str]) -> list[str]:
    return sorted(name for name in loaded if part_of(name, forbidden))


# the first of these measures every module (about 160 interpreters): more than the default timeout
@pytest.mark.timeout(600)
@pytest.mark.parametrize("module", MODULES)
def test_each_module_loads_nothing_above_its_layer(module: str) -> None:
    loaded = loaded_by_every_module()[module]
    assert offending(loaded, forbidden_for(module)) == [], f"{module} ({layer_of(module)})"


def test_every_layer_is_populated_and_the_list_holds_the_modules_the_old_rule_missed() -> None:
    layers = {layer_of(m) for m in MODULES}
    assert layers == {"domain", "edge", "simulation", "root"}
    assert {"signage.pages", "signage.i18n", "signage.charts", "parking.app.cli.demo"} <= set(MODULES)


@pytest.mark.parametrize(
    ("module", "layer"),
    [
        ("parking.availability.state", "domain"),
        ("parking.guidance.outlook", "domain"),
        ("parking.store.writer", "edge"),
        ("parking.roads.osm", "edge"),
        ("sensors.ingest", "edge"),
        ("signage.board", "edge"),
        ("parking.simulation.evaluate", "simulation"),
        ("parking.app.factory", "root"),
    ],
)
def test_a_module_joins_its_layer_by_its_path(module: str, layer: str) -> None:
    assert layer_of(module) == layer


def test_the_check_fails_when_a_domain_module_imports_aiohttp(tmp_path: Path) -> None:
    # a stand-in domain module that imports aiohttp, checked the same way, must be caught
    (tmp_path / "leaky_domain.py").write_text("import parking.types\nimport aiohttp\n")
    loaded = loaded_after_import("leaky_domain", extra_path=tmp_path)
    assert "aiohttp" in offending(loaded, forbidden_for("parking.leaky_domain"))


def test_the_check_fails_when_an_edge_imports_another_edge(tmp_path: Path) -> None:
    (tmp_path / "leaky_edge.py").write_text("import sensors.topics\n")
    loaded = loaded_after_import("leaky_edge", extra_path=tmp_path)
    assert offending(loaded, forbidden_for("parking.store.leaky_edge")) == ["sensors", "sensors.topics"]
