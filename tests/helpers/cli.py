"""The `parking-guide` command line as a process: run it, read what it prints, ask its HTTP API."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest


@contextmanager
def cli(*args: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[str]]:
    """`parking-guide ARGS` as a process; on leaving, Ctrl+C must stop it cleanly (exit 0)."""
    with subprocess.Popen(
        [sys.executable, "-m", "parking.app.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    ) as process:
        try:
            yield process
        finally:
            process.send_signal(signal.SIGINT)
            try:
                assert process.wait(timeout=15) == 0
            finally:
                process.kill()


def printed(process: subprocess.Popen[str], pattern: str, deadline: float) -> str:
    """The first group of the first output line matching `pattern`."""
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        match = re.search(pattern, line)
        if match:
            return match.group(1)
    pytest.fail(f"the command printed nothing matching {pattern!r}")


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)
