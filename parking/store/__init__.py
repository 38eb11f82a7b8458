"""The store: PostgreSQL through asyncpg for history, the event log and what a restart recovers.

Part of the composition root: nothing in the domain imports it. One SQL
dialect everywhere, asyncpg against PostgreSQL, whether the server is the
operator's (a DSN) or the private one `run` and `demo` start without a DSN.
"""

from __future__ import annotations

from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from parking.errors import ParkingGuideError

Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"

# What losing the database looks like from asyncpg: the server went away, refused, or timed out.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
)
# ... and anything else the database can say no with.
STORE_ERRORS: tuple[type[BaseException], ...] = (*CONNECTION_ERRORS, asyncpg.PostgresError)


class StoreError(ParkingGuideError):
    """The database could not be used (unreachable, or a migration failed)."""
