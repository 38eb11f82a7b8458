"""Log records in tests: counting the ones that mention a text, picking the ingest's by level."""

from __future__ import annotations

import asyncio
import logging

import pytest


class LogCounter(logging.Handler):
    """Counts log records containing `text`; `reached` is set at the wanted count."""

    def __init__(self, text: str, wanted: int) -> None:
        super().__init__(logging.DEBUG)
        self.text = text
        self.wanted = wanted
        self.count = 0
        self.reached = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.count += 1
            if self.count >= self.wanted:
                self.reached.set()


def records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "sensors.ingest" and r.levelno == level]
