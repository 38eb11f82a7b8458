"""Override requests from ops, checked field by field: every bad value is refused with a clear message."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from parking.config.models import Config
from parking.overrides import MAX_MESSAGE_CHARS, MAX_REASON_CHARS, OVERRIDE_KINDS, Override, OverrideKind

MAX_FORM_BYTES = 4096
MAX_MINUTES = 7 * 24 * 60  # an override with an end time lasts at most a week; longer ones: until cleared
MAX_FIELD_CHARS = 600


class FormError(ValueError):
    """A value that cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class OverrideRequest:
    """Set an override, or clear the one of a kind on a target."""

    action: Literal["set", "clear"]
    override: Override | None  # set
    kind: OverrideKind
    target: str
    reason: str


def _field(fields: Mapping[str, object], name: str, required: bool = True) -> str:
    value = fields.get(name)
    if value is None or value == "":
        if required:
            raise FormError(f"{name} is required")
        return ""
    if not isinstance(value, str | int):
        raise FormError(f"{name} must be text")
    text = str(value)
    if len(text) > MAX_FIELD_CHARS:
        raise FormError(f"{name} is too long ({len(text)} characters)")
    return text


def _printable(name: str, text: str, limit: int) -> str:
    text = text.strip()
    if not text:
        raise FormError(f"{name} is required")
    if len(text) > limit:
        raise FormError(f"{name} is too long ({len(text)} characters, at most {limit})")
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise FormError(f"{name} must be plain text on one line (no control characters)")
    return text


def _end(fields: Mapping[str, object], now: datetime) -> datetime | None:
    minutes_text = _field(fields, "minutes", required=False)
    until_text = _field(fields, "until", required=False)
    if minutes_text and until_text:
        raise FormError("give minutes or until, not both")
    if until_text:
        try:
            until = datetime.fromisoformat(until_text)
        except ValueError:
            raise FormError("until must be an ISO 8601 time such as 2026-11-25T18:00:00+08:00") from None
        if until.tzinfo is None:
            raise FormError("until needs a time zone (Z or +08:00)")
        if until <= now:
            raise FormError("until must be in the future")
        if until - now > timedelta(minutes=MAX_MINUTES):
            raise FormError("until is more than a week away: leave it empty (until cleared) instead")
        return until.astimezone(UTC)
    if not minutes_text or minutes_text == "0":
        return None
    try:
        minutes = int(minutes_text)
    except ValueError:
        raise FormError(f"minutes must be a whole number, not {minutes_text[:20]!r}") from None
    if not 1 <= minutes <= MAX_MINUTES:
        raise FormError(f"minutes must be from 1 to {MAX_MINUTES} (0 or empty: until cleared)")
    return now + timedelta(minutes=minutes)


def override_request(
    fields: Mapping[str, object], config: Config, user: str, now: datetime
) -> OverrideRequest:
    """Check a form or JSON body: action, kind, target, spaces or message, minutes or until, reason."""
    unknown = set(fields) - {
        "action",
        "kind",
        "target",
        "spaces",
        "message",
        "minutes",
        "until",
        "reason",
        "csrf",
    }
    if unknown:
        raise FormError(f"unknown field {sorted(unknown)[0][:40]!r}")
    action = _field(fields, "action", required=False) or "set"
    if action not in ("set", "clear"):
        raise FormError(f"action must be 'set' or 'clear', not {action[:20]!r}")
    kind = _field(fields, "kind")
    if kind not in OVERRIDE_KINDS:
        raise FormError(f"kind must be one of {', '.join(OVERRIDE_KINDS)}, not {kind[:20]!r}")
    target = _field(fields, "target")
    lots = {lot.id: lot for lot in config.lots}
    if kind in ("close", "hold") and target not in lots:
        raise FormError(f"no lot {target[:64]!r}")
    if kind == "message" and target not in {board.id for board in config.boards}:
        raise FormError(f"no board {target[:64]!r}")
    reason = _printable("reason", _field(fields, "reason"), MAX_REASON_CHARS)
    if action == "clear":
        return OverrideRequest("clear", None, kind, target, reason)
    spaces, message = 0, ""
    if kind == "hold":
        spaces_text = _field(fields, "spaces")
        try:
            spaces = int(spaces_text)
        except ValueError:
            raise FormError(f"spaces must be a whole number, not {spaces_text[:20]!r}") from None
        capacity = sum(lots[target].capacities().values())
        if not 1 <= spaces <= capacity:
            raise FormError(f"spaces must be from 1 to the lot's capacity ({capacity})")
    if kind == "message":
        message = _printable("message", _field(fields, "message"), MAX_MESSAGE_CHARS)
    until = _end(fields, now)
    override = Override(kind, target, user, now, reason, spaces, message, until)
    return OverrideRequest("set", override, kind, target, reason)
