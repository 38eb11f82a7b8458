"""The audit log's SQL: who did what, when and why (ops logins, overrides set and cleared)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from parking.store import Connection

INSERT_AUDIT = """
INSERT INTO audit_log (at, actor, action, kind, target, detail, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)
"""

_LATEST = "SELECT * FROM audit_log ORDER BY id DESC LIMIT $1"


async def latest_entries(conn: Connection, limit: int = 200) -> Sequence[asyncpg.Record]:
    """The newest `limit` entries of the audit log, newest first."""
    return await conn.fetch(_LATEST, limit)
