"""The `parking-guide` command as a user runs it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from parking.app.cli import main
from parking.clock import ScaledClock
from sensors.net import free_port
from tests.helpers.cli import cli, get_json, printed
from tests.helpers.services import forget_session

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


def bad_config(tmp_path: Path, kind: str) -> tuple[Path, str]:
    """A config file with one kind of mistake, and the problem that must be reported for it."""
    good = (ROOT / "config.yaml").read_text()
    path = tmp_path / "config.yaml"
    if kind == "missing file":
        return path, "cannot read: No such file or directory"
    if kind == "directory":
        path.mkdir()
        return path, "cannot read: Is a directory"
    if kind == "not UTF-8":
        text = good.replace("name: Wulin District", "name: Caf\u00e9 Wulin District", 1)
        path.write_bytes(text.encode("utf-8").replace("\u00e9".encode(), b"\xe9"))
        return (
            path,
            f"line {line_of(text, 'Caf')}: site.name: byte 0xe9 is not UTF-8 (save the file as UTF-8)",
        )
    if kind == "binary":
        path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
        return path, "line 1: byte 0x89 is not UTF-8 (save the file as UTF-8)"
    empty_port = good.replace("port: 1883", "port:", 1)
    misspelt = good.replace("keepalive_s:", "keepalive_secs:", 1)
    text, problem = {
        "not YAML": (
            "[mqtt]\nhost = broker.local\n",
            "line 2: invalid YAML: expected '<document start>', but found '<scalar>'",
        ),
        "empty": ("", "the file is empty"),
        "top-level list": ("- site\n- lots\n", "line 1: the top level must be a mapping of sections"),
        "alias": (
            good + "x: &x 1\n",
            f"line {len(good.splitlines()) + 1}: x: anchor &x: YAML anchors and aliases are not allowed; "
            "write each value out in full",
        ),
        "deep nesting": (
            "site: " + "[" * 50_000 + "]" * 50_000,
            f"line 1: site{'[0]' * 31}: nested more than 32 levels deep",
        ),
        "empty value": (
            empty_port,
            f"line {line_of(empty_port, 'port:')}: mqtt.port: Input should be a valid integer",
        ),
        "unknown key": (
            misspelt,
            f"line {line_of(misspelt, 'keepalive_secs')}: mqtt.keepalive_secs: "
            "unknown key (check the spelling; see docs/config.md)",
        ),
    }[kind]
    path.write_text(text)
    return path, problem


def line_of(text: str, snippet: str) -> int:
    """1-based number of the first line containing `snippet`."""
    return next(n for n, line in enumerate(text.splitlines(), start=1) if snippet in line)


KINDS = [
    "missing file", "directory", "not UTF-8", "binary", "not YAML", "empty", "top-level list",
    "alias", "deep nesting", "empty value", "unknown key",
]  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("command", "status"),
    [(["check"], 1), (["run"], 2), (["demo", "--http-port", "0", "--mqtt-port", "0"], 2), (["simulate"], 2)],
    ids=["check", "run", "demo", "simulate"],
)
def test_every_invalid_config_gets_the_documented_exit_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, command: list[str], status: int
) -> None:
    """`check` exits 1 on an invalid config; run, demo and simulate refuse to start with 2."""
    path, problem = bad_config(tmp_path, kind)
    assert main([command[0], "-c", str(path), *command[1:]]) == status
    assert capsys.readouterr().err.splitlines() == [f"{path}: invalid configuration", f"  {path}: {problem}"]


def test_run_refuses_an_invalid_config_with_status_2_and_no_traceback(tmp_path: Path) -> None:
    """As a process: the status a service manager sees, and a message instead of a traceback."""
    path, problem = bad_config(tmp_path, "not UTF-8")
    done = subprocess.run(
        [sys.executable, "-m", "parking.app.cli", "run", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"{path}: invalid configuration", f"  {path}: {problem}"]


class TestScaledClock:
    def test_starts_at_the_given_time_and_runs_faster(self) -> None:
        ticks = iter([100.0, 100.0, 102.0])
        start = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
        clock = ScaledClock(start, scale=15, monotonic=lambda: next(ticks))
        assert clock() == start
        assert clock() == start + timedelta(seconds=30)

    def test_keeps_the_microseconds_of_its_start_and_of_the_time_passed(self) -> None:
        ticks = iter([7.0, 7.25])
        start = datetime(2026, 11, 25, 8, 30, 0, 123_456, tzinfo=ZoneInfo("Europe/Berlin"))
        clock = ScaledClock(start, scale=2, monotonic=lambda: next(ticks))
        now = clock()
        assert now == start + timedelta(seconds=0.5)
        assert now.microsecond == 623_456
        assert now.utcoffset() == timedelta(0)


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
    text = text.replace("    topic: parking/", f"    topic: {prefix}/parking/")
    text += "store: {embedded: false}\n"  # no private PostgreSQL under /var/lib for this test
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


def test_a_second_run_on_a_taken_port_exits_before_it_touches_the_broker(tmp_path: Path, prefix: str) -> None:
    """One engine per identity: `run` on a taken port stops with a clear error, no free-port fallback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        text = (ROOT / "config.yaml").read_text().replace("port: 8080", f"port: {port}")
        # a broker that is not there: had the engine started, it would log its connection attempts
        text = text.replace("port: 1883", f"port: {free_port()}")
        config = tmp_path / "config.yaml"
        config.write_text(text)
        done = subprocess.run(
            [sys.executable, "-m", "parking.app.cli", "run", "-c", str(config)],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "MQTT_PASSWORD": ""},
        )
    assert done.returncode == 2  # EXIT_REFUSED: nothing was started
    assert f"http port 127.0.0.1:{port} is in use" in done.stderr
    assert "another engine" in done.stderr
    # the refusal is the last word, and nothing (no MQTT connection attempt) came before it
    lines = done.stderr.splitlines()
    assert lines[-1].startswith("parking-guide run: http port")
    assert not any("mqtt" in line.lower() for line in lines[:-1]), lines


def test_a_second_run_while_the_database_is_down_exits_at_once(tmp_path: Path) -> None:
    """Two `run`s of one config, PostgreSQL down: the first waits holding the port, the second exits 2."""
    port = free_port()
    text = (ROOT / "config.yaml").read_text().replace("port: 8080", f"port: {port}")
    text = text.replace("port: 1883", f"port: {free_port()}")  # no broker either
    # a database that is not there, and a first engine that waits for it well past this test
    text += f"store: {{dsn: 'postgresql://nobody@127.0.0.1:{free_port()}/none', startup_wait_s: 600}}\n"
    config = tmp_path / "config.yaml"
    config.write_text(text)
    env = {**os.environ, "MQTT_PASSWORD": ""}
    command = [sys.executable, "-m", "parking.app.cli", "run", "-c", str(config)]
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env) as first:
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # the first holds the port once it is listening
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.05)
            else:
                pytest.fail("the first engine never claimed its port while it waited for the database")
            started = time.monotonic()
            second = subprocess.run(command, capture_output=True, text=True, timeout=30, env=env)
            took_s = time.monotonic() - started
            assert first.poll() is None  # still waiting for its database, still the one engine
        finally:
            first.terminate()
            first.wait(timeout=15)
    assert second.returncode == 2, second.stderr
    assert took_s < 10
    assert f"http port 127.0.0.1:{port} is in use: is another engine running" in second.stderr


def test_a_tls_file_that_cannot_be_read_is_a_config_error_not_a_crash(tmp_path: Path) -> None:
    text = (ROOT / "config.yaml").read_text()
    tls = "  tls:\n    enabled: false\n"
    assert tls in text
    config = tmp_path / "config.yaml"
    config.write_text(
        text.replace(tls, f"  tls:\n    enabled: true\n    ca_file: {tmp_path / 'missing-ca.pem'}\n")
    )
    for command, status in (("check", 1), ("run", 2)):
        done = subprocess.run(
            [sys.executable, "-m", "parking.app.cli", command, "-c", str(config)],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "MQTT_PASSWORD": ""},
        )
        assert done.returncode == status, (command, done.stderr)
        assert "mqtt.tls.ca_file: cannot read" in done.stderr
        assert "Traceback" not in done.stderr
