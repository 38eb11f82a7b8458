"""Simulated feeds for any site: occupancy that follows the day, published as real sensors would.

`SiteSimulator` is pure (time and randomness are passed in): it keeps each lot's
simulated occupancy and turns its changes into `(topic, payload)` pairs in the
formats of sensors/decoders: a bay whose sensor is in a LoRaWAN feed's device map
reports as that network server would (ttn-v3, chirpstack-v4), other bays as
`spot`; lot systems as `lot`, gates as `gate`. Optional `Faults` make it misbehave
as real feeds do. parking/simulation/publisher.py is the edge that publishes to an MQTT
broker; parking/simulation/demand.py holds the demand curves.

Cars arrive and leave as Poisson processes that pull each lot toward a demand
curve (by lot kind, local time and weekday). Stays are shorter than in real life
so that a demo at time_scale=1 moves visibly: a 300-space lot changes every few
seconds.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from parking.availability import within
from parking.config.models import LORAWAN_FORMATS, Config, FeedEntry, Lot
from parking.simulation.demand import (
    CATEGORY_SHARE,
    DEFAULT_CATEGORY_SHARE,
    DEFAULT_KIND,
    MEAN_STAY_S,
    demand,
)
from parking.simulation.faults import FaultInjector, Faults
from parking.simulation.uplinks import uplink
from parking.types import GENERAL
from sensors.topics import TopicTemplate

logger = logging.getLogger(__name__)

Message = tuple[str, bytes]
Curve = tuple[tuple[float, float], ...]

LOT_HEARTBEAT_S = 60.0  # simulated s: a lot system re-reports an unchanged count this often
RECOUNT_S = 240.0  # simulated s: a gate lot publishes its true count (a recount) this often
SPOT_HEARTBEAT_S = 600.0  # simulated s: each bay sensor re-reports its state this often
MAX_SUBSTEP_S = 30.0  # simulated s: one Poisson step never spans more than this
APPROACH_S = 900.0  # simulated s: time constant with which a lot closes the gap to its demand
WOBBLE_TAU_S = 1800.0  # simulated s: correlation time of a lot's random demand swing
WOBBLE_SIGMA = 0.05  # typical size of that swing (log scale, ~5 %)


@dataclass(slots=True)
class _Pool:
    """One category of one lot: how many cars it holds and, for spot lots, in which bays."""

    capacity: int
    share: float
    occupied: int = 0
    vacant: list[str] = field(default_factory=list)
    taken: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _LotSim:
    """The simulated state of one lot, and what of it has not been published yet."""

    spec: Lot
    pools: dict[str, _Pool]
    gates: list[str]
    bias: float
    wobble: float = 0.0  # log of the current random demand factor
    occupied: dict[str, bool] = field(default_factory=dict)  # spot lots: bay -> occupied
    sent: dict[str, bool] = field(default_factory=dict)  # spot lots: last published state
    seq: dict[str, int] = field(default_factory=dict)  # spot lots: last published seq
    dirty: dict[str, None] = field(default_factory=dict)  # spot lots: bays that changed (ordered)
    beat_order: list[str] = field(default_factory=list)
    beat_cursor: int = 0
    beat_credit: float = 0.0
    counters: dict[str, list[int]] = field(default_factory=dict)  # gate -> [entries, exits]
    dirty_gates: dict[str, None] = field(default_factory=dict)
    last_status_s: float = -math.inf
    last_sent_free: tuple[int, ...] = ()

    def free(self) -> dict[str, int]:
        """Free spaces per category."""
        return {category: pool.capacity - pool.occupied for category, pool in self.pools.items()}

    def arrive(self, rng: random.Random, pool: _Pool) -> None:
        """One car parks: in a random vacant bay (spot lots), through a random gate (gate lots)."""
        pool.occupied += 1
        if pool.vacant:
            spot = _take_random(rng, pool.vacant)
            pool.taken.append(spot)
            self.occupied[spot] = True
            self.dirty[spot] = None
        if self.counters:
            gate = rng.choice(self.gates)
            self.counters[gate][0] += 1
            self.dirty_gates[gate] = None

    def depart(self, rng: random.Random, pool: _Pool) -> None:
        """One car leaves: from a random taken bay (spot lots), through a random gate (gate lots)."""
        pool.occupied -= 1
        if pool.taken:
            spot = _take_random(rng, pool.taken)
            pool.vacant.append(spot)
            self.occupied[spot] = False
            self.dirty[spot] = None
        if self.counters:
            gate = rng.choice(self.gates)
            self.counters[gate][1] += 1
            self.dirty_gates[gate] = None


class SiteSimulator:
    """Simulated occupancy of every lot of a site, and the feed messages that report it."""

    def __init__(
        self,
        config: Config,
        rng: random.Random,
        *,
        time_scale: float = 1.0,
        start: datetime | None = None,
        faults: Faults | None = None,
    ) -> None:
        if time_scale <= 0:
            raise ValueError(f"time_scale must be positive, got {time_scale}")
        if start is not None and start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        self.time_scale = time_scale
        self._rng = rng
        self._tz = ZoneInfo(config.site.timezone)
        self._start = start
        self._clock: datetime | None = None
        self._elapsed_s = 0.0
        self._spot_topic = _template(config, "spot")
        self._lot_topic = _template(config, "lot")
        self._gate_topic = _template(config, "gate")
        # (lot, bay) -> the LoRaWAN feed and device id that report it
        self._devices: dict[tuple[str, str], tuple[FeedEntry, str]] = {
            (device.lot, device.spot): (entry, device_id)
            for entry in config.feeds
            if entry.format in LORAWAN_FORMATS
            for device_id, device in entry.devices.items()
        }
        self._lots = {spec.id: self._new_lot(spec) for spec in config.lots}
        self._faults = FaultInjector(
            faults or Faults(),
            rng,
            [(lot.spec.id, spot) for lot in self._lots.values() for spot in lot.occupied],
        )

    @property
    def clock(self) -> datetime:
        """The simulated time (once initial_messages() or step() has started the simulation)."""
        if self._clock is None:
            raise RuntimeError("the simulation has not started; call initial_messages() or step()")
        return self._clock

    def occupancy(self, lot_id: str) -> dict[str, int]:
        """Cars parked in a lot now, per category (KeyError if unknown)."""
        return {category: pool.occupied for category, pool in self._lots[lot_id].pools.items()}

    def free(self, lot_id: str) -> int:
        """Free spaces in a lot now, over all categories (KeyError if unknown)."""
        return sum(self._lots[lot_id].free().values())

    def initial_messages(self, now: datetime) -> list[Message]:
        """A full snapshot of every feed: all bays, all lot counts, all gate counters and gate-lot truths."""
        self._begin(now)
        messages: list[Message | None] = []
        for lot in self._lots.values():
            ts = self._faults.stamp(lot.spec.id, now)
            messages.extend(
                self._spot_message(lot, spot, now, ts, bump=spot not in lot.seq) for spot in lot.occupied
            )
            lot.dirty.clear()
            # counters first: a truth must come after them or a delta would land on it
            messages.extend(self._gate_message(lot, gate, ts) for gate in lot.counters)
            lot.dirty_gates.clear()
            if lot.spec.sources & {"lot", "gate"}:
                messages.append(self._status_message(lot, ts))
        return self._faults.apply([m for m in messages if m is not None])

    def step(self, now: datetime, dt_s: float) -> list[Message]:
        """Advance by dt_s real seconds (times time_scale simulated) and return the messages that changed."""
        clock = self._begin(now)
        total_s = max(0.0, dt_s) * self.time_scale
        substeps = math.ceil(total_s / MAX_SUBSTEP_S)
        for _ in range(substeps):
            sub_s = total_s / substeps
            clock += timedelta(seconds=sub_s)
            self._elapsed_s += sub_s
            local = clock.astimezone(self._tz)
            for lot in self._lots.values():
                self._advance(lot, local, sub_s)
        self._clock = clock
        messages: list[Message | None] = []
        for lot in self._lots.values():
            ts = self._faults.stamp(lot.spec.id, now)
            sources = lot.spec.sources
            messages.extend(self._spot_changes(lot, now, ts, total_s))
            messages.extend(self._gate_message(lot, gate, ts) for gate in lot.dirty_gates)
            lot.dirty_gates.clear()
            since_status_s = self._elapsed_s - lot.last_status_s
            if "lot" in sources:
                free = tuple(lot.free().values())
                if free != lot.last_sent_free or since_status_s >= LOT_HEARTBEAT_S:
                    messages.append(self._status_message(lot, ts))
            elif "gate" in sources and since_status_s >= RECOUNT_S:
                messages.append(self._status_message(lot, ts))
        return self._faults.apply([m for m in messages if m is not None])

    # -- simulation ----------------------------------------------------------------

    def _new_lot(self, spec: Lot) -> _LotSim:
        pools = {
            category: _Pool(capacity, CATEGORY_SHARE.get(category, DEFAULT_CATEGORY_SHARE))
            for category, capacity in spec.capacities().items()
        }
        lot = _LotSim(spec, pools, gates=list(spec.gates) or ["g1"], bias=self._rng.uniform(0.9, 1.05))
        for category, ids in spec.spot_ids().items():
            pools[category].vacant.extend(ids)
            lot.occupied.update(dict.fromkeys(ids, False))
        lot.beat_order = list(lot.occupied)
        self._rng.shuffle(lot.beat_order)
        if "gate" in spec.sources:
            lot.counters = {gate: [0, 0] for gate in lot.gates}
        return lot

    def _begin(self, now: datetime) -> datetime:
        """Fill every lot to its demand at the start time, once."""
        if self._clock is not None:
            return self._clock
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        self._clock = start = self._start or now
        local = start.astimezone(self._tz)
        for lot in self._lots.values():
            want = self._want(lot, local)
            for pool in lot.pools.values():
                share = min(1.0, want * pool.share)
                cars = round(pool.capacity * share + self._rng.gauss(0.0, 0.02 * pool.capacity))
                for _ in range(min(pool.capacity, max(0, cars))):
                    lot.arrive(self._rng, pool)
            lot.dirty.clear()
            for gate, counter in lot.counters.items():
                # counters from long before: cumulative values whose difference is the occupancy
                earlier = self._rng.randint(2_000, 60_000)
                counter[0] += earlier
                counter[1] += earlier
                lot.dirty_gates.pop(gate, None)
        return start

    def _want(self, lot: _LotSim, local: datetime) -> float:
        if not within(lot.spec.opening_hours, local):
            return 0.0
        return demand(lot.spec.kind, local) * lot.bias * math.exp(lot.wobble)

    def _advance(self, lot: _LotSim, local: datetime, dt_s: float) -> None:
        """One Poisson step: cars leave (and arrive) at their usual turnover, plus a pull toward demand."""
        rng = self._rng
        lot.wobble += -lot.wobble * dt_s / WOBBLE_TAU_S + WOBBLE_SIGMA * math.sqrt(
            2 * dt_s / WOBBLE_TAU_S
        ) * rng.gauss(0.0, 1.0)
        want = self._want(lot, local)
        stay_s = MEAN_STAY_S.get(lot.spec.kind, MEAN_STAY_S[DEFAULT_KIND])
        for pool in lot.pools.values():
            target = want * pool.share * pool.capacity
            leave_rate = pool.occupied / stay_s + max(0.0, pool.occupied - target) / APPROACH_S
            arrive_rate = target / stay_s + max(0.0, target - pool.occupied) / APPROACH_S
            for _ in range(min(pool.occupied, _poisson(rng, leave_rate * dt_s))):
                lot.depart(rng, pool)
            for _ in range(min(pool.capacity - pool.occupied, _poisson(rng, arrive_rate * dt_s))):
                lot.arrive(rng, pool)

    # -- messages ------------------------------------------------------------------

    def _spot_changes(self, lot: _LotSim, now: datetime, ts: str, total_s: float) -> list[Message | None]:
        """Bays whose state changed, and the bays whose periodic heartbeat is due."""
        due: dict[str, None] = {}
        order = lot.beat_order
        if order:
            lot.beat_credit = min(lot.beat_credit + len(order) * total_s / SPOT_HEARTBEAT_S, len(order))
            while lot.beat_credit >= 1:
                lot.beat_credit -= 1
                due[order[lot.beat_cursor]] = None
                lot.beat_cursor = (lot.beat_cursor + 1) % len(order)
        messages = [
            self._spot_message(lot, spot, now, ts, bump=True)
            for spot in {**lot.dirty, **due}
            if spot in due or lot.occupied[spot] != lot.sent.get(spot)
        ]
        lot.dirty.clear()
        return messages

    def _spot_message(self, lot: _LotSim, spot: str, now: datetime, ts: str, *, bump: bool) -> Message | None:
        if bump:
            # seq follows the wall clock so a restarted simulator continues past its old numbers
            lot.seq[spot] = max(lot.seq.get(spot, 0) + 1, int(now.timestamp()))
        occupied = lot.occupied[spot]
        lot.sent[spot] = occupied
        if self._faults.silent(lot.spec.id, spot):
            return None
        device = self._devices.get((lot.spec.id, spot))
        if device is not None:
            entry, device_id = device
            # a LoRaWAN frame counter is 32 bits; the wall-clock seq stays far below that until 2106
            return uplink(entry, device_id, lot.seq[spot], ts, occupied, battery=self._faults.battery(spot))
        if self._spot_topic is None:
            return None
        payload = {"occupied": occupied, "ts": ts, "seq": lot.seq[spot]}
        return self._spot_topic.format(lot=lot.spec.id, spot=spot), orjson.dumps(payload)

    def _status_message(self, lot: _LotSim, ts: str) -> Message | None:
        """The lot-level count: a lot system's report, or a gate lot's recount (the truth)."""
        free = lot.free()
        lot.last_status_s = self._elapsed_s
        lot.last_sent_free = tuple(free.values())
        if self._lot_topic is None:
            return None
        payload: dict[str, Any] = {
            "free": sum(free.values()),
            "capacity": sum(pool.capacity for pool in lot.pools.values()),
            "ts": ts,
        }
        special = {category: count for category, count in free.items() if category != GENERAL}
        if special:
            payload["categories"] = special
        return self._lot_topic.format(lot=lot.spec.id), orjson.dumps(payload)

    def _gate_message(self, lot: _LotSim, gate: str, ts: str) -> Message | None:
        if self._gate_topic is None:
            return None
        entries, exits = lot.counters[gate]
        payload = {"entries": entries, "exits": exits, "ts": ts}
        return self._gate_topic.format(lot=lot.spec.id, gate=gate), orjson.dumps(payload)


def _template(config: Config, fmt: str) -> TopicTemplate | None:
    """The topic template of the first feed of a plain format, or None if the config has none."""
    entry = next((entry for entry in config.feeds if entry.format == fmt), None)
    return None if entry is None else TopicTemplate(fmt, entry.topic)


def _take_random(rng: random.Random, items: list[str]) -> str:
    """Remove and return a random item in O(1) (order is not kept)."""
    index = rng.randrange(len(items))
    items[index], items[-1] = items[-1], items[index]
    return items.pop()


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (normal approximation for large means)."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
