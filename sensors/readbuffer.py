"""One large read of the socket, served to paho's small reads.

paho reads a packet in three or more `recv` calls: its first byte, each byte of
its remaining length, then the rest. On a QoS 1 backlog that is four system
calls a message, each with its own bytes object. `ReadBuffer` takes what the
socket holds in one call (up to `READ_CHUNK` bytes) and hands paho slices of it,
so a backlog of small messages costs a system call every hundred-odd messages.

The socket's errors pass through unchanged: a read the buffer cannot serve goes
to the socket, which raises `BlockingIOError` when it has nothing, and returns
`b""` when the connection is closed, as paho expects of it.
"""

from __future__ import annotations

from collections.abc import Callable

READ_CHUNK = 65_536  # bytes asked of the socket at once: a hundred-odd feed messages


class ReadBuffer:
    """A socket's `recv(n)`, served from one larger read while it lasts."""

    __slots__ = ("_at", "_chunk", "_data", "_recv")

    def __init__(self, recv: Callable[[int], bytes], chunk: int = READ_CHUNK) -> None:
        self._recv = recv
        self._chunk = chunk
        self._data = b""
        self._at = 0

    def holds(self) -> bool:
        """True while bytes read from the socket wait here (the socket's readiness no longer shows them)."""
        return self._at < len(self._data)

    def recv(self, bufsize: int) -> bytes:
        """At most `bufsize` bytes: from what was read before, else from one new read of the socket."""
        data, at = self._data, self._at
        if at >= len(data):
            data = self._recv(self._chunk)  # raises as the socket does; b"" when it is closed
            if not data:
                return data
            self._data, at = data, 0
        end = at + bufsize
        self._at = min(end, len(data))
        return data[at:end]
