"""Drive times to every lot entrance from anywhere, precomputed: the hot path of guidance.

A car's state is the arc it arrived on (drive.py says why). The turn graph has
one vertex per arc and an edge a -> b wherever a car that arrived on a may go
on by b: no U-turn except at a dead end, no banned turn, only the "only" turn
where one applies. One Dijkstra per entrance node on the reversed turn graph
(scipy's compiled one) gives, for every arc, the quickest drive from its end to
that entrance. A query from a road node is then a minimum over the arcs leaving
it, and the route itself is found by walking down the table: at each arc, the
next arc is the one whose time plus the table's time from its end is least.

Memory: 4 bytes per entrance node per arc (200 entrances on 400,000 arcs: 320 MB).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from parking.guidance.drive import NO_ARC, ArcGraph

MIN_TRAVEL_S = 1e-3  # an edge between two nodes at one position still takes time: no zero-weight loops


class DriveTable:
    """Quickest drive times from the end of every arc to each target node; read-only once built."""

    __slots__ = (
        "_arcs",
        "_heads",
        "_next",
        "_node_row",
        "_succ",
        "_succ_start",
        "_time",
        "_travel",
        "_travels",
        "targets",
    )

    def __init__(self, arcs: ArcGraph, targets: Sequence[int]) -> None:
        self._arcs = arcs
        self.targets: tuple[int, ...] = tuple(dict.fromkeys(int(t) for t in targets))
        self._node_row = {node: row for row, node in enumerate(self.targets)}
        self._travel = np.maximum(arcs.travel_s, MIN_TRAVEL_S)
        self._succ_start, self._succ = _turns(arcs)
        n = len(arcs.head)
        time = np.full((len(self.targets), n), np.inf, dtype=np.float32)
        if n:
            # reversed turn graph: b -> a (weight: driving b) wherever a car may go from a on to b
            tails = np.repeat(np.arange(n, dtype=np.int64), np.diff(self._succ_start))
            reversed_turns = csr_matrix((self._travel[self._succ], (self._succ, tails)), shape=(n, n))
            order = np.argsort(arcs.head, kind="stable")
            ends = np.searchsorted(arcs.head[order], np.asarray(self.targets, dtype=np.int64))
            stops = np.searchsorted(arcs.head[order], np.asarray(self.targets, dtype=np.int64), side="right")
            for row, (start, stop) in enumerate(zip(ends, stops, strict=True)):
                sources = order[start:stop]
                if len(sources):
                    time[row] = dijkstra(reversed_turns, directed=True, indices=sources, min_only=True)
        self._time = time
        # for walking down the table in Python: plain lists index faster than arrays one item at a time
        self._heads: list[int] = arcs.head.tolist()
        self._travels: list[float] = self._travel.tolist()
        starts = self._succ_start.tolist()
        succ = self._succ.tolist()
        self._next: list[list[int]] = [succ[starts[a] : starts[a + 1]] for a in range(n)]

    def row(self, node: int) -> int:
        """The table row of a target node (KeyError if it is not a target)."""
        return self._node_row[node]

    def times_from(
        self, origin: int, first_arcs: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """Quickest drive from `origin` to every target, leaving by one of `first_arcs`, and that arc.

        inf (and NO_ARC) where a target cannot be reached; 0 (and NO_ARC) for the origin itself.
        """
        count = len(self.targets)
        if len(first_arcs):
            totals = self._time[:, first_arcs] + self._travel[first_arcs][None, :]
            best = np.argmin(totals, axis=1)
            drive = totals[np.arange(count), best].astype(np.float64)
            first = np.where(np.isfinite(drive), first_arcs[best], NO_ARC)
        else:
            drive = np.full(count, np.inf)
            first = np.full(count, NO_ARC, dtype=np.int64)
        row = self._node_row.get(origin)
        if row is not None:
            drive[row], first[row] = 0.0, NO_ARC
        return drive, first

    def arcs_to(self, row: int, first_arc: int) -> list[int]:
        """The arcs of the quickest drive that starts with `first_arc` and ends at target `row`."""
        if first_arc == NO_ARC:
            return []
        target, head, time, travel, after = (
            self.targets[row],
            self._heads,
            self._time[row],
            self._travels,
            self._next,
        )
        arcs = [first_arc]
        arc = first_arc
        for _ in range(len(head)):  # a bound: a quickest drive takes each arc at most once
            if head[arc] == target:
                return arcs
            arc = min(after[arc], key=lambda b: time[b] + travel[b])
            arcs.append(arc)
        raise AssertionError("the drive table does not lead to its target")  # pragma: no cover


def _turns(arcs: ArcGraph) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The turn graph as CSR: the arcs a car may take after each arc, and where each arc's list starts."""
    n = len(arcs.head)
    out_degree = np.diff(arcs.first_out)
    counts = out_degree[arcs.head]
    tail = np.repeat(np.arange(n, dtype=np.int64), counts)
    offsets = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    nxt = arcs.first_out[arcs.head[tail]] + offsets
    dead_end = arcs.u_turn[arcs.head[tail]]
    keep = (nxt != arcs.reverse[tail]) | dead_end
    if arcs.banned:
        pairs = np.fromiter((a * n + b for a, b in arcs.banned), np.int64, len(arcs.banned))
        keep &= ~np.isin(tail * n + nxt, pairs)
    if arcs.only:
        only = np.full(n, NO_ARC, dtype=np.int64)
        only[np.fromiter(arcs.only.keys(), np.int64)] = np.fromiter(arcs.only.values(), np.int64)
        keep &= (only[tail] == NO_ARC) | (only[tail] == nxt)
    tail, nxt = tail[keep], nxt[keep]
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=start[1:])
    return start, nxt
