"""Child process: the baseline subscriber, bare paho counting on_message while it drains a backlog.

    python -m bench.drain_paho --port P --client-id ID --count N --result FILE

It runs paho's own network loop (what `loop_forever` does, one `loop()` at a time so the
run stays bounded) in the main thread and does nothing with a message but count it.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import paho.mqtt.client as mqtt

from bench.backlog import new_client
from bench.procs import write_result

LOOP_TIMEOUT_S = 0.1


def drain(host: str, port: int, client_id: str, count: int, idle_s: float, limit_s: float) -> dict[str, Any]:
    """Connect to the persistent session and count messages until `count` have arrived."""
    client = new_client(client_id, clean_session=False)
    received = 0
    first_at: float | None = None
    done_at: float | None = None

    def on_message(_client: mqtt.Client, _userdata: Any, _message: mqtt.MQTTMessage) -> None:
        nonlocal received, first_at, done_at
        received += 1
        if received == 1:
            first_at = time.perf_counter()
        if received == count:
            done_at = time.perf_counter()

    client.on_message = on_message
    started = time.perf_counter()
    client.connect(host, port)
    seen, progress_at = 0, started
    while received < count:
        client.loop(timeout=LOOP_TIMEOUT_S)
        now = time.perf_counter()
        if received != seen:
            seen, progress_at = received, now
        # idle only counts once messages flow (as in drain_engine)
        if (seen and now - progress_at > idle_s) or now - started > limit_s:
            break
    client.disconnect()  # after the last PUBACK, so the broker forgets what we consumed
    for _ in range(20):
        if client.loop(timeout=LOOP_TIMEOUT_S) != mqtt.MQTT_ERR_SUCCESS:
            break
    return {
        "received": received,
        "expected": count,
        "seconds": (done_at or time.perf_counter()) - started,
        "first_message_s": None if first_at is None else first_at - started,
        "complete": done_at is not None,
    }


def main() -> None:
    """Parse arguments, drain, write the result."""
    parser = argparse.ArgumentParser(prog="python -m bench.drain_paho")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--idle-s", type=float, default=5.0)
    parser.add_argument("--limit-s", type=float, default=120.0)
    parser.add_argument("--result", required=True)
    args = parser.parse_args()
    result = drain(args.host, args.port, args.client_id, args.count, args.idle_s, args.limit_s)
    write_result(args.result, result)


if __name__ == "__main__":
    main()
