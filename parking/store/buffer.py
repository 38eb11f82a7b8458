"""The write-behind buffer: rows waiting for PostgreSQL, in order, bounded, every drop counted and logged.

Rows are appended on the hot path (a feed message, a guidance answer, a page
view) and taken out in batches by the writer. A batch the database refused
is given back at the front, so the backlog is written in order once the
database returns. Past `limit` rows, the oldest row of the table being added to
is dropped: recent rows matter most to a restart. Ops statements (overrides and
the audit log) are few and are never dropped.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from parking.store.rows import COLUMNS, Row

logger = logging.getLogger(__name__)

DROP_LOG_INTERVAL_S = 60.0

Statement = tuple[str, tuple[Any, ...]]


class WriteBuffer:
    """Rows per table in arrival order, plus ops statements; at most `limit` rows, drops counted per table."""

    def __init__(self, limit: int, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._rows: dict[str, deque[Row]] = {table: deque() for table in COLUMNS}
        self._statements: deque[Statement] = deque()
        self._size = 0  # rows queued, in flight included
        self.dropped: dict[str, int] = dict.fromkeys(COLUMNS, 0)
        self.written: dict[str, int] = dict.fromkeys(COLUMNS, 0)
        self._monotonic = monotonic
        self._unlogged_drops = 0
        self._drop_logged_at: float | None = None
        self.wake: Callable[[], None] = lambda: None  # set by the writer: rows are waiting

    def __len__(self) -> int:
        return self._size + len(self._statements)

    def rows(self) -> int:
        """Rows waiting, all tables together (statements not counted)."""
        return self._size

    def add(self, table: str, row: Row) -> None:
        """Queue one row; past the bound, the table's oldest row is dropped (counted, logged)."""
        rows = self._rows[table]
        rows.append(row)
        self._size += 1
        if self._size > self.limit:
            self._drop(table)
        self.wake()

    def execute(self, sql: str, *args: Any) -> None:
        """Queue one statement (overrides, audit): run in order with the next batch, never dropped."""
        self._statements.append((sql, args))
        self.wake()

    def take(self, max_rows: int) -> tuple[dict[str, list[Row]], list[Statement]]:
        """Take up to `max_rows` of each table, oldest first, and every statement (give_back on failure)."""
        batch: dict[str, list[Row]] = {}
        for table, rows in self._rows.items():
            n = min(max_rows, len(rows))
            if n:
                batch[table] = [rows.popleft() for _ in range(n)]
        statements = list(self._statements)
        self._statements.clear()
        return batch, statements

    def done(self, batch: dict[str, list[Row]]) -> None:
        """The batch is in the database."""
        for table, rows in batch.items():
            self._size -= len(rows)
            self.written[table] += len(rows)

    def give_back(self, batch: dict[str, list[Row]], statements: list[Statement]) -> None:
        """The batch was not written: put it back in front, in order (and drop past the bound)."""
        for table, rows in batch.items():
            self._rows[table].extendleft(reversed(rows))
        self._statements.extendleft(reversed(statements))
        while self._size > self.limit:
            self._drop(max(self._rows, key=lambda t: len(self._rows[t])))

    def discard(self, table: str) -> int:
        """Forget a table's queued rows (another replica writes them); return how many."""
        rows = self._rows[table]
        n = len(rows)
        rows.clear()
        self._size -= n
        return n

    def log_drops(self) -> None:
        """Say how many rows were dropped since the last time (the writer calls it when it can)."""
        if self._unlogged_drops:
            self._log_drop_summary()

    def _drop(self, table: str) -> None:
        rows = self._rows[table]
        if not rows:
            return
        rows.popleft()
        self._size -= 1
        self.dropped[table] += 1
        self._unlogged_drops += 1
        now = self._monotonic()
        if self._drop_logged_at is None or now - self._drop_logged_at >= DROP_LOG_INTERVAL_S:
            self._log_drop_summary()

    def _log_drop_summary(self) -> None:
        self._drop_logged_at = self._monotonic()
        logger.warning(
            "store: the write buffer is full (store.buffer_rows: %d): dropped the oldest %d rows since the "
            "last report (in all, by table: %s)",
            self.limit,
            self._unlogged_drops,
            ", ".join(f"{table} {n}" for table, n in self.dropped.items() if n),
        )
        self._unlogged_drops = 0
