"""A minimal MQTT 3.1.1 QoS 1 publisher on a raw socket, to queue a large backlog quickly.

paho publishes ~8k messages/s here (a publish call and a network thread sharing the GIL);
this writes pre-encoded PUBLISH packets in batches and counts the broker's PUBACKs, so
preparing a 100k backlog takes about a second instead of a quarter of the run.
"""

from __future__ import annotations

import select
import socket
import struct
import time
from collections.abc import Sequence

from bench.broker import Broker
from bench.errors import BenchError

BATCH = 5000
MAX_UNACKED = 20_000  # well below the 65535 packet ids a session has
_CONNACK = b"\x20\x02"
_PUBACK_LEN = 4


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | 0x80 if n else byte)
        if not n:
            return bytes(out)


def _utf8(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("!H", len(raw)) + raw


def connect_packet(client_id: str, keepalive_s: int = 60) -> bytes:
    """CONNECT, MQTT 3.1.1, clean session."""
    body = _utf8("MQTT") + bytes([4, 0x02]) + struct.pack("!H", keepalive_s) + _utf8(client_id)
    return b"\x10" + _remaining_length(len(body)) + body


def publish_packet(topic: str, payload: bytes, packet_id: int) -> bytes:
    """PUBLISH at QoS 1 with the given packet id."""
    body = _utf8(topic) + struct.pack("!H", packet_id) + payload
    return b"\x32" + _remaining_length(len(body)) + body


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise BenchError("broker closed the publisher's connection")
        data += chunk
    return data


class _Acks:
    """PUBACKs counted off the socket (the broker answers each PUBLISH with 4 bytes)."""

    def __init__(self) -> None:
        self.count = 0
        self._partial = b""

    def read(self, sock: socket.socket, wait_s: float) -> None:
        """Count what has arrived, waiting up to `wait_s` for something to arrive."""
        ready, _, _ = select.select([sock], [], [], wait_s)
        if not ready:
            return
        data = self._partial + sock.recv(65536)
        if len(data) == len(self._partial):
            raise BenchError("broker closed the publisher's connection")
        whole = len(data) // _PUBACK_LEN
        self.count += whole
        self._partial = data[whole * _PUBACK_LEN :]


def publish_backlog(broker: Broker, messages: Sequence[tuple[str, bytes]], timeout_s: float) -> float:
    """Publish every message at QoS 1 and wait for every PUBACK; return the seconds taken."""
    deadline = time.monotonic() + timeout_s
    total = len(messages)
    with socket.create_connection((broker.host, broker.port), timeout=timeout_s) as sock:
        sock.sendall(connect_packet(f"bench-publisher-{time.monotonic_ns()}"))
        connack = _recv_exact(sock, 4)
        if connack[:2] != _CONNACK or connack[3] != 0:
            raise BenchError(f"broker refused the publisher: {connack!r}")
        started = time.perf_counter()
        acks = _Acks()
        for first in range(0, total, BATCH):
            batch = messages[first : first + BATCH]
            packets = [
                publish_packet(topic, payload, (first + i) % 65535 + 1)
                for i, (topic, payload) in enumerate(batch)
            ]
            sock.sendall(b"".join(packets))
            sent = first + len(batch)
            acks.read(sock, 0.0)  # take what is there, so PUBACKs never back up
            while sent - acks.count > MAX_UNACKED or (sent == total and acks.count < total):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise BenchError(f"only {acks.count} of {total} publishes acknowledged in time")
                acks.read(sock, remaining)
        return time.perf_counter() - started
