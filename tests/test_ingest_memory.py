"""An oversized message never reaches the engine's memory: `parking-guide run` as a process, a private
Mosquitto that forwards messages of any size (up to its default 256 MB), and the engine's peak RSS.

Before the engine asked for MQTT 5's Maximum Packet Size, a 200 MB message took a 100 MB engine to a
678 MB peak; under a memory limit it was killed, and the unacknowledged message killed it again
after every restart.
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers.cli import cli, get_json, printed
from tests.helpers.services import PrivateBroker
from tests.helpers.site import SITE_YAML

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak RSS from /proc"),
]

PAYLOAD_BYTES = 20_000_000
# Growth of the engine's peak RSS that would mean it held the payload (it would hold it at least once)
TOO_MUCH_GROWTH_BYTES = PAYLOAD_BYTES // 4
WAIT_S = 30.0


def peak_rss_bytes(pid: int) -> int:
    """The process's peak resident set size so far (VmHWM)."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmHWM:\s+(\d+) kB$", status, re.MULTILINE)
    assert match, status
    return int(match.group(1)) * 1024


def counted(base: str, feed: str, result: str) -> float:
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:
        text = response.read().decode()
    match = re.search(rf'^parking_feed_messages_total{{feed="{feed}",result="{result}"}} (\S+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


def wait_for(probe: object, expected: object) -> None:
    """Poll `probe()` until it returns `expected` (a process and a broker: no clock to inject)."""
    assert callable(probe)
    deadline, last = time.monotonic() + WAIT_S, None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except OSError as exc:  # not serving yet
            last = exc
        if last == expected:
            return
        time.sleep(0.05)
    pytest.fail(f"waited {WAIT_S}s for {expected!r}, last saw {last!r}")


def readyz(base: str) -> int:
    try:
        with urllib.request.urlopen(f"{base}/readyz", timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def publish_oversized_then_valid(port: int, topic: str, free: int) -> None:
    import aiomqtt

    async def send() -> None:
        async with aiomqtt.Client("127.0.0.1", port, timeout=60) as client:
            await client.publish(topic, b'{"free": 1' + b" " * PAYLOAD_BYTES + b"}", qos=1)
            await client.publish(topic, b'{"free": %d}' % free, qos=1)

    asyncio.run(send())


@pytest.mark.timeout(120)
def test_an_oversized_message_is_never_read_and_never_comes_back(
    tmp_path: Path, private_broker: PrivateBroker, prefix: str
) -> None:
    config = tmp_path / "site.yaml"
    config.write_text(
        SITE_YAML
        + f"mqtt: {{port: {private_broker.port}, client_id: {prefix}-engine, reconnect_max_s: 1.0}}\n"
        + f'feeds: [{{format: lot, topic: "{prefix}/parking/{{lot}}/status"}}]\n'
        + "http: {port: 0}\n"
    )
    topic = f"{prefix}/parking/tower/status"

    with cli("run", "-c", str(config)) as engine:
        base = printed(engine, r"serving on (http://\S+)", time.monotonic() + WAIT_S)
        wait_for(lambda: readyz(base), 200)
        before = peak_rss_bytes(engine.pid)
        publish_oversized_then_valid(private_broker.port, topic, free=42)
        wait_for(lambda: counted(base, "lot", "applied"), 1.0)
        assert peak_rss_bytes(engine.pid) - before < TOO_MUCH_GROWTH_BYTES
        assert counted(base, "lot", "oversized") == 0  # the broker kept it: never sent, never parsed

    # While the engine is away, its session queues another one: delivered on reconnecting, it used to
    # kill the engine again on every restart.
    publish_oversized_then_valid(private_broker.port, topic, free=43)
    with cli("run", "-c", str(config)) as engine:
        base = printed(engine, r"serving on (http://\S+)", time.monotonic() + WAIT_S)
        wait_for(lambda: counted(base, "lot", "applied"), 1.0)
        assert get_json(f"{base}/api/v1/lots/tower")["free"] == 43
        assert peak_rss_bytes(engine.pid) - before < TOO_MUCH_GROWTH_BYTES
        assert engine.poll() is None
