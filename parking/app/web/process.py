"""Process-wide start-up for serving: the open-file limit, and a rate limit on accept-error logs."""

from __future__ import annotations

import asyncio
import logging
import resource
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

# Where the hard limit is "unlimited" (macOS), the kernel still caps the soft one;
# ask for this much and keep what we had if it is refused.
UNLIMITED_TARGET = 65536
ACCEPT_ERROR = "socket.accept() out of system resource"
ACCEPT_ERROR_INTERVAL_S = 60.0

GetLimit = Callable[[int], tuple[int, int]]
SetLimit = Callable[[int, tuple[int, int]], None]
ExceptionHandler = Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object]


def raise_open_file_limit(
    getrlimit: GetLimit = resource.getrlimit, setrlimit: SetLimit = resource.setrlimit
) -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit where allowed; the soft limit in force after."""
    soft, hard = getrlimit(resource.RLIMIT_NOFILE)
    target = UNLIMITED_TARGET if hard == resource.RLIM_INFINITY else hard
    if soft == resource.RLIM_INFINITY or soft >= target:
        logger.info("open-file limit: %d", soft)
        return soft
    try:
        setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError) as exc:
        logger.warning("open-file limit: %d; raising it to %d failed: %s", soft, target, exc)
        return soft
    logger.info("open-file limit: %d (raised from %d)", target, soft)
    return target


class AcceptErrorLimiter:
    """A loop exception handler: the first accept error in full, then one summary per interval.

    When the process runs out of file descriptors, asyncio reports every failed
    accept (up to `backlog` per loop iteration, each with a traceback): hundreds of
    megabytes of log a minute, which itself starves the loop. A logging filter
    could drop them, but not report the count once they stop; a loop timer can.
    Every other context goes to the handler that was there before (or asyncio's).
    """

    def __init__(
        self, interval_s: float = ACCEPT_ERROR_INTERVAL_S, previous: ExceptionHandler | None = None
    ) -> None:
        self._interval_s = interval_s
        self._previous = previous
        self._suppressed = 0
        self._window: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """Handle one exception context from the loop."""
        if context.get("message") != ACCEPT_ERROR:
            self._pass_on(loop, context)
        elif self._window is None:
            self._pass_on(loop, context)
            self._loop = loop
            self._window = loop.call_later(self._interval_s, self.end_window)
        else:
            self._suppressed += 1

    def end_window(self) -> None:
        """At the end of an interval (a loop timer; tests call it): log how many were held back."""
        if self._window is not None:
            self._window.cancel()
            self._window = None
        if not self._suppressed or self._loop is None:
            return
        logger.error(
            "%s: %d more in the last %g s (too many open files? see http.max_connections, LimitNOFILE)",
            ACCEPT_ERROR,
            self._suppressed,
            self._interval_s,
        )
        self._suppressed = 0
        self._window = self._loop.call_later(self._interval_s, self.end_window)

    def close(self) -> None:
        """Cancel the interval timer."""
        if self._window is not None:
            self._window.cancel()
            self._window = None

    def _pass_on(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if self._previous is not None:
            self._previous(loop, context)
        else:
            loop.default_exception_handler(context)


def limit_accept_error_logs(loop: asyncio.AbstractEventLoop) -> AcceptErrorLimiter:
    """Install an AcceptErrorLimiter as the loop's exception handler (once)."""
    current = loop.get_exception_handler()
    if isinstance(current, AcceptErrorLimiter):
        return current
    limiter = AcceptErrorLimiter(previous=current)
    loop.set_exception_handler(limiter)
    return limiter
