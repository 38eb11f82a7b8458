"""The store as the app holds it: the pool, the write buffer, and what the rest of the app records."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from parking.backoff import Backoff
from parking.config.models import StoreConfig
from parking.observations import Observation
from parking.overrides import Override
from parking.store import CONNECTION_ERRORS, StoreError
from parking.store.audit import INSERT_AUDIT
from parking.store.buffer import WriteBuffer
from parking.store.restore import Restored
from parking.store.rows import observation_row
from parking.store.schema import migrate
from parking.store.writer import StoreState

logger = logging.getLogger(__name__)

_SET_OVERRIDE = """
INSERT INTO overrides (kind, target, set_by, set_at, reason, spaces, message, until)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (kind, target) DO UPDATE SET set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at,
    reason = EXCLUDED.reason, spaces = EXCLUDED.spaces, message = EXCLUDED.message, until = EXCLUDED.until
"""


@dataclass
class Store:
    """PostgreSQL as the app uses it: everything recorded goes through the write buffer."""

    pool: asyncpg.Pool
    buffer: WriteBuffer
    state: StoreState = field(default_factory=StoreState)
    restored: Restored | None = None

    def record_observation(self, obs: Observation, received_at: datetime) -> None:
        """An observation the live site applied (the feed sink calls this on the hot path)."""
        self.buffer.add("observations", observation_row(obs, received_at))

    def record_answer(
        self,
        at: datetime,
        lot: str,
        drive_s: float,
        origin: str,
        board: str | None,
        category: str,
        expires_at: datetime,
    ) -> None:
        """A guidance answer that sent a driver to `lot` for a space of `category`."""
        self.buffer.add("guidance_answers", (at, lot, drive_s, origin, board, category, expires_at))

    def record_page_view(self, at: datetime, board: str, lang: str, wechat: bool) -> None:
        """A view of a board's driver page (nothing about the viewer)."""
        self.buffer.add("page_views", (at, board, lang, wechat))

    def record_override(self, override: Override) -> None:
        """An override now standing, and its audit entry."""
        o = override
        until = o.until
        self.buffer.execute(
            _SET_OVERRIDE, o.kind, o.target, o.set_by, o.set_at, o.reason, o.spaces, o.message, until
        )
        detail = f"spaces={o.spaces}" if o.kind == "hold" else f"message={o.message!r}" if o.message else ""
        if until is not None:
            detail = f"{detail} until={until.isoformat()}".strip()
        self.audit(o.set_at, o.set_by, "override_set", o.kind, o.target, detail, o.reason)

    def record_override_cleared(self, override: Override, at: datetime, actor: str, reason: str) -> None:
        """An override ended by hand, and its audit entry."""
        self.buffer.execute(
            "DELETE FROM overrides WHERE kind = $1 AND target = $2", override.kind, override.target
        )
        self.audit(at, actor, "override_cleared", override.kind, override.target, "", reason)

    def audit(
        self,
        at: datetime,
        actor: str,
        action: str,
        kind: str | None = None,
        target: str | None = None,
        detail: str = "",
        reason: str = "",
    ) -> None:
        """One entry of the audit log: who did what, when and why (a statement: never dropped)."""
        self.buffer.execute(INSERT_AUDIT, at, actor, action, kind, target, detail, reason)


CONNECT_TIMEOUT_S = 10.0
COMMAND_TIMEOUT_S = 60.0  # a statement that takes longer is a database in trouble: fail and retry
POOL_SIZE = 4  # the writer's connection, and reads: restore, history, the ops dashboard


async def open_store(config: StoreConfig, dsn: str) -> Store:
    """A pool and an up-to-date schema; waits up to store.startup_wait_s for the database, then goes on.

    A database that cannot be reached in time is an outage like any other:
    the engine starts from its feeds alone (nothing restored), queues writes,
    and the writer connects when the database returns. A database that
    answers but refuses (a wrong password, a failed migration) is an error.
    """
    pool = await asyncpg.create_pool(
        dsn, min_size=0, max_size=POOL_SIZE, timeout=CONNECT_TIMEOUT_S, command_timeout=COMMAND_TIMEOUT_S
    )
    store = Store(pool, WriteBuffer(config.buffer_rows))
    backoff = Backoff(config.reconnect_min_s, config.reconnect_max_s)
    deadline = time.monotonic() + config.startup_wait_s
    while True:
        try:
            async with pool.acquire() as conn:
                await migrate(conn)
            store.state.up = True
            return store
        except CONNECTION_ERRORS as exc:
            delay = backoff.next_delay()
            if time.monotonic() + delay > deadline:
                logger.error(
                    "store: no database after %g s (%s: %s): starting without a restore; writes are "
                    "queued (store.buffer_rows: %d) until it returns",
                    config.startup_wait_s,
                    type(exc).__name__,
                    exc,
                    config.buffer_rows,
                )
                return store
            logger.warning("store: waiting for the database (%s); again in %.1f s", exc, delay)
            await asyncio.sleep(delay)
        except asyncpg.PostgresError as exc:
            await pool.close()
            raise StoreError(f"the database refused: {exc}") from exc
