"""The forecast's pure model: the weekday profile recovers a weekly pattern, the trend fills in."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from parking.availability.forecast import (
    MIN_WEEKS,
    Sample,
    WeekdayProfile,
    count_at,
    expected_free_on_arrival,
    forecast,
    full_at,
    past_instants,
    profile_of,
)

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 23, 7, 10, tzinfo=UTC)  # a Monday, 08:10 in Berlin
CAPACITY = 300
STEP = timedelta(minutes=5)


def monday_morning(local: datetime) -> int:
    """The known pattern: on Mondays the lot fills from 08:00 at 3 spaces a minute; other days stay at 250."""
    if local.weekday() != 0:
        return 250
    minutes = (local.hour - 8) * 60 + local.minute
    return max(0, min(CAPACITY, 270 - 3 * max(0, minutes)))


def history(weeks: int, noise: int = 0, seed: int = 1) -> list[Sample]:
    """Five-minute samples of the pattern over the `weeks` weeks before NOW."""
    rng = random.Random(seed)
    out: list[Sample] = []
    at = NOW - timedelta(weeks=weeks, hours=1)
    while at < NOW - timedelta(hours=1):
        free = monday_morning(at.astimezone(TZ)) + rng.randint(-noise, noise)
        out.append((at, max(0, min(CAPACITY, free))))
        at += STEP
    return out


def test_the_profile_recovers_the_weekly_pattern() -> None:
    starts = past_instants(NOW, TZ, 6)
    profile = profile_of(history(6), starts, NOW)
    free_now = monday_morning(NOW.astimezone(TZ))  # 240 at 08:10
    fc = forecast(NOW, free_now, CAPACITY, rate_per_h=0.0, profile=profile)
    assert [(h.method, h.weeks) for h in fc.horizons] == [("weekday-profile", 6)] * 3
    expected = [monday_morning((NOW + timedelta(minutes=m)).astimezone(TZ)) for m in (15, 30, 60)]
    assert [h.free for h in fc.horizons] == expected == [195, 150, 60]
    assert [h.at for h in fc.horizons] == [NOW + timedelta(minutes=m) for m in (15, 30, 60)]


def test_the_profile_adds_the_change_to_the_current_count_and_averages_out_noise() -> None:
    profile = profile_of(history(8, noise=6), past_instants(NOW, TZ, 8), NOW)
    fc = forecast(NOW, 200, CAPACITY, rate_per_h=None, profile=profile)  # a busier Monday than usual
    for h, change in zip(fc.horizons, (-45, -90, -180), strict=True):
        assert h.free is not None
        assert abs(h.free - (200 + change)) <= 6
    slot = profile.slot(60)
    assert slot is not None
    assert abs(slot.mean_free - 60) <= 6  # the plain profile: the usual count at 09:10


def test_short_history_falls_back_to_the_trend() -> None:
    profile = profile_of(history(MIN_WEEKS - 1), past_instants(NOW, TZ, 8), NOW)
    assert all(slot.weeks == MIN_WEEKS - 1 for slot in profile.slots)
    fc = forecast(NOW, 240, CAPACITY, rate_per_h=-60.0, profile=profile)
    assert [(h.free, h.method, h.weeks) for h in fc.horizons] == [
        (225, "trend", 0),
        (210, "trend", 0),
        (180, "trend", 0),
    ]


def test_with_neither_history_nor_trend_the_count_is_held() -> None:
    fc = forecast(NOW, 240, CAPACITY, rate_per_h=None, profile=None)
    assert [(h.free, h.method) for h in fc.horizons] == [(240, "none")] * 3
    unknown = forecast(NOW, None, CAPACITY, rate_per_h=-60.0, profile=None)
    assert [(h.free, h.method) for h in unknown.horizons] == [(None, "none")] * 3
    assert expected_free_on_arrival(unknown, 600) is None


def test_the_forecast_is_clamped_to_the_lot() -> None:
    profile = profile_of(history(4), past_instants(NOW, TZ, 4), NOW)
    assert [h.free for h in forecast(NOW, 20, CAPACITY, None, profile).horizons] == [0, 0, 0]
    rising = WeekdayProfile(NOW, tuple(s._replace(mean_change=500.0) for s in profile.slots))
    assert [h.free for h in forecast(NOW, 20, CAPACITY, None, rising).horizons] == [CAPACITY] * 3
    assert [h.free for h in forecast(NOW, 290, CAPACITY, 400.0, None).horizons] == [CAPACITY] * 3


def test_a_gap_in_a_week_is_no_data_not_an_old_count() -> None:
    samples = [(NOW - timedelta(weeks=1, minutes=30), 100)]
    assert count_at(samples, NOW - timedelta(weeks=1)) is None
    assert count_at(samples, NOW - timedelta(weeks=1, minutes=25)) == 100


def test_the_same_local_time_over_a_change_of_summer_time() -> None:
    now = datetime(2026, 4, 6, 6, 10, tzinfo=UTC)  # Monday 08:10 CEST; a week before was still CET
    starts = past_instants(now, TZ, 2)
    assert [s.astimezone(TZ).strftime("%a %H:%M") for s in starts] == ["Mon 08:10", "Mon 08:10"]
    assert starts[-1] == datetime(2026, 3, 30, 6, 10, tzinfo=UTC)
    assert starts[0] == datetime(2026, 3, 23, 7, 10, tzinfo=UTC)


def test_expected_free_on_arrival_interpolates_the_horizons() -> None:
    fc = forecast(NOW, 240, CAPACITY, rate_per_h=-60.0, profile=None)  # 225, 210, 180
    assert expected_free_on_arrival(fc, 0) == 240
    assert expected_free_on_arrival(fc, 7.5 * 60) == 232.5
    assert expected_free_on_arrival(fc, 45 * 60) == 195
    assert expected_free_on_arrival(fc, 3 * 3600) == 180  # past the last horizon: its count


def test_full_at_interpolates_to_the_first_horizon_at_zero() -> None:
    fc = forecast(NOW, 40, CAPACITY, rate_per_h=-120.0, profile=None)  # 10, 0 (-20), 0 (-80)
    assert [h.free for h in fc.horizons] == [10, 0, 0]
    assert full_at(fc) == NOW + timedelta(minutes=20)  # 2 a minute: the 40 are gone at 20 min
    profile = profile_of(history(4), past_instants(NOW, TZ, 4), NOW)  # 08:10 usually loses 45, 90, 180
    assert full_at(forecast(NOW, 60, CAPACITY, None, profile)) == NOW + timedelta(minutes=15 + 15 * 15 / 45)
    assert full_at(forecast(NOW, 40, CAPACITY, rate_per_h=-20.0, profile=None)) is None
    assert full_at(forecast(NOW, 0, CAPACITY, rate_per_h=-20.0, profile=None)) is None  # full already


def test_the_bench_meets_its_target_on_generated_weeks() -> None:
    """Issue #21: the forecast's 60-minute error at most 0.6x that of holding the count."""
    from bench.forecast import evaluate_simulated

    errors = evaluate_simulated(seed=5, weeks=6)
    assert errors.mae("forecast", 60) <= 0.6 * errors.mae("hold", 60)
    assert errors.mae("forecast", 60) < errors.mae("profile", 60)
