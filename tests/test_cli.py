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
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from parking.cli import main
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


@pytest.mark.timeout(60)
def test_the_demo_serves_boards_fed_by_its_simulator() -> None:
    """`parking-guide demo` on free ports: the printed board URL answers with live counts."""
    with subprocess.Popen(
        [sys.executable, "-m", "parking.cli", "demo", "--http-port", "0", "--mqtt-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as process:
        _watch_demo(process)


def _watch_demo(process: subprocess.Popen[str]) -> None:
    try:
        assert process.stdout is not None
        board_url = None
        deadline = time.monotonic() + 30
        while board_url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            match = re.search(r"(http://\S+/api/v1/boards/\S+)\s", line)
            board_url = match.group(1) if match else None
        assert board_url, "the demo printed no board URL"
        displays: list[str] = []
        while time.monotonic() < deadline:
            with urllib.request.urlopen(board_url, timeout=5) as response:
                body = json.load(response)
            displays = [line["display"] for line in body["lines"]]
            if len(displays) > 1 and all(d.isdigit() or d == "FULL" for d in displays):
                break
            time.sleep(0.2)
        assert len(displays) > 1
        assert all(d.isdigit() or d == "FULL" for d in displays), displays
    finally:
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(timeout=15) == 0
        finally:
            process.kill()


def test_run_serves_the_config_against_the_configured_broker(
    tmp_path: Path, mosquitto: tuple[str, int], prefix: str
) -> None:
    """`parking-guide run -c FILE`: connects to the broker in the file and serves its boards."""
    text = (ROOT / "config.yaml").read_text()
    text = text.replace("client_id: parking-guide-wulin", f"client_id: {prefix}-engine")
    text = text.replace("port: 8080", "port: 0").replace("  spot: parking/", f"  spot: {prefix}/parking/")
    text = text.replace("  lot: parking/", f"  lot: {prefix}/parking/")
    text = text.replace("  gate: parking/", f"  gate: {prefix}/parking/")
    config = tmp_path / "config.yaml"
    config.write_text(text)
    with subprocess.Popen(
        [sys.executable, "-m", "parking.cli", "run", "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "MQTT_PASSWORD": ""},
    ) as process:
        try:
            assert process.stdout is not None
            base = None
            deadline = time.monotonic() + 30
            while base is None and time.monotonic() < deadline:
                line = process.stdout.readline()
                if not line:
                    break
                match = re.search(r"serving on (http://\S+)", line)
                base = match.group(1) if match else None
            assert base, "run printed no address"
            # a new client id has no session yet: publish only once the engine has subscribed
            while time.monotonic() < deadline and _status(f"{base}/readyz") != 200:
                time.sleep(0.05)
            host, port = mosquitto
            subprocess.run(
                ["mosquitto_pub", "-h", host, "-p", str(port), "-q", "1",
                 "-t", f"{prefix}/parking/general-cp/status", "-m", '{"free": 7}'],
                check=True,
            )  # fmt: skip
            display = None
            while time.monotonic() < deadline:
                with urllib.request.urlopen(f"{base}/api/v1/boards/north-jianguo", timeout=5) as response:
                    display = json.load(response)["lines"][0]["display"]
                if display == "7":
                    break
                time.sleep(0.1)
            assert display == "7"
        finally:
            process.send_signal(signal.SIGINT)
            try:
                assert process.wait(timeout=15) == 0
            finally:
                process.kill()
                forget_session(f"{prefix}-engine")
