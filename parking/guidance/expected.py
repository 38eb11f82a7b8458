"""Expected space on arrival: what a lot will have left when a driver sent now gets there.

free now (ops hold-backs and closures already applied to the view) - the lot's fill
over the drive - drivers already sent and not arrived. From that, the chance the
lot is full on arrival, and what that costs: driving on to the best other lot
(docs/guidance.md). Pure: values in, values out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from parking.availability.views import LotView
from parking.config.models import GuidanceConfig

COUNT_SIGMA = 1.0  # spaces: the error of a free count itself (a bay taken as the count was sent)
FULL_BELOW = 0.5  # a lot is full on arrival when the spaces left round to none


@dataclass(frozen=True, slots=True)
class Outlook:
    """What the ranking knows beyond the live views, at one moment: drivers on their way.

    `pending` is per lot, for the category being ranked (weighted: a board adds
    fractions of a driver). Hold-backs and closures are not here: the ops overrides
    are already applied to the views (parking/overrides.py), the one input for them.
    """

    pending: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    # drivers sent to each lot whose ETA fell in the fill-rate window, an hour: already in the
    # measured fill rate, and the ones still to come are pending, so they are not counted twice
    arrived_per_h: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))


NO_OUTLOOK = Outlook()


@dataclass(frozen=True, slots=True)
class Expectation:
    """A lot as a driver sent now would find it: expected free spaces, and the chance it is full."""

    expected_free: float
    reserve: float
    full_probability: float

    @property
    def below_reserve(self) -> bool:
        """Fewer spaces expected than the reserve: a pinned board line shows FULL (not a rank tier)."""
        return self.expected_free < self.reserve

    @property
    def predicted_full(self) -> bool:
        """Not one space expected for this driver: a gate here may be offered as a line (the queue answer)."""
        return self.expected_free < 1.0


def reserve_for(capacity: int, params: GuidanceConfig) -> float:
    """Spaces a lot should still have on arrival to be recommended first: max(spaces, share x capacity)."""
    return max(float(params.reserve_spaces), params.reserve_share * capacity)


def usable_free(view: LotView, category: str) -> int | None:
    """Free spaces a visitor may take now (the view has hold-backs off); None if closed or unknown."""
    cat = view.categories.get(category)
    if cat is None or cat.free is None or cat.status == "closed":
        return None
    return cat.free


def expect(
    view: LotView, category: str, drive_s: float, outlook: Outlook, params: GuidanceConfig
) -> Expectation | None:
    """What a driver arriving in `drive_s` can expect at a lot (None: nothing usable now)."""
    free = usable_free(view, category)
    if free is None or free < 1:
        return None
    return expect_from(view, category, free, drive_s, outlook, params)


def expect_from(
    view: LotView, category: str, free: int, drive_s: float, outlook: Outlook, params: GuidanceConfig
) -> Expectation:
    """The expectation from a usable free count, which may be none (a full lot: the queue answer)."""
    cat = view.categories[category]
    rate = view.fill_rate_per_h or 0.0
    share = cat.capacity / view.capacity if view.capacity else 1.0
    # only filling counts: a lot emptying may fill again before the driver gets there; the
    # drivers we sent are part of the measured fill and are counted as pending instead
    own_fill_per_h = -rate * share - outlook.arrived_per_h.get(view.id, 0.0)
    consumed = max(0.0, own_fill_per_h) * drive_s / 3600.0
    pending = outlook.pending.get(view.id, 0.0)
    expected = free - consumed - pending
    # arrivals over the drive and drivers already sent are both counts of independent drivers:
    # Poisson-like, so their spread grows with the square root of how many there are
    sigma = math.sqrt(
        COUNT_SIGMA**2 + turnover(cat.capacity, free, own_fill_per_h, drive_s, params) + pending
    )
    return Expectation(
        expected, reserve_for(cat.capacity, params), normal_cdf((FULL_BELOW - expected) / sigma)
    )


def turnover(
    capacity: int, free: int, own_fill_per_h: float, drive_s: float, params: GuidanceConfig
) -> float:
    """How many of the lot's own drivers come or go over the drive: the spread of its fill, not the net.

    The fill rate is a net count: a lot whose cars come and go as fast as each other
    shows none, yet its last spaces are taken and freed at random meanwhile. Each
    occupied space frees once a `mean_stay_s`; the lot's own drivers arrive as fast
    plus its net fill (none when emptying faster). Both are Poisson-like counts, so
    each adds its mean to the variance: with nothing occupied this is the net fill.
    """
    leaving = max(0, capacity - free) * drive_s / params.mean_stay_s
    arriving = max(0.0, leaving + own_fill_per_h * drive_s / 3600.0)
    return leaving + arriving


def wait_s(
    view: LotView, category: str, drive_s: float, expectation: Expectation, params: GuidanceConfig
) -> float:
    """How long a driver arriving in `drive_s` waits at the gate for a space, in expectation.

    The driver needs the lot to free 1 - expected_free spaces (drivers already sent
    are ahead of them). An occupied space frees on average once a `mean_stay_s`, so
    the lot frees occupied / mean_stay_s spaces a second from now; the ones freed
    during the drive count, so the wait is what is left of that time on arrival.
    """
    needed = 1.0 - expectation.expected_free
    if needed <= 0.0:
        return 0.0
    cat = view.categories[category]
    occupied = max(1.0, float(cat.capacity - (cat.free or 0)))
    return max(0.0, needed * params.mean_stay_s / occupied - drive_s)


def normal_cdf(z: float) -> float:
    """P(Z <= z) for a standard normal Z."""
    return 0.5 * math.erfc(-z / math.sqrt(2.0))
