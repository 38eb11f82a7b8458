"""Which answers may become pending arrivals: a budget that no flood of requests can exceed.

A pending arrival moves every board's advice, so anyone who can ask for an
answer can move the boards. An answer counts only if it is credible:

- per origin (a board, or "position" for phones that send their own), the
  writes in the last `TRAFFIC_WINDOW` stay within `TRAFFIC_MULTIPLE` times the
  drivers the site's traffic model says pass there (at least `MIN_PER_WINDOW`);
  asks beyond that are an anomaly, counted;
- per client address, at most `ADDRESS_WRITES_PER_MIN` writes a minute (a
  hospital's Wi-Fi behind one NAT address still has room: answers are always
  served, only their counting stops);
- per device (a cookie, else address and user agent), one pending arrival at a
  time: a repeat answer before the earlier one's ETA replaces it.

Pure: the time and the expected traffic are passed in; memory is bounded.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from parking.guidance.drivers import Sent

TRAFFIC_WINDOW = timedelta(minutes=15)
TRAFFIC_MULTIPLE = 2.0  # twice what the traffic explains: a busy hour above the model still counts
MIN_PER_WINDOW = 10.0  # a board with little modelled traffic still counts a few drivers
ADDRESS_WRITES_PER_MIN = 60
MAX_ADDRESSES = 50_000
MAX_DEVICES = 50_000

REFUSED_OVER_TRAFFIC = "over_traffic"
REFUSED_RATE_LIMITED = "rate_limited"
REPLACED = "replaced"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether an answer counts; why not; the device's earlier answer it replaces; an anomalous ask."""

    counts: bool
    reason: str | None  # REFUSED_* when it does not count, REPLACED when it replaces, else None
    replaces: Sent | None
    anomaly: bool


class _Window:
    """Events in the last `window`, counted in one-minute buckets (at most window/1 min entries)."""

    def __init__(self, window: timedelta) -> None:
        self._window = window
        self._buckets: deque[tuple[datetime, int]] = deque()
        self._total = 0

    def count(self, now: datetime) -> int:
        """Events in the window ending at `now`."""
        start = now - self._window
        while self._buckets and self._buckets[0][0] <= start:
            self._total -= self._buckets.popleft()[1]
        return self._total

    def add(self, now: datetime) -> None:
        """One event at `now`."""
        minute = now.replace(second=0, microsecond=0)
        if self._buckets and self._buckets[-1][0] == minute:
            self._buckets[-1] = (minute, self._buckets[-1][1] + 1)
        else:
            self._buckets.append((minute, 1))
        self._total += 1


class ArrivalBudget:
    """Decides which answers become pending arrivals (see the module docstring); remembers devices."""

    def __init__(
        self,
        multiple: float = TRAFFIC_MULTIPLE,
        window: timedelta = TRAFFIC_WINDOW,
        per_address_per_min: int = ADDRESS_WRITES_PER_MIN,
    ) -> None:
        self._multiple = multiple
        self._window = window
        self._per_address = per_address_per_min
        self._asks: dict[str, _Window] = {}
        self._writes: dict[str, _Window] = {}
        self._addresses: dict[str, tuple[datetime, int]] = {}  # address: its minute, writes in it
        self._devices: dict[str, Sent] = {}  # insertion order: the oldest answer first

    def cap(self, expected_per_h: float) -> float:
        """The writes an origin may make in a window when its traffic is `expected_per_h` drivers an hour."""
        hours = self._window.total_seconds() / 3600.0
        return max(MIN_PER_WINDOW, self._multiple * expected_per_h * hours)

    def judge(self, origin: str, expected_per_h: float, address: str, device: str, now: datetime) -> Verdict:
        """Whether an answer to `device` at `address`, asked from `origin` at `now`, counts."""
        cap = self.cap(expected_per_h)
        asks = self._asks.setdefault(origin, _Window(self._window))
        anomaly = asks.count(now) >= cap
        asks.add(now)
        writes = self._writes.setdefault(origin, _Window(self._window))
        if writes.count(now) >= cap:
            return Verdict(False, REFUSED_OVER_TRAFFIC, None, anomaly)
        minute = now.replace(second=0, microsecond=0)
        at, used = self._addresses.get(address, (minute, 0))
        used = used if at == minute else 0
        if used >= self._per_address:
            return Verdict(False, REFUSED_RATE_LIMITED, None, anomaly)
        self._addresses.pop(address, None)  # re-inserted last: the oldest minute goes first at the bound
        self._addresses[address] = (minute, used + 1)
        if len(self._addresses) > MAX_ADDRESSES:
            del self._addresses[next(iter(self._addresses))]
        writes.add(now)
        earlier = self._devices.get(device)
        if earlier is not None and now < earlier.due:
            return Verdict(True, REPLACED, earlier, anomaly)
        return Verdict(True, None, None, anomaly)

    def recorded(self, device: str, sent: Sent) -> None:
        """The pending arrival now counted for `device` (its earlier one, if any, replaced)."""
        self._devices.pop(device, None)
        self._devices[device] = sent
        if len(self._devices) > MAX_DEVICES:
            del self._devices[next(iter(self._devices))]
