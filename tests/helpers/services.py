"""The real services tests talk to: the shared Mosquitto and PostgreSQL, a private Mosquitto, and how a
test that cannot reach one skips (or, under CI, fails)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

SHARED_BROKER = ("127.0.0.1", 1883)
SHARED_POSTGRES = ("127.0.0.1", 5432)
POSTGRES_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
IN_CI = os.environ.get("CI") == "true"


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def unavailable(reason: str) -> None:
    """Skip the test for want of a service, or fail it under CI, where integration tests must run."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: integration tests must not skip)")
    pytest.skip(reason)


@dataclass
class PrivateBroker:
    """A Mosquitto process of our own, which a test may stop and start again."""

    port: int
    conf: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the broker and wait until it accepts connections."""
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.process = subprocess.Popen(
            [binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while not reachable("127.0.0.1", self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"private mosquitto on port {self.port} did not start")
            time.sleep(0.05)

    def __enter__(self) -> PrivateBroker:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the broker (sessions are kept in memory only, so they go with it)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


def forget_session(client_id: str) -> None:
    """Drop a persistent session from the shared broker (connect with a clean session, leave)."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    try:
        client.connect(*SHARED_BROKER)
        client.loop(timeout=1)
        client.disconnect()
    except OSError:
        pass  # the broker is gone: so is the session
