"""The private attributes sensors/paho_adapter.py reaches for are still there, and only it reaches.

A paho or aiomqtt upgrade that renames or reshapes one of them fails here, naming the
attribute and the installed version, instead of in the middle of a backlog. No network:
the clients are built, never connected.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import re
import types
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aiomqtt
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from sensors.paho_adapter import (
    REACHES,
    Reach,
    aiomqtt_paho_client,
    end_connection,
    pahos_socket_recv,
    queue_raw_packet,
    replace_socket_recv,
)
from sensors.reader import puback
from sensors.session import SessionClient

ROOT = Path(__file__).resolve().parent.parent
ADAPTER = ROOT / "sensors" / "paho_adapter.py"
SCANNED = ("sensors", "parking", "bench")
DISTRIBUTIONS = {"paho": "paho-mqtt", "aiomqtt": "aiomqtt"}


def installed(reach: Reach) -> str:
    """The distribution and version that provide `reach`, for the failure message."""
    name = DISTRIBUTIONS[reach.owner.split(".")[0]]
    return f"{name} {version(name)}"


def owner(reach: Reach) -> type:
    module, _, cls = reach.owner.rpartition(".")
    found = getattr(importlib.import_module(module), cls)
    assert isinstance(found, type)
    return found


def instance_of(reach: Reach) -> Any:
    """A real, unconnected client of the owner's class (aiomqtt's needs the running loop)."""
    if owner(reach) is paho.Client:
        return paho.Client(CallbackAPIVersion.VERSION2)
    return aiomqtt.Client(hostname="127.0.0.1")


def test_every_reach_names_a_known_owner() -> None:
    assert {reach.owner for reach in REACHES} == {"paho.mqtt.client.Client", "aiomqtt.Client"}
    assert len({(reach.owner, reach.name) for reach in REACHES}) == len(REACHES)


@pytest.mark.parametrize("reach", REACHES, ids=lambda reach: f"{reach.owner}.{reach.name}")
async def test_the_installed_library_still_has_it_of_the_kind_expected(reach: Reach) -> None:
    where = f"{reach.owner}.{reach.name} (installed: {installed(reach)}; the adapter is pinned to others)"
    client = instance_of(reach)
    assert hasattr(client, reach.name), f"{where} is gone"
    value = getattr(client, reach.name)
    assert isinstance(value, reach.kind), (
        f"{where} is a {type(value).__name__} on a new client, not a {reach.kind.__name__}"
    )
    if reach.kind is types.MethodType:
        # a plain function on the class, so that setting it on one instance replaces it there only
        static = inspect.getattr_static(owner(reach), reach.name)
        assert inspect.isfunction(static), f"{where} is no longer a plain method but {type(static).__name__}"
        params = list(inspect.signature(value).parameters)[: len(reach.params)]
        assert params == list(reach.params), f"{where} now takes {params}, the adapter passes {reach.params}"


def test_no_other_module_touches_those_private_names() -> None:
    names = "|".join(re.escape(reach.name) for reach in REACHES)
    touching = re.compile(rf"[.'\"]({names})\b")
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for folder in SCANNED
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path != ADAPTER
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if touching.search(line)
    ]
    assert found == [], "only sensors/paho_adapter.py may touch these:\n" + "\n".join(found)


async def test_session_client_shadows_nothing_of_aiomqtts() -> None:
    """Its own attributes sit beside aiomqtt's: none replaces one aiomqtt (or a new aiomqtt) uses."""
    plain = aiomqtt.Client(hostname="127.0.0.1")
    session = SessionClient(hostname="127.0.0.1")
    own = {name for name in vars(SessionClient) if not name.startswith("__")} | (
        set(vars(session)) - set(vars(plain))
    )
    assert own, "SessionClient keeps something of its own"
    shadowed = sorted(name for name in own if hasattr(plain, name))
    assert shadowed == [], f"SessionClient shadows aiomqtt {version('aiomqtt')}'s {shadowed}"


async def test_session_client_hands_on_to_aiomqtts_callbacks() -> None:
    session = SessionClient(hostname="127.0.0.1")
    client = aiomqtt_paho_client(session)
    message = paho.MQTTMessage(mid=1, topic=b"parking/p1/status")
    message.payload = b"1"
    on_message = client.on_message
    assert on_message is not None
    on_message(client, None, message)  # type: ignore[call-arg]
    assert len(session.messages) == 1  # no `deliver`: aiomqtt's queue has it


class TestAdapter:
    async def test_the_paho_client_is_the_one_aiomqtt_drives(self) -> None:
        client = aiomqtt.Client(hostname="127.0.0.1", identifier="adapter-spec")
        assert aiomqtt_paho_client(client)._client_id == b"adapter-spec"

    async def test_a_failed_read_ends_the_connection_with_its_exception_once(self) -> None:
        client = aiomqtt.Client(hostname="127.0.0.1")
        end_connection(client, ConnectionResetError("reset"))
        end_connection(client, RuntimeError("later"))  # the first one stands
        with pytest.raises(ConnectionResetError):
            await asyncio.wait_for(client._disconnected, 1)

    def test_the_socket_reader_is_replaced_on_one_client_only(self) -> None:
        client, other = paho.Client(CallbackAPIVersion.VERSION2), paho.Client(CallbackAPIVersion.VERSION2)
        original = pahos_socket_recv(client)
        with pytest.raises(ConnectionError):  # paho's own: no socket yet
            original(1)
        replace_socket_recv(client, lambda size: b"\x00" * size)
        assert client._sock_recv(2) == b"\x00\x00"
        with pytest.raises(ConnectionError):
            other._sock_recv(1)
        with pytest.raises(ConnectionError):
            original(1)  # still paho's, not the replacement

    def test_a_raw_packet_is_queued_as_paho_queues_its_own(self) -> None:
        client = paho.Client(CallbackAPIVersion.VERSION2)
        queue_raw_packet(client, paho.PUBACK, puback(7) + puback(8))
        assert client._out_packet[-1]["packet"] == puback(7) + puback(8)
        assert client._out_packet[-1]["command"] == paho.PUBACK
