"""The free-port helpers, on IPv4 and (where the machine has it) IPv6 loopback."""

from __future__ import annotations

import socket

import pytest

from sensors.net import free_port, port_is_free


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


HOSTS = [
    "127.0.0.1",
    pytest.param("::1", marks=pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback")),
]


@pytest.mark.parametrize("host", HOSTS)
def test_a_free_port_can_be_bound(host: str) -> None:
    port = free_port(host)
    assert 0 < port < 65536
    assert port_is_free(host, port)


@pytest.mark.parametrize("host", HOSTS)
def test_a_listening_port_is_not_free(host: str) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as taken:
        taken.bind((host, 0))
        taken.listen()
        assert not port_is_free(host, taken.getsockname()[1])


def test_the_default_host_is_ipv4_loopback() -> None:
    assert port_is_free("127.0.0.1", free_port())
