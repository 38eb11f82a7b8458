"""ReadBuffer: paho's small reads served from one large read of the socket, the socket's errors unchanged."""

from __future__ import annotations

import pytest

from sensors.readbuffer import ReadBuffer


class FakeSocket:
    """Chunks the socket has received, read in turn; BlockingIOError when none is waiting."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)
        self.asked: list[int] = []

    def recv(self, bufsize: int) -> bytes:
        self.asked.append(bufsize)
        if not self.chunks:
            raise BlockingIOError
        chunk = self.chunks.pop(0)
        assert len(chunk) <= bufsize
        return chunk


class TestReadBuffer:
    def test_small_reads_are_served_from_one_read_of_the_socket(self) -> None:
        sock = FakeSocket(b"\x32\x05hello\x32\x03abc")
        buffer = ReadBuffer(sock.recv, chunk=1024)
        got = [buffer.recv(1), buffer.recv(1), buffer.recv(5), buffer.recv(1), buffer.recv(1), buffer.recv(3)]
        assert got == [b"\x32", b"\x05", b"hello", b"\x32", b"\x03", b"abc"]
        assert sock.asked == [1024]

    def test_the_socket_is_asked_for_a_whole_chunk_whatever_the_read_wants(self) -> None:
        sock = FakeSocket(b"xy")
        assert ReadBuffer(sock.recv, chunk=4096).recv(1) == b"x"
        assert sock.asked == [4096]

    def test_a_read_longer_than_what_is_held_gets_what_is_held_and_the_next_goes_to_the_socket(self) -> None:
        sock = FakeSocket(b"abc", b"defg")
        buffer = ReadBuffer(sock.recv, chunk=64)
        assert buffer.recv(1) == b"a"
        assert buffer.recv(10) == b"bc"  # a short read, as a socket gives one
        assert not buffer.holds()
        assert buffer.recv(10) == b"defg"
        assert sock.asked == [64, 64]

    def test_it_holds_bytes_until_the_last_is_read(self) -> None:
        buffer = ReadBuffer(FakeSocket(b"ab").recv)
        assert not buffer.holds()
        buffer.recv(1)
        assert buffer.holds()
        buffer.recv(1)
        assert not buffer.holds()

    def test_nothing_waiting_raises_as_the_socket_does(self) -> None:
        buffer = ReadBuffer(FakeSocket(b"a").recv)
        assert buffer.recv(1) == b"a"
        with pytest.raises(BlockingIOError):
            buffer.recv(1)

    def test_a_closed_connection_reads_empty_and_holds_nothing(self) -> None:
        buffer = ReadBuffer(FakeSocket(b"").recv)
        assert buffer.recv(1) == b""
        assert not buffer.holds()

    def test_a_socket_error_passes_through_and_the_buffer_reads_on_after_it(self) -> None:
        calls = iter([ConnectionResetError("reset"), b"z"])

        def recv(bufsize: int) -> bytes:
            result = next(calls)
            if isinstance(result, Exception):
                raise result
            return result

        buffer = ReadBuffer(recv)
        with pytest.raises(ConnectionResetError):
            buffer.recv(1)
        assert buffer.recv(1) == b"z"
