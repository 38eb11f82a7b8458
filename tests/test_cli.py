"""The `parking-guide` command as a user runs it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from parking.app.cli import main
from parking.clock import ScaledClock
from tests.conftest import forget_session

ROOT = Path(__file__).resolve().parent.parent


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


class TestCheck:
    def test_a_valid_config_prints_a_summary(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["check", "-c", str(ROOT / "config.yaml")]) == 0
        out = capsys.readouterr().out
        assert "OK" in out
        assert re.search(r"lots:\s+7 \(\d+ spaces\)", out)

    def test_an_invalid_config_names_the_file_line_and_key(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        text = (ROOT / "config.yaml").read_text().replace("keepalive_s: 30", "keepalive_secs: 30", 1)
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        line = next(n for n, t in enumerate(text.splitlines(), 1) if "keepalive_secs" in t)
        assert main(["check", "-c", str(bad)]) == 1
        err = capsys.readouterr().err
        assert f"{bad}: line {line}: mqtt.keepalive_secs: unknown key" in err

    def test_a_missing_file_is_a_clear_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["check", "-c", "/nonexistent/config.yaml"]) == 1
        assert "cannot read" in capsys.readouterr().err


class TestScaledClock:
    def test_starts_at_the_given_time_and_runs_faster(self) -> None:
        ticks = iter([100.0, 100.0, 102.0])
        start = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
        clock = ScaledClock(start, scale=15, monotonic=lambda: next(ticks))
        assert clock() == start
        assert clock() == start + timedelta(seconds=30)


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


@pytest.mark.timeout(60)
def test_the_demo_serves_boards_fed_by_its_simulator() -> None:
    """`parking-guide demo` on free ports: the printed board URL answers with live counts."""
    deadline = time.monotonic() + 30
    with cli("demo", "--http-port", "0", "--mqtt-port", "0") as process:
        board_url = printed(process, r"(http://\S+/api/v1/boards/\S+)\s", deadline)
        displays: list[str] = []
        while time.monotonic() < deadline:
            displays = [line["display"] for line in get_json(board_url)["lines"]]
            if len(displays) > 1 and all(d.isdigit() or d == "FULL" for d in displays):
                break
            time.sleep(0.2)
        assert len(displays) > 1
        assert all(d.isdigit() or d == "FULL" for d in displays), displays
        go_url = printed(process, r"(http://\S+/go/\S+)\s", deadline)
        with urllib.request.urlopen(go_url, timeout=5) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/html")


def test_run_serves_the_config_against_the_configured_broker(
    tmp_path: Path, mosquitto: tuple[str, int], prefix: str
) -> None:
    """`parking-guide run -c FILE`: connects to the broker in the file and serves its boards."""
    text = (ROOT / "config.yaml").read_text()
    text = text.replace("client_id: parking-guide-wulin", f"client_id: {prefix}-engine")
    text = text.replace("port: 8080", "port: 0")
    for feed in ("spot", "lot", "gate"):
        text = text.replace(f"  {feed}: parking/", f"  {feed}: {prefix}/parking/")
    config = tmp_path / "config.yaml"
    config.write_text(text)
    deadline = time.monotonic() + 30
    try:
        with cli("run", "-c", str(config), env={"MQTT_PASSWORD": ""}) as process:
            base = printed(process, r"serving on (http://\S+)", deadline)
            # a new client id has no session yet: publish only once the engine has subscribed
            while time.monotonic() < deadline and _status(f"{base}/readyz") != 200:
                time.sleep(0.05)
            host, port = mosquitto
            subprocess.run(
                ["mosquitto_pub", "-h", host, "-p", str(port), "-q", "1",
                 "-t", f"{prefix}/parking/general-cp/status", "-m", '{"free": 7}'],
                check=True,
            )  # fmt: skip
            # an unsplit total of 7 may be 7 of the 28 disabled and ev bays: general is full
            display = None
            while time.monotonic() < deadline:
                display = get_json(f"{base}/api/v1/boards/north-jianguo")["lines"][0]["display"]
                if display == "FULL":
                    break
                time.sleep(0.1)
            assert display == "FULL"
    finally:
        forget_session(f"{prefix}-engine")
