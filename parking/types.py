"""Shared domain types: the words every layer uses for categories, statuses, arrows and feed health.

Plain values only; the domain, the edges and the composition root all import
these, so nothing here imports anything of the project.
"""

from __future__ import annotations

import enum
from typing import Literal

GENERAL = "general"
"""The category of an ordinary visitor's space; every other category is a special need."""

Status = Literal["open", "almost_full", "full", "closed", "unknown"]
Trend = Literal["filling", "emptying", "stable", "unknown"]
Arrow = Literal["ahead", "ahead_right", "right", "back", "left", "ahead_left"]

STATUSES: tuple[Status, ...] = ("open", "almost_full", "full", "closed", "unknown")


class ConnectionState(enum.Enum):
    """Where a feed connection is."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
