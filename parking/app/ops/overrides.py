"""The one way an override is set or cleared: applied to the live site, kept in the store, audited.

Every handler that sets or clears an override (the dashboard's form and its JSON
API) goes through here, so boards and the API show it at once, a restart
restores it, and the audit log says who, what, when and why.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aiohttp import web

from parking.app.keys import LIVE, STORE
from parking.overrides import Override, OverrideKind

logger = logging.getLogger(__name__)


def set_override(app: web.Application, override: Override, now: datetime) -> None:
    """Apply an override to the live site, keep and audit it (ValueError if the live site refuses it)."""
    app[LIVE].set_override(override, now)
    store = app.get(STORE)
    if store is not None:
        store.record_override(override)
    logger.info("ops: %s set %s on %s: %s", override.set_by, override.kind, override.target, override.reason)


def clear_override(
    app: web.Application, kind: OverrideKind, target: str, now: datetime, actor: str, reason: str
) -> Override | None:
    """End the override standing on a target, forget and audit it; None if none stood there."""
    ended = app[LIVE].clear_override(kind, target)
    if ended is None:
        return None
    store = app.get(STORE)
    if store is not None:
        store.record_override_cleared(ended, now, actor, reason)
    logger.info("ops: %s cleared %s on %s: %s", actor, kind, target, reason)
    return ended


def audit(app: web.Application, at: datetime, actor: str, action: str, detail: str = "") -> None:
    """An entry of the audit log for what is not an override (an ops login, a refused one)."""
    store = app.get(STORE)
    if store is not None:
        store.audit(at, actor, action, detail=detail)
