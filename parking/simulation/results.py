"""What `parking-guide evaluate` measures of a run, and the tables it prints."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from parking.simulation.bound import Bound
from parking.simulation.scenario import LotState, Visitor

# bands of the P(full) predicted when a driver was sent: [low, high), the last one closed
FULL_BANDS = ((0.0, 0.02), (0.02, 0.10), (0.10, 0.25), (0.25, 0.50), (0.50, 1.0))


@dataclass(frozen=True, slots=True)
class Calibration:
    """The drivers sent with a predicted P(full) in [low, high), and how often the lot was full on arrival."""

    low: float
    high: float
    sent: int
    mean_predicted: float
    full_share: float


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
    calibration: tuple[Calibration, ...] = field(default_factory=tuple)  # strategies that predict P(full)


@dataclass(frozen=True, slots=True)
class Run:
    """One scenario of `evaluate`: its scale and seed, every strategy's result, and the bound (if solved)."""

    scale: float
    seed: int
    results: list[Result]
    bound: Bound | None


def calibration(sends: Sequence[tuple[float, bool]]) -> tuple[Calibration, ...]:
    """Per band of predicted P(full): drivers sent, mean prediction, the share who found the lot full."""
    if not sends:
        return ()
    bands = []
    for low, high in FULL_BANDS:
        inside = [(p, full) for p, full in sends if low <= p < high or (high == 1.0 and p == 1.0)]
        n = len(inside)
        bands.append(
            Calibration(
                low,
                high,
                n,
                statistics.fmean(p for p, _ in inside) if n else math.nan,
                sum(full for _, full in inside) / n if n else math.nan,
            )
        )
    return tuple(bands)


def summarize(
    strategy: str,
    visitors: list[Visitor],
    lots: dict[str, LotState],
    peak_area: float,
    peak_visitor_area: float,
    sends: Sequence[tuple[float, bool]] = (),
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
        calibration=calibration(sends),
    )


def tables(runs: list[Run]) -> str:
    """One text table per run, the strategies and the bound side by side, then ours' calibration."""
    out: list[str] = []
    for run in runs:
        results = run.results
        out.append(
            f"visitor demand x{run.scale:g} (seed {run.seed}), {results[0].visitors} visitors, 07:00-11:00"
        )
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
        out += _bound_lines(run)
        peaks = [
            f"{lot} " + "/".join(f"{r.peak_by_lot[lot]:.0%}" for r in results)
            for lot in results[0].peak_by_lot
        ]
        out.append("  peak occupancy by lot (nearest/drive/ours): " + "; ".join(peaks))
        out += _calibration_lines(results)
    return "\n".join(out)


def _bound_lines(run: Run) -> list[str]:
    bound = run.bound
    if bound is None:
        return [f"  {'bound':<9} not solved (more visitors than the LP is run for)"]
    line = (
        f"  {'bound':<9} {bound.mean_min:8.1f} {bound.p90_min:8.1f}   (LP; p90 of the fractional assignment"
    )
    line += f", unparked {bound.unparked:.1f}, split {bound.fractional})"
    ratios = [
        f"{r.strategy}/bound {r.mean_min / bound.mean_min:.2f}" for r in run.results if bound.mean_min > 0
    ]
    return [line, "  " + ", ".join(ratios)]


def _calibration_lines(results: list[Result]) -> list[str]:
    out: list[str] = []
    for r in results:
        if not r.calibration:
            continue
        out.append(f"  P(full) when sent ({r.strategy}): band, drivers sent, mean predicted, full on arrival")
        out += [
            f"    {c.low:>4.0%}-{c.high:<4.0%} {c.sent:6d} {c.mean_predicted:8.1%} {c.full_share:8.1%}"
            for c in r.calibration
        ]
    return out


def as_json(runs: list[Run]) -> str:
    """Every run's figures, the bound's and the calibration's included, as one JSON document."""
    document = []
    for run in runs:
        bound = run.bound
        document.append(
            {
                "scale": run.scale,
                "seed": run.seed,
                "visitors": run.results[0].visitors if run.results else 0,
                "strategies": [_nan_free(asdict(r)) for r in run.results],
                "bound": None
                if bound is None
                else {
                    "mean_min": bound.mean_min,
                    "p90_min": bound.p90_min,
                    "p90_of": "fractional assignment",
                    "unparked": bound.unparked,
                    "fractional": bound.fractional,
                    "ratio_to_bound": {
                        r.strategy: r.mean_min / bound.mean_min for r in run.results if bound.mean_min > 0
                    },
                },
            }
        )
    return json.dumps(document, indent=2)


def _nan_free(value: object) -> object:
    """NaN (an empty band) as null: JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_free(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nan_free(v) for v in value]
    return value
