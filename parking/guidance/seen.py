"""When each board last asked for its answer (a poll or a stream): ops see a dead board by its silence."""

from __future__ import annotations

from datetime import datetime


class BoardsSeen:
    """Last-seen time per configured board; unknown ids are never recorded."""

    def __init__(self, board_ids: list[str]) -> None:
        self._known = frozenset(board_ids)
        self._at: dict[str, datetime] = {}

    def touch(self, board_id: str, now: datetime) -> None:
        """The board polled or is streaming at `now`."""
        if board_id in self._known:
            self._at[board_id] = now

    def last_seen(self, board_id: str) -> datetime | None:
        """When the board was last seen, or None if never since start-up."""
        return self._at.get(board_id)

    def last_seen_all(self) -> dict[str, datetime]:
        """When each board that has been seen was last seen."""
        return dict(self._at)

    def ages_s(self, now: datetime) -> dict[str, float]:
        """Seconds since each board that has been seen was last seen."""
        return {board: (now - at).total_seconds() for board, at in self._at.items()}
