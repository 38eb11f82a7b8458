"""Headless Chromium for the page tests: where it is, how it starts, where screenshots go, and a page's
console errors. The `browser` fixture itself is in tests/conftest.py."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.async_api import Page

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
HAVE_CHROMIUM = bool(shutil.which(CHROMIUM)) or Path(CHROMIUM).exists()
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def watch(page: Page) -> list[str]:
    """Console errors and uncaught exceptions of a page."""
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return problems


def shot(name: str) -> str:
    ARTIFACTS.mkdir(exist_ok=True)
    return str(ARTIFACTS / f"{name}.png")
