"""`python -m bench.forecast`: how far off the forecast is, beside holding the count and the plain profile.

Generates ten weeks of five-minute history for three lots (hospital, office, mall) from the
simulator's demand curves, with a level for each day, noise, and one changed week (a holiday
week at 70% demand, in the history the last two weeks are forecast from); then, every five
minutes from 06:00 to 22:00 of those two weeks, forecasts 30 and 60 minutes ahead and
compares with what happened. Then the same on the one real day in tests/data (ten German
hospital-area lots, 2020-06-15): one day has no history, so there only the trend fallback
can be measured against holding the count.

    python -m bench.forecast [--seed N] [--weeks N]
"""

from __future__ import annotations

import argparse
import csv
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from parking.availability.forecast import (
    MIN_WEEKS,
    Sample,
    count_at,
    forecast,
    past_instants,
    profile_of,
)
from parking.simulation.demand import demand

TZ = ZoneInfo("Europe/Berlin")
START = datetime(2026, 9, 7, tzinfo=TZ)  # a Monday; no change of summer time in ten weeks
STEP = timedelta(minutes=5)
LOTS = {"hospital": 300, "office": 420, "mall": 800}
HOLIDAY_WEEK = 6  # of ten (0-based): in the history of both weeks forecast
HOLIDAY_DEMAND = 0.7
EVAL_WEEKS = 2
HORIZONS = (30, 60)
REAL_DAY = Path(__file__).resolve().parent.parent / "tests" / "data" / "real-free-2020-06-15.csv"
TREND_SPAN = timedelta(minutes=15)


def simulate(kind: str, capacity: int, weeks: int, holiday: int, rng: random.Random) -> list[Sample]:
    """Five-minute free counts of one lot: demand x a day's level x the week's, plus AR(1) noise."""
    out: list[Sample] = []
    noise = 0.0
    for day in range(weeks * 7):
        level = rng.gauss(1.0, 0.08) * (HOLIDAY_DEMAND if day // 7 == holiday else 1.0)
        shift_h = rng.gauss(0.0, 0.25)  # the morning comes a little early or late
        local = START + timedelta(days=day)
        for i in range(288):
            at = local + i * STEP
            noise = 0.8 * noise + rng.gauss(0.0, 0.012 * capacity)
            wanted = demand(kind, at - timedelta(hours=shift_h)) * level * capacity + noise
            occupied = max(0, min(capacity, round(wanted)))
            out.append((at.astimezone(UTC), capacity - occupied))
    return out


@dataclass
class Errors:
    """Absolute errors per predictor and horizon."""

    by: dict[tuple[str, int], list[float]] = field(default_factory=lambda: defaultdict(list))
    methods: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lots: int = 0

    def add(self, name: str, minutes: int, predicted: float, actual: int) -> None:
        """One prediction and what happened."""
        self.by[(name, minutes)].append(abs(predicted - actual))

    def mae(self, name: str, minutes: int) -> float:
        """The mean absolute error of one predictor at one horizon."""
        values = self.by[(name, minutes)]
        return sum(values) / len(values) if values else float("nan")


def rate_per_h(samples: Sequence[Sample], now: datetime) -> float | None:
    """The 15-minute trend, as the live site measures it: change of free per hour."""
    then, current = count_at(samples, now - TREND_SPAN), count_at(samples, now)
    if then is None or current is None:
        return None
    return (current - then) * 3600 / TREND_SPAN.total_seconds()


def evaluate_simulated(seed: int, weeks: int, holiday: int = HOLIDAY_WEEK) -> Errors:
    """Forecast, hold, plain profile and trend on the last EVAL_WEEKS of the generated weeks."""
    rng = random.Random(seed)
    errors = Errors()
    for kind, capacity in LOTS.items():
        samples = simulate(kind, capacity, weeks, holiday, rng)
        first = START + timedelta(weeks=weeks - EVAL_WEEKS)
        for day in range(EVAL_WEEKS * 7):
            for i in range(6 * 12, 22 * 12):
                now = (first + timedelta(days=day) + i * STEP).astimezone(UTC)
                _one(errors, samples, now, capacity, weeks - EVAL_WEEKS)
    return errors


def _one(errors: Errors, samples: Sequence[Sample], now: datetime, capacity: int, weeks: int) -> None:
    free = count_at(samples, now)
    assert free is not None
    starts = past_instants(now, TZ, min(weeks, 8))
    profile = profile_of(samples, starts, now)
    rate = rate_per_h(samples, now)
    fc = forecast(now, free, capacity, rate, profile)
    trend = forecast(now, free, capacity, rate, None)
    for minutes in HORIZONS:
        actual = count_at(samples, now + timedelta(minutes=minutes))
        assert actual is not None
        horizon = next(h for h in fc.horizons if h.minutes == minutes)
        errors.methods[horizon.method] += 1
        assert horizon.free is not None
        errors.add("forecast", minutes, horizon.free, actual)
        errors.add("hold", minutes, free, actual)
        slot = profile.slot(minutes)
        plain = slot.mean_free if slot is not None and slot.weeks >= MIN_WEEKS else free
        errors.add("profile", minutes, plain, actual)
        by_trend = next(h for h in trend.horizons if h.minutes == minutes).free
        assert by_trend is not None
        errors.add("trend", minutes, by_trend, actual)


def evaluate_real_day() -> Errors:
    """The forecast (here the trend fallback: one day, no history) and hold on the real day."""
    series: dict[str, list[Sample]] = defaultdict(list)
    capacity: dict[str, int] = {}
    with REAL_DAY.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            lot = row["place_id"]
            series[lot].append((datetime.fromisoformat(row["timestamp"]), int(row["free"])))
            if row["capacity"]:
                capacity[lot] = int(row["capacity"])
    errors = Errors(lots=len(series))
    for lot, samples in series.items():
        samples.sort()
        cap = capacity.get(lot, max(free for _, free in samples))
        day = samples[0][0].replace(hour=0, minute=0, second=0)
        for i in range(0, 288):
            now = day + i * STEP
            if now < samples[0][0] + TREND_SPAN or now + timedelta(minutes=60) > samples[-1][0]:
                continue
            _real(errors, samples, now, cap)
    return errors


def _real(errors: Errors, samples: Sequence[Sample], now: datetime, capacity: int) -> None:
    free = _carried(samples, now)
    then = _carried(samples, now - TREND_SPAN)
    rate = (free - then) * 3600 / TREND_SPAN.total_seconds()
    fc = forecast(now, free, capacity, rate, None)
    for h in fc.horizons:
        if h.minutes in HORIZONS and h.free is not None:
            actual = _carried(samples, h.at)
            errors.methods[h.method] += 1
            errors.add("forecast", h.minutes, h.free, actual)
            errors.add("hold", h.minutes, free, actual)


def _carried(samples: Sequence[Sample], at: datetime) -> int:
    """The last count at or before `at`, carried forward however old (the file leaves repeats out)."""
    last = samples[0][1]
    for when, free in samples:
        if when > at:
            break
        last = free
    return last


def report(title: str, errors: Errors, names: Sequence[str], note: Callable[[], str]) -> None:
    """One table: MAE in spaces per predictor at 30 and 60 minutes, and the 60-minute ratio to hold."""
    print(title)
    print(f"  {'predictor':<10} {'MAE 30 min':>11} {'MAE 60 min':>11} {'60 min / hold':>14}")
    hold60 = errors.mae("hold", 60)
    for name in names:
        m30, m60 = errors.mae(name, 30), errors.mae(name, 60)
        print(f"  {name:<10} {m30:>11.1f} {m60:>11.1f} {m60 / hold60:>14.2f}")
    print(f"  {note()}")


def main() -> None:
    """Run both evaluations and print their tables."""
    parser = argparse.ArgumentParser(prog="python -m bench.forecast", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--weeks", type=int, default=10, help="weeks generated; the last 2 are forecast")
    args = parser.parse_args()
    simulated = evaluate_simulated(args.seed, args.weeks)
    report(
        f"Generated: {', '.join(LOTS)}; {args.weeks} weeks, week {HOLIDAY_WEEK + 1} at "
        f"{HOLIDAY_DEMAND:.0%}; every 5 min 06:00-22:00 of the last {EVAL_WEEKS} weeks (spaces)",
        simulated,
        ("forecast", "hold", "profile", "trend"),
        lambda: f"methods used: {dict(simulated.methods)}",
    )
    changed = evaluate_simulated(args.seed, args.weeks, holiday=args.weeks - 1)
    report(
        f"Generated, but the changed week is the last of the {EVAL_WEEKS} forecast (from usual weeks)",
        changed,
        ("forecast", "hold", "profile", "trend"),
        lambda: "the profile's level is that of a usual week; the forecast starts from the count",
    )
    real = evaluate_real_day()
    report(
        f"Real day 2020-06-15 ({real.lots} lots, one day: no history, so the forecast is the trend fallback)",
        real,
        ("forecast", "hold"),
        lambda: f"methods used: {dict(real.methods)}",
    )


if __name__ == "__main__":
    main()
