"""Versioned SQL migrations: files NNNN_name.sql applied in order, each once, recorded in schema_version."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources

from parking.store import Connection

logger = logging.getLogger(__name__)

MIGRATION_LOCK = 7_273_001  # advisory lock: one migrator at a time, whatever the number of replicas
_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """Every migration shipped with the engine, in version order."""
    found = []
    for entry in resources.files("parking.store").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match["version"]), match["name"], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    return found


async def migrate(conn: Connection) -> list[Migration]:
    """Apply the migrations this database lacks, each in its own transaction; return those applied."""
    await conn.execute(
        """CREATE TABLE IF NOT EXISTS schema_version (
               version    integer PRIMARY KEY,
               name       text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now()
           )"""
    )
    applied: list[Migration] = []
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        done = {row["version"] for row in await conn.fetch("SELECT version FROM schema_version")}
        for migration in migrations():
            if migration.version in done:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                record = "INSERT INTO schema_version (version, name) VALUES ($1, $2)"
                await conn.execute(record, migration.version, migration.name)
            logger.info("store: applied migration %04d_%s", migration.version, migration.name)
            applied.append(migration)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
    return applied


async def schema_version(conn: Connection) -> int:
    """The highest migration applied (0 for an empty database)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    if not exists:
        return 0
    return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_version"))
