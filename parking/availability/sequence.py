"""Sequence numbers: which message is new, which a repeat or late, and how many were skipped.

A device's messages are ordered by the sequence number the engine has adopted
for it. A number at most `max_jump` ahead of it is adopted at once; one further
ahead (or far behind: a device restart) is a jump: its message is applied, but
the number is only adopted once the device's next message follows it. So one
message with a wrong or forged number cannot make the device's own next
messages look old; see docs/feeds.md, "Sequence numbers".
"""

from __future__ import annotations

from typing import Literal

# A number this far below the adopted one is a device restart, not a late message.
SEQ_RESTART_GAP = 1000

Order = Literal["duplicate", "stale", "next", "jump"]


def seq_order(seq: int, adopted: int | None, pending: int | None, max_jump: int) -> tuple[Order, int]:
    """Where `seq` falls against the adopted number and an unconfirmed jump, and the numbers it skipped.

    `next` adopts `seq` (continuing the adopted order, or confirming the jump);
    `jump` applies the message and leaves `seq` as the unconfirmed jump. Only a
    `next` skips numbers, so one message cannot claim more than max_jump - 1 lost.
    """
    if seq in (adopted, pending):
        return "duplicate", 0
    if adopted is not None and adopted < seq <= adopted + max_jump:
        return "next", seq - adopted - 1
    if pending is not None and pending < seq <= pending + max_jump:
        return "next", seq - pending - 1
    if adopted is not None and adopted - SEQ_RESTART_GAP < seq < adopted:
        return "stale", 0
    if pending is not None and pending - max_jump < seq < pending:
        return "stale", 0
    return "jump", 0
