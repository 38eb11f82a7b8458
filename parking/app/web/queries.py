"""Query-string values checked one by one: every bad value is a 4xx naming the parameter, never a 500."""

from __future__ import annotations

import math
from dataclasses import dataclass

from parking.guidance.service import Needs
from parking.types import GENERAL

MAX_QUERY_VALUE = 200  # characters; longer values are refused before parsing
MAX_HEIGHT_M = 10.0


@dataclass(frozen=True, slots=True)
class QueryError(Exception):
    """A query value that cannot be used: the status (400 or 422) and a message for the client."""

    status: int
    message: str


def text(name: str, value: str) -> str:
    """A short string parameter."""
    if len(value) > MAX_QUERY_VALUE:
        raise QueryError(400, f"{name} is too long ({len(value)} characters, at most {MAX_QUERY_VALUE})")
    return value


def number(name: str, value: str, low: float, high: float) -> float:
    """A finite decimal number within [low, high]."""
    text(name, value)
    try:
        parsed = float(value)
    except ValueError:
        raise QueryError(400, f"{name} must be a number, not {value[:40]!r}") from None
    if not math.isfinite(parsed) or not low <= parsed <= high:
        raise QueryError(400, f"{name} must be a number from {low:g} to {high:g}, not {value[:40]!r}")
    return parsed


def needs(value: str | None, categories: frozenset[str]) -> Needs:
    """`needs=`: at most one space category (e.g. `disabled`, `ev`) and `height:<metres>`, comma-separated."""
    if not value:
        return Needs()
    text("needs", value)
    category, height = GENERAL, None
    for token in (t.strip() for t in value.split(",")):
        if not token:
            continue
        if token.startswith("height:"):
            height = number(
                "needs height", token.removeprefix("height:").removesuffix("m"), 0.5, MAX_HEIGHT_M
            )
        elif token in categories:
            if category != GENERAL and token != category:
                raise QueryError(400, "needs takes one space category at a time")
            category = token
        else:
            known = ", ".join(sorted(categories | {"height:<metres>"}))
            raise QueryError(400, f"unknown need {token[:40]!r} (known: {known})")
    return Needs(category, height)
