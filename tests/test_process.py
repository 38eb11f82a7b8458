"""Start-up guards for serving: the open-file limit, and the accept-error log limiter."""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
from typing import Any

import pytest

from parking.app.web.process import (
    ACCEPT_ERROR,
    UNLIMITED_TARGET,
    AcceptErrorLimiter,
    limit_accept_error_logs,
    raise_open_file_limit,
)


class FakeLimits:
    """getrlimit/setrlimit over a value, refusing like the kernel when told to."""

    def __init__(self, soft: int, hard: int, refuse: bool = False) -> None:
        self.limits = (soft, hard)
        self.refuse = refuse
        self.set_calls: list[tuple[int, int]] = []

    def getrlimit(self, which: int) -> tuple[int, int]:
        assert which == resource.RLIMIT_NOFILE
        return self.limits

    def setrlimit(self, which: int, limits: tuple[int, int]) -> None:
        assert which == resource.RLIMIT_NOFILE
        self.set_calls.append(limits)
        if self.refuse:
            raise ValueError("not allowed to raise the soft limit")
        self.limits = limits


class TestOpenFileLimit:
    def test_a_soft_limit_below_the_hard_one_is_raised_to_it(self, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.INFO)
        limits = FakeLimits(1024, 65536)
        assert raise_open_file_limit(limits.getrlimit, limits.setrlimit) == 65536
        assert limits.limits == (65536, 65536)
        assert "open-file limit: 65536 (raised from 1024)" in caplog.text

    def test_a_soft_limit_already_at_the_hard_one_is_left_alone(self) -> None:
        limits = FakeLimits(4096, 4096)
        assert raise_open_file_limit(limits.getrlimit, limits.setrlimit) == 4096
        assert limits.set_calls == []

    def test_an_unlimited_hard_limit_asks_for_a_finite_soft_one(self) -> None:
        limits = FakeLimits(256, resource.RLIM_INFINITY)
        assert raise_open_file_limit(limits.getrlimit, limits.setrlimit) == UNLIMITED_TARGET
        assert limits.set_calls == [(UNLIMITED_TARGET, resource.RLIM_INFINITY)]

    def test_a_refusal_keeps_the_old_limit_and_says_so(self, caplog: pytest.LogCaptureFixture) -> None:
        limits = FakeLimits(1024, 65536, refuse=True)
        assert raise_open_file_limit(limits.getrlimit, limits.setrlimit) == 1024
        [record] = caplog.records
        assert record.levelname == "WARNING"
        assert "raising it to 65536 failed" in record.getMessage()


def accept_error() -> dict[str, Any]:
    return {"message": ACCEPT_ERROR, "exception": OSError(errno.EMFILE, "Too many open files")}


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records]


class TestAcceptErrorLimiter:
    async def test_the_first_accept_error_goes_through_then_one_summary_with_the_count(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        loop = asyncio.get_running_loop()
        limiter = AcceptErrorLimiter(interval_s=3600)
        try:
            for _ in range(1000):
                limiter(loop, accept_error())
            assert logged(caplog) == [ACCEPT_ERROR]
            assert caplog.records[0].exc_info is not None  # the first keeps its traceback
            limiter.end_window()  # what the loop timer does when the interval is over
            assert len(caplog.records) == 2
            assert "999 more in the last 3600 s" in logged(caplog)[1]
            assert caplog.records[1].exc_info is None
        finally:
            limiter.close()

    async def test_after_a_quiet_interval_the_next_error_is_logged_in_full_again(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        loop = asyncio.get_running_loop()
        limiter = AcceptErrorLimiter(interval_s=3600)
        try:
            limiter(loop, accept_error())
            limiter.end_window()  # nothing held back: no summary, the window closes
            limiter(loop, accept_error())
            assert logged(caplog) == [ACCEPT_ERROR, ACCEPT_ERROR]
        finally:
            limiter.close()

    async def test_other_loop_errors_pass_through_untouched(self) -> None:
        seen: list[dict[str, Any]] = []
        limiter = AcceptErrorLimiter(interval_s=3600, previous=lambda _loop, context: seen.append(context))
        loop = asyncio.get_running_loop()
        try:
            other = {"message": "Task exception was never retrieved"}
            limiter(loop, accept_error())
            for _ in range(3):
                limiter(loop, other)
            limiter(loop, accept_error())
            assert [c["message"] for c in seen] == [ACCEPT_ERROR, *[other["message"]] * 3]
        finally:
            limiter.close()

    async def test_installing_twice_keeps_one_limiter(self) -> None:
        loop = asyncio.get_running_loop()
        before = loop.get_exception_handler()
        try:
            first = limit_accept_error_logs(loop)
            assert limit_accept_error_logs(loop) is first
            assert loop.get_exception_handler() is first
        finally:
            first.close()
            loop.set_exception_handler(before)
