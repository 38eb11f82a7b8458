"""Child processes of a benchmark run: started in one place, always stopped on the way out."""

from __future__ import annotations

import ctypes
import json
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from bench.errors import BenchError

STOP_WAIT_S = 5.0
LOG_TAIL_CHARS = 2000
_PR_SET_PDEATHSIG = 1

try:
    _prctl: Any = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux: children then rely on the `with` block alone
    _prctl = None


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM if the parent dies, even by SIGKILL."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def reachable(port: int, host: str = "127.0.0.1") -> bool:
    """True if something accepts TCP connections on the port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class Processes:
    """Every child of a run; leaving the `with` block stops them all, newest first."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._children: list[tuple[str, subprocess.Popen[bytes], Path]] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for _, proc, _ in reversed(self._children):
            stop(proc)
        self._children.clear()

    def spawn(self, name: str, argv: Sequence[str]) -> subprocess.Popen[bytes]:
        """Start a child; its stdout and stderr go to a log file in the run's work directory."""
        log = self.workdir / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,  # we spawn only while no other thread runs
            )
        self._children.append((name, proc, log))
        return proc

    def spawn_python(self, name: str, module: str, *args: str) -> subprocess.Popen[bytes]:
        """Start `python -m module args...` with this interpreter."""
        return self.spawn(name, [sys.executable, "-m", module, *args])

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        """Stop one child now (it stays listed; stopping twice is harmless)."""
        stop(proc)

    def log_tail(self, proc: subprocess.Popen[bytes]) -> str:
        """The end of a child's log, for error messages."""
        for _, child, log in self._children:
            if child is proc:
                text = log.read_text(encoding="utf-8", errors="replace")
                return text[-LOG_TAIL_CHARS:]
        return ""

    def run_to_result(self, name: str, module: str, args: Sequence[str], timeout_s: float) -> dict[str, Any]:
        """Run a child that writes one JSON result to --result FILE, and return that result."""
        result = self.workdir / f"{name}.json"
        result.unlink(missing_ok=True)
        proc = self.spawn_python(name, module, *args, "--result", str(result))
        try:
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            stop(proc)
            raise BenchError(f"{name} did not finish in {timeout_s:.0f}s:\n{self.log_tail(proc)}") from exc
        if code != 0 or not result.exists():
            raise BenchError(f"{name} failed (exit {code}):\n{self.log_tail(proc)}")
        data: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
        return data

    def wait_until(
        self, proc: subprocess.Popen[bytes], ready: Callable[[], bool], what: str, timeout_s: float = 20.0
    ) -> None:
        """Wait until `ready()` holds, failing early if the child exits."""
        deadline = time.monotonic() + timeout_s
        while not ready():
            if proc.poll() is not None:
                raise BenchError(f"{what} exited with {proc.returncode}:\n{self.log_tail(proc)}")
            if time.monotonic() > deadline:
                raise BenchError(f"{what} not ready after {timeout_s:.0f}s:\n{self.log_tail(proc)}")
            time.sleep(0.05)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a process, then kill it if it does not exit in time."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_WAIT_S)


def raise_open_files_limit() -> int:
    """Raise this process's RLIMIT_NOFILE soft limit to the hard limit; return the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    infinity = resource.RLIM_INFINITY
    if soft in (infinity, hard):
        return soft
    # an unlimited hard limit cannot be the soft one (Linux caps it at fs.nr_open): ask for plenty
    wanted = hard if hard != infinity else max(soft, 1 << 16)
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return wanted


def write_result(path: str, data: dict[str, Any]) -> None:
    """Write a child's JSON result where the parent asked for it."""
    Path(path).write_text(json.dumps(data, indent=2), encoding="utf-8")
