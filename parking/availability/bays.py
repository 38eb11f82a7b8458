"""Bay sensors: one report moves its category's count; a sensor silent too long counts as unknown.

A category with bays is known once `needed` of its bays are live: reported since
the start and heard from within the lot's `silence` window (docs/feeds.md,
"Liveness"). Its count is the live bays that said free, so a bay never heard
from, or gone silent, is never counted free. Live bays are kept in the order they
were last heard (`LotState.live_order`), so finding the silent ones costs one
look at the front, not a pass over every bay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from parking.availability.lots import LotState, Result, SpotState
from parking.availability.sequence import Order, seq_order
from parking.observations import SpotObservation


@dataclass(frozen=True, slots=True)
class BayView:
    """One bay and its sensor, for ops: `state` is free, occupied, silent or never (not heard since start)."""

    id: str
    category: str
    state: str
    seen_at: datetime | None
    battery: float | None
    rssi: float | None
    snr: float | None


def apply_spot(
    state: LotState, obs: SpotObservation, ts: datetime | None, now: datetime, anomalies: list[str]
) -> tuple[Result, int]:
    """A bay sensor's report (or heartbeat): move the category's count when the bay changes."""
    spot = state.spots.get(obs.spot)
    if spot is None:
        return ("unknown_spot" if "spot" in state.sources else "wrong_feed"), 0
    if obs.uplink is not None and obs.uplink == spot.uplink:
        return "duplicate", 0  # the same frame again: a network server or broker redelivery
    order: Order = "jump"  # a first number is not adopted until the next one follows it
    gaps = 0
    if obs.seq is not None and (spot.seq is not None or spot.pending is not None):
        order, gaps = seq_order(obs.seq, spot.seq, spot.pending, state.max_seq_jump)
        if order == "duplicate" or order == "stale":
            return order, 0
        if order == "jump":
            anomalies.append("seq_jump")
    elif ts is not None and spot.ts is not None and ts < spot.ts:
        return "stale", 0
    occupied = spot.occupied if obs.occupied is None else obs.occupied  # a heartbeat keeps the state
    if occupied is not None:
        _count(state, spot, occupied)
    spot.occupied = occupied
    if obs.seq is not None:
        if order == "next":
            spot.seq, spot.pending = obs.seq, None
        else:
            spot.pending = obs.seq
    spot.ts = ts if ts is not None else spot.ts
    spot.seen_at = now
    if obs.uplink is not None:
        spot.uplink = obs.uplink
        spot.battery = obs.battery if obs.battery is not None else spot.battery
        spot.rssi, spot.snr = obs.rssi, obs.snr
    order_ = state.live_order
    if spot.live:
        order_.pop(obs.spot, None)
        order_[obs.spot] = None  # now the most recently heard
    return "applied", gaps


def _count(state: LotState, spot: SpotState, occupied: bool) -> None:
    """Count a bay's (new) state in its category: a live bay that changed, or one coming alive."""
    category = spot.category
    if not spot.live:
        spot.live = True
        state.reported[category] += 1
        state.reported_free[category] += 0 if occupied else 1
    elif spot.occupied != occupied:
        state.reported_free[category] += -1 if occupied else 1
    _recount(state, category)


def _recount(state: LotState, category: str) -> None:
    # too few live bays and the count says nothing yet; a bay not live is not free
    known = state.reported[category] >= state.needed[category]
    state.free[category] = state.reported_free[category] if known else None


def expire_silent(state: LotState, now: datetime) -> list[str]:
    """Bays heard from last before `now` - silence stop counting; return their categories (once each)."""
    order = state.live_order
    if not order:
        return []
    horizon = now - state.silence
    touched: dict[str, None] = {}
    spots = state.spots
    while order:
        spot_id = next(iter(order))
        spot = spots[spot_id]
        if spot.seen_at is not None and spot.seen_at >= horizon:
            break
        del order[spot_id]
        spot.live = False
        category = spot.category
        state.reported[category] -= 1
        state.reported_free[category] -= 0 if spot.occupied else 1
        _recount(state, category)
        touched[category] = None
    return list(touched)


def bay_views(state: LotState) -> list[BayView]:
    """Every bay of the lot, in config order, with what its sensor last said."""
    out = []
    for spot_id, spot in state.spots.items():
        if spot.live:
            kind = "occupied" if spot.occupied else "free"
        else:
            kind = "never" if spot.seen_at is None or spot.occupied is None else "silent"
        out.append(BayView(spot_id, spot.category, kind, spot.seen_at, spot.battery, spot.rssi, spot.snr))
    return out
