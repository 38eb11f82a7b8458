"""A driver sent somewhere: the answer judged credible (parking/guidance/credible.py), counted, and recorded.

Every answer is served; only whether it becomes a pending arrival is decided
here. A device is the driver page's cookie if it has one, else the client's
address and user agent.
"""

from __future__ import annotations

import hashlib
import re

from aiohttp import web

from parking.app.keys import ARRIVAL_BUDGET, CLOCK, DRIVER_GUIDANCE, METRICS, STORE, TRAFFIC
from parking.guidance.credible import REPLACED
from parking.guidance.drivers import Sent
from parking.guidance.service import Recommendation

DEVICE_COOKIE = "pg_device"
DEVICE_COOKIE_MAX_AGE_S = 86_400
POSITION = "position"  # the origin of answers to phones that send their own position
# the device cookie in a Cookie header, read without parsing every cookie of the header
_TOKEN_IN_HEADER = re.compile(rf"(?:^|;)\s*{DEVICE_COOKIE}=([A-Za-z0-9_-]{{16,64}})\s*(?:;|$)")


def device_token(request: web.Request) -> str | None:
    """The driver page's device cookie, if the request has a well-formed one."""
    header = request.headers.get("Cookie")
    if header is None:
        return None
    found = _TOKEN_IN_HEADER.search(header)
    return None if found is None else found.group(1)


def device_of(request: web.Request, token: str | None = None) -> str:
    """Who asked: a device token (the page's cookie), else the client's address and user agent."""
    token = token or device_token(request)
    if token is not None:
        return "c:" + token
    agent = request.headers.get("User-Agent", "")[:512]
    return "a:" + hashlib.sha256(f"{request.remote}\0{agent}".encode()).hexdigest()[:32]


def count_answer(
    request: web.Request,
    first: Recommendation | None,
    category: str,
    origin: str,
    board: str | None,
    weight: float = 1.0,
    token: str | None = None,
) -> Sent | None:
    """The answer's first lot as a pending arrival, if the budget finds it credible; recorded if so.

    `token`: the device's cookie, the one it sent or the one just given to a phone that had none.
    """
    if first is None or first.arrival_s is None:
        return None
    app = request.app
    now, metrics = app[CLOCK](), app[METRICS]
    key = board or POSITION
    device = device_of(request, token)
    verdict = app[ARRIVAL_BUDGET].judge(key, app[TRAFFIC].per_h(board, now), str(request.remote), device, now)
    if verdict.anomaly:
        metrics.anomaly(key)
    if not verdict.counts:
        assert verdict.reason is not None
        metrics.uncounted(verdict.reason)
        return None
    drivers = app[DRIVER_GUIDANCE]
    if verdict.replaces is not None:
        drivers.replaced(verdict.replaces)
        weight = max(weight, verdict.replaces.weight)  # a driver who tapped "go" and looks again still goes
        metrics.uncounted(REPLACED)
    sent = drivers.sent(first, now, category, weight)
    if sent is None:
        return None
    app[ARRIVAL_BUDGET].recorded(device, sent)
    metrics.answers_from[origin].inc()
    store = app.get(STORE)
    if store is not None:
        store.record_answer(sent.at, sent.lot, sent.eta_s, origin, board, sent.category, sent.expires)
    return sent
