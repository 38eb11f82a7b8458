"""A private Mosquitto on a free port, configured so queue limits never cap a measurement."""

from __future__ import annotations

import os
import pwd
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError
from bench.procs import Processes, reachable
from sensors.net import free_port

HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Broker:
    """Where a running private broker listens."""

    host: str
    port: int


def mosquitto_binary() -> str:
    """The mosquitto executable (PATH, then Debian's /usr/sbin)."""
    found = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if found is None:
        raise BenchError("mosquitto is not installed (apt-get install -y mosquitto)")
    return found


def broker_conf(port: int, inflight: int) -> str:
    """Mosquitto config: loopback only, no persistence, unbounded offline queues."""
    return "\n".join(
        [
            f"listener {port} {HOST}",
            "allow_anonymous true",
            # stay the user we are: dropping root would clear the die-with-parent signal
            f"user {pwd.getpwuid(os.geteuid()).pw_name}",
            "persistence false",
            "max_queued_messages 0",  # 0 = no limit: a 100k backlog must not be cut at 1000
            "max_queued_bytes 0",
            f"max_inflight_messages {inflight}",  # 0 = no limit (mosquitto's default is 20)
            "log_type error",
            "log_type warning",
            "",
        ]
    )


@contextmanager
def private_broker(procs: Processes, name: str = "mosquitto", inflight: int = 0) -> Iterator[Broker]:
    """Start a private broker for the block, and stop it afterwards even on error."""
    port = free_port()
    conf = procs.workdir / f"{name}.conf"
    conf.write_text(broker_conf(port, inflight), encoding="utf-8")
    proc = procs.spawn(name, [mosquitto_binary(), "-c", str(conf)])
    try:
        procs.wait_until(proc, lambda: reachable(port), f"mosquitto on port {port}", timeout_s=10)
        yield Broker(HOST, port)
    finally:
        procs.stop(proc)
