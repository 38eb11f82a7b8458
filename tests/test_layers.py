"""Imports only point down: each layer, imported alone in a fresh interpreter, loads nothing above it.

The domain (config, observations, shared types, availability, guidance, the
live site) loads no I/O library and none of the edges or the composition root;
the edges (sensors/, signage/) load only the domain and their own libraries.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DOMAIN = [
    "parking.types",
    "parking.observations",
    "parking.errors",
    "parking.geo",
    "parking.clock",
    "parking.config",
    "parking.availability",
    "parking.guidance",
    "parking.guidance.service",
    "parking.live",
    "parking.overrides",
]
IO_LIBRARIES = ["aiohttp", "aiomqtt", "paho", "asyncpg", "prometheus_client", "amqtt", "asyncio"]
ROOT = ["parking.app"]
EDGES = ["sensors", "signage"]


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


def offending(loaded: set[str], forbidden: list[str]) -> list[str]:
    return sorted(name for name in loaded if any(name == f or name.startswith(f + ".") for f in forbidden))


@pytest.mark.parametrize("module", DOMAIN)
def test_the_domain_loads_no_io_library_and_nothing_above_it(module: str) -> None:
    loaded = loaded_after_import(module)
    assert offending(loaded, IO_LIBRARIES + EDGES + ROOT) == []


@pytest.mark.parametrize(
    "module",
    [
        "sensors.decoders",
        "sensors.topics",
        "parking.simulation.simulator",
        "parking.simulation.demand",
        "sensors.ingest",
    ],
)
def test_sensors_load_only_the_domain(module: str) -> None:
    loaded = loaded_after_import(module)
    assert offending(loaded, ["signage", "aiohttp", "asyncpg", *ROOT]) == []


def test_signage_loads_only_the_domain() -> None:
    loaded = loaded_after_import("signage.board")
    assert offending(loaded, ["sensors", "aiohttp", "aiomqtt", "paho", "asyncpg", *ROOT]) == []


def test_the_check_fails_when_a_domain_module_imports_aiohttp(tmp_path: Path) -> None:
    # a stand-in domain module that imports aiohttp, checked the same way, must be caught
    (tmp_path / "leaky_domain.py").write_text("import parking.types\nimport aiohttp\n")
    loaded = loaded_after_import("leaky_domain", extra_path=tmp_path)
    assert "aiohttp" in offending(loaded, IO_LIBRARIES + EDGES + ROOT)
