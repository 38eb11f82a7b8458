"""What `parking-guide evaluate` measures of a run, and the tables it prints."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from parking.simulation.scenario import LotState, Visitor


@dataclass(frozen=True, slots=True)
class Result:
    """What one strategy achieved on one scenario."""

    strategy: str
    visitors: int
    parked: int
    mean_min: float
    p90_min: float
    full_share: float  # met a full lot they were sent to as having space
    peak_area: float  # parked / capacity over every lot, at its highest (sampled every FEED_S)
    peak_by_lot: dict[str, float]
    peak_visitor_area: float = 0.0  # the same over the lots taking visitors at the time (in their window)
    queued_share: float = 0.0  # told to queue at a lot expected full, and waited there (ours only)
    # appeared when no lot taking visitors had a space (true counts, a gate queue counts as full):
    # the visitors no guidance could send to a free space at that moment
    none_free_share: float = 0.0


def summarize(
    strategy: str,
    visitors: list[Visitor],
    lots: dict[str, LotState],
    peak_area: float,
    peak_visitor_area: float,
) -> Result:
    """The run's figures, from every visitor's time to the door (censored ones at the end) and the peaks."""
    done = [(v.door_s - v.appear_s) / 60.0 for v in visitors if v.door_s is not None and not v.censored]
    unparked = sum(v.censored for v in visitors)
    done += [(v.door_s - v.appear_s) / 60.0 for v in visitors if v.door_s is not None and v.censored]
    ordered = sorted(done)
    return Result(
        strategy=strategy,
        visitors=len(visitors),
        parked=len(done) - unparked,
        mean_min=statistics.fmean(done) if done else math.nan,
        p90_min=ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))] if ordered else math.nan,
        full_share=sum(v.met_full for v in visitors) / len(visitors) if visitors else 0.0,
        queued_share=sum(v.queued for v in visitors) / len(visitors) if visitors else 0.0,
        none_free_share=sum(v.none_free for v in visitors) / len(visitors) if visitors else 0.0,
        peak_area=peak_area,
        peak_by_lot={lot_id: lot.peak / lot.capacity for lot_id, lot in lots.items() if lot.capacity},
        peak_visitor_area=peak_visitor_area,
    )


def tables(runs: list[tuple[float, int, list[Result]]]) -> str:
    """One text table per (scale, seed, results) run, the strategies side by side."""
    out: list[str] = []
    for scale, seed, results in runs:
        out.append(f"visitor demand x{scale:g} (seed {seed}), {results[0].visitors} visitors, 07:00-11:00")
        out.append(
            f"  {'strategy':<9} {'mean min':>8} {'p90 min':>8} {'met full':>8} {'queued':>7} {'peak area':>9}"
            f" {'visitor lots':>12} {'none free':>9}"
        )
        for r in results:
            out.append(
                f"  {r.strategy:<9} {r.mean_min:8.1f} {r.p90_min:8.1f} {r.full_share:8.1%}"
                f" {r.queued_share:7.1%} {r.peak_area:9.0%} {r.peak_visitor_area:12.0%}"
                f" {r.none_free_share:9.1%}"
            )
        peaks = [
            f"{lot} " + "/".join(f"{r.peak_by_lot[lot]:.0%}" for r in results)
            for lot in results[0].peak_by_lot
        ]
        out.append("  peak occupancy by lot (nearest/drive/ours): " + "; ".join(peaks))
    return "\n".join(out)
