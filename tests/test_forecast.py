"""Trends, forecasts, verdicts and proposed targets against hand computations."""

from __future__ import annotations

import pytest

from workflows.forecast import fit, forecast, progress, propose_target, t_quantile, verdict

RISING = [(2021, 10.0), (2022, 12.0), (2023, 15.0), (2024, 17.0)]
# x̄ = 2022.5, ȳ = 13.5; dx = -1.5 -0.5 0.5 1.5, dy = -3.5 -1.5 1.5 3.5
# Sxy = 5.25 + 0.75 + 0.75 + 5.25 = 12, Sxx = 2.25 + 0.25 + 0.25 + 2.25 = 5: slope 2.4
# fitted 9.9 12.3 14.7 17.1, residuals 0.1 -0.3 0.3 -0.1: SSE 0.2, s = √(0.2/2) = 0.316228
# 2030: 13.5 + 2.4 · 7.5 = 31.5; se = s · √(1 + 1/4 + 7.5²/5) = s · √12.5 = 1.118034
# t(0.95, 2) = 2.919986: half width 3.264642


@pytest.mark.parametrize(("p", "df", "t"), [(0.95, 1, 6.314), (0.95, 2, 2.920), (0.95, 5, 2.015),
                                            (0.95, 30, 1.697), (0.975, 10, 2.228), (0.05, 5, -2.015)])
def test_the_t_quantile_matches_the_tables(p: float, df: int, t: float) -> None:
    assert round(t_quantile(p, df), 3) == t


def test_a_rising_series() -> None:
    trend = fit(RISING)
    assert trend is not None
    assert trend.slope == pytest.approx(2.4) and trend.at(2030) == pytest.approx(31.5)
    assert trend.r2 == pytest.approx(1 - 0.2 / 29)
    ahead = forecast(RISING, 2030)
    assert ahead.method == "least_squares" and ahead.value == pytest.approx(31.5)
    assert ahead.low == pytest.approx(31.5 - 3.264642, abs=1e-5) and ahead.high == pytest.approx(34.764642, abs=1e-5)
    assert ahead.figures() == {"method": "least_squares", "target_year": 2030, "value": 31.5, "low": 28.2354,
                               "high": 34.7646, "n": 4, "years": [2021, 2022, 2023, 2024], "slope": 2.4,
                               "r2": 0.993, "confidence": 0.9}
    assert verdict(RISING, baseline_value=10, target_value=30, direction="up", target_year=2030).verdict == "on_course"
    off = verdict(RISING, baseline_value=10, target_value=40, direction="up", target_year=2030)
    assert off.verdict == "off_course" and off.progress == pytest.approx(0.2333)  # (17 - 10) / (40 - 10)


def test_a_falling_series_where_lower_is_better_and_a_perfect_line() -> None:
    falling = [(2021, 100.0), (2022, 90.0), (2023, 80.0)]
    ahead = forecast(falling, 2025)
    assert ahead.value == pytest.approx(60.0) and ahead.low == pytest.approx(60.0) and ahead.high == pytest.approx(60)
    assert verdict(falling, baseline_value=100, target_value=65, direction="down",
                   target_year=2025).verdict == "on_course"
    assert verdict(falling, baseline_value=100, target_value=55, direction="down",
                   target_year=2025).verdict == "off_course"
    assert propose_target(falling, next_target_year=2030, direction="down").figures() == {
        "method": "trend", "baseline_value": 80.0, "baseline_year": 2023, "value": 10.0, "target_year": 2030,
        "slope": -10.0, "n": 3}  # 80 - 10 · 7


def test_a_flat_series_one_value_none_and_two_points() -> None:
    flat = [(2021, 5.0), (2022, 5.0), (2023, 5.0)]
    trend = fit(flat)
    assert trend is not None and trend.slope == 0 and trend.r2 is None
    assert forecast(flat, 2030).value == 5.0
    assert propose_target(flat, next_target_year=2035, direction="up").method == "maintain"
    one = forecast([(2024, 7.0)], 2030)
    assert (one.method, one.value, one.low) == ("last_value", 7.0, None)
    nothing = verdict([], baseline_value=1, target_value=2, direction="up", target_year=2030)
    assert (nothing.verdict, nothing.forecast.method, nothing.progress) == ("no_data", "none", None)
    assert propose_target([], next_target_year=2035, direction="up").method == "none"
    two = forecast([(2022, 1.0), (2024, 2.0)], 2030)  # slope 0.5 a year: 2 + 0.5 · 6
    assert (two.method, two.value, two.low) == ("two_points", 5.0, None)


def test_an_already_met_target_and_a_missing_year() -> None:
    met = [(2021, 50.0), (2023, 58.0), (2024, 61.0)]  # 2022 not measured
    assert verdict(met, baseline_value=40, target_value=60, direction="up", target_year=2030).verdict == "achieved"
    trend = fit(met)
    # x̄ = 2022.667, ȳ = 56.333; dx = -1.667 0.333 1.333; Sxx = 2.778 + 0.111 + 1.778 = 4.667
    # Sxy = -1.667 · -6.333 + 0.333 · 1.667 + 1.333 · 4.667 = 10.556 + 0.556 + 6.222 = 17.333: slope 3.714
    assert trend is not None and trend.slope == pytest.approx(17.3333 / 4.6667, rel=1e-4)
    assert verdict(met, baseline_value=40, target_value=None, direction="up", target_year=2030).verdict == "no_target"


def test_a_noisy_series_straddling_the_target_and_the_proposal_never_worse_than_the_baseline() -> None:
    noisy = [(2021, 10.0), (2022, 30.0), (2023, 12.0), (2024, 28.0)]
    ahead = forecast(noisy, 2030)
    assert ahead.low is not None and ahead.high is not None and ahead.low < 35 < ahead.high
    assert ahead.low <= (ahead.value or 0) <= ahead.high
    worse = [(2021, 30.0), (2022, 25.0), (2023, 20.0)]  # falling, but higher is better
    proposal = propose_target(worse, next_target_year=2030, direction="up")
    assert (proposal.method, proposal.value) == ("maintain", 20.0)
    assert propose_target(RISING, next_target_year=2034, direction="up").value == 41.0  # 17 + 2.4 · 10
    assert propose_target([(2022, 1.25), (2023, 1.5)], next_target_year=2025, direction="up").value == 2.0
    assert progress(17, 10, 10) is None
