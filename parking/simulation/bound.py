"""The clairvoyant bound: the best any strategy could do on a morning known in advance, as a linear program.

Every visitor v either parks at a lot l, straight from where they appear (`x[v, l]`), or
not at all (`z[v]`). Parking costs the drive to the lot's best entrance plus the walk from
it to the door (street search included), as the simulator charges; not parking costs what
the simulator charges a visitor who never parks (the run's end less the appearance). The
visitor then occupies the lot from their arrival for their stay, both known in advance. At
every moment a visitor may arrive at a lot, the visitors parked there plus the lot's own
(non-visitor) occupancy at that moment must fit its capacity.

Assumptions (docs/guidance.md, "The bound"): drivers go straight to their lot, so no one
queues, circles or drives on; the lots' own occupancy is given in advance and keeps its
spaces (own drivers are never turned away by a visitor); capacity is checked only when a
visitor arrives (as the simulator admits a car); integrality is relaxed. Under these the
LP is a lower bound on the mean time to the door of every strategy that parks each visitor
straight at a lot: each such strategy's assignment is one feasible integral point, and the
LP minimises over a superset. A strategy whose visitors wait at a full gate instead pays
for the wait; the bound charges a visitor it cannot park the run's end, which is a bound
only while `unparked` is 0 (it is reported beside the bound).

The capacity rows are written along each lot's time line (`parked[l, j]`, the visitors
parked between its j-th and next event), so each x appears in two rows and the program
stays sparse: ~1,700 visitors x 7 lots solve in well under a second with HiGHS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import linprog

from parking.errors import ParkingGuideError

Floats = npt.NDArray[np.float64]


class BoundError(ParkingGuideError):
    """The bound's linear program could not be solved."""


@dataclass(frozen=True, slots=True)
class OwnOccupancy:
    """A lot's own (non-visitor) cars over the morning: `count[i]` from `at_s[i]` until the next change."""

    at_s: Floats  # increasing, at_s[0] the start of the run
    count: Floats

    def at(self, time_s: Floats) -> Floats:
        """The own occupancy at each of the given moments (a change at that moment counted)."""
        index = np.searchsorted(self.at_s, time_s, side="right") - 1
        return np.asarray(self.count[np.maximum(index, 0)], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Instance:
    """One morning as the bound sees it: every visitor's times, every lot's capacity and own cars."""

    appear_s: Floats  # (visitors,)
    stay_s: Floats  # (visitors,)
    drive_s: Floats  # (visitors, lots): to the lot's best entrance; inf if it cannot be reached
    on_foot_s: Floats  # (visitors, lots): from that entrance to the door, street search included
    capacity: Floats  # (lots,)
    own: tuple[OwnOccupancy, ...]  # (lots,)
    unparked_s: Floats  # (visitors,): the charge for a visitor who never parks


@dataclass(frozen=True, slots=True)
class Bound:
    """The LP's optimum: its mean and p90 minutes to the door, and how it got there."""

    visitors: int
    mean_min: float
    p90_min: float  # of the fractional assignment's distribution (each x[v, l] a weight)
    unparked: float  # visitors the LP could not park (fractions summed)
    fractional: int  # visitors whose assignment the LP split between lots
    share: Floats  # (visitors, lots): x[v, l]


def solve(instance: Instance) -> Bound:
    """The LP relaxation's optimum over `instance` (HiGHS); BoundError if the solver fails."""
    n_visitors, n_lots = instance.drive_s.shape
    option_v, option_l = np.nonzero(np.isfinite(instance.drive_s))
    n_options = len(option_v)
    cost_s = instance.drive_s[option_v, option_l] + instance.on_foot_s[option_v, option_l]
    park_s = instance.appear_s[option_v] + instance.drive_s[option_v, option_l]
    leave_s = park_s + instance.stay_s[option_v]

    rows: list[npt.NDArray[np.int64]] = []
    cols: list[npt.NDArray[np.int64]] = []
    vals: list[Floats] = []
    upper: list[Floats] = []
    # one row per visitor: its options and z sum to 1
    rows += [option_v.astype(np.int64), np.arange(n_visitors, dtype=np.int64)]
    cols += [np.arange(n_options, dtype=np.int64), n_options + np.arange(n_visitors, dtype=np.int64)]
    vals += [np.ones(n_options), np.ones(n_visitors)]
    row0, col0 = n_visitors, n_options + n_visitors
    for lot in range(n_lots):
        mine = np.nonzero(option_l == lot)[0]
        if len(mine) == 0:
            continue
        times = np.unique(np.concatenate([park_s[mine], leave_s[mine]]))
        start_at = np.searchsorted(times, park_s[mine])
        end_at = np.searchsorted(times, leave_s[mine])
        n = len(times)
        # row j: parked[j] - parked[j-1] - (arrivals at j) + (departures at j) = 0
        rows += [row0 + start_at, row0 + end_at, row0 + np.arange(n), row0 + np.arange(1, n)]
        cols += [mine, mine, col0 + np.arange(n), col0 + np.arange(n - 1)]
        vals += [-np.ones(len(mine)), np.ones(len(mine)), np.ones(n), -np.ones(n - 1)]
        room = np.full(n, np.inf)
        arrivals = np.unique(start_at)
        room[arrivals] = np.maximum(0.0, instance.capacity[lot] - instance.own[lot].at(times[arrivals]))
        upper.append(room)
        row0, col0 = row0 + n, col0 + n
    a_eq = sparse.csr_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(row0, col0)
    )
    b_eq = np.zeros(row0)
    b_eq[:n_visitors] = 1.0
    objective = np.concatenate([cost_s, instance.unparked_s, np.zeros(col0 - n_options - n_visitors)])
    ub = np.concatenate([np.ones(n_options + n_visitors), *upper])
    bounds = np.column_stack([np.zeros(col0), ub])
    # scipy-stubs take neither a sparse A_eq nor an array of bounds, both of which HiGHS accepts
    solution = linprog(
        cast("Any", objective), A_eq=cast("Any", a_eq), b_eq=b_eq, bounds=cast("Any", bounds), method="highs"
    )
    if solution.status != 0 or solution.x is None:
        raise BoundError(f"the bound's linear program failed: {solution.message}")
    x = np.clip(np.asarray(solution.x, dtype=np.float64), 0.0, 1.0)
    share = np.zeros((n_visitors, n_lots))
    share[option_v, option_l] = x[:n_options]
    unparked = x[n_options : n_options + n_visitors]
    weights = np.concatenate([x[:n_options], unparked])
    minutes = np.concatenate([cost_s, instance.unparked_s]) / 60.0
    split = (share > 1e-6).sum(axis=1) > 1
    return Bound(
        visitors=n_visitors,
        mean_min=float(weights @ minutes) / n_visitors if n_visitors else math.nan,
        p90_min=_quantile(minutes, weights, n_visitors),
        unparked=float(unparked.sum()),
        fractional=int(split.sum()),
        share=share,
    )


def _quantile(minutes: Floats, weights: Floats, n: int) -> float:
    """The weighted distribution's value at rank int(0.9 n), the rank `results.summarize` takes."""
    if n == 0:
        return math.nan
    order = np.argsort(minutes, kind="stable")
    cumulative = np.cumsum(weights[order])
    rank = min(n - 1, int(0.9 * n)) + 1  # 1-based
    at = int(np.searchsorted(cumulative, rank - 1e-6))
    return float(minutes[order][min(at, len(order) - 1)])
