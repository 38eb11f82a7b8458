"""Background tasks: named, referenced, cancelled and awaited on shutdown, and watched for /readyz."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any, Literal

logger = logging.getLogger(__name__)

TaskHealth = Literal["running", "crashed", "stopped"]


class BackgroundTasks:
    """The application's long-running tasks; a task that ends by itself is a fault."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, name: str, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Start a named task; its crash is logged with the traceback and makes health() say so."""
        if name in self._tasks and not self._tasks[name].done():
            coro.close()
            raise ValueError(f"a task named {name!r} is already running")
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(_log_end)
        self._tasks[name] = task
        return task

    def health(self) -> dict[str, TaskHealth]:
        """Each task's state: running, crashed (raised), or stopped (returned or was cancelled)."""
        out: dict[str, TaskHealth] = {}
        for name, task in self._tasks.items():
            if not task.done():
                out[name] = "running"
            elif not task.cancelled() and task.exception() is not None:
                out[name] = "crashed"
            else:
                out[name] = "stopped"
        return out

    async def stop(self, name: str) -> None:
        """Cancel one task and wait for it to finish."""
        task = self._tasks.pop(name, None)
        if task is None or task.done():
            return  # a crash was logged when it happened
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _log_end(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        logger.error("background task %s crashed", task.get_name(), exc_info=exc)
    else:
        logger.error("background task %s stopped by itself", task.get_name())
