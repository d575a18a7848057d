"""The target-year review's arithmetic (workflows/forecast.py) against hand computations: the
expected numbers are literals worked out by hand, the arithmetic in the comment beside them."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.forecast import (
    count_decimals,
    fit,
    forecast,
    progress,
    propose_target,
    round_decimals,
    round_significant,
    t_cdf,
    t_quantile,
    verdict,
)

RISING = [(2021, 10.0), (2022, 12.0), (2023, 15.0), (2024, 17.0)]
# x̄ = 2022.5, ȳ = 13.5; dx = -1.5 -0.5 0.5 1.5, dy = -3.5 -1.5 1.5 3.5
# Sxx = 2.25 + 0.25 + 0.25 + 2.25 = 5, Sxy = 5.25 + 0.75 + 0.75 + 5.25 = 12: slope 12 / 5 = 2.4
# intercept = 13.5 - 2.4 · 2022.5 = 13.5 - 4854 = -4840.5
# fitted 9.9 12.3 14.7 17.1, residuals 0.1 -0.3 0.3 -0.1: SSE = 0.01 + 0.09 + 0.09 + 0.01 = 0.2
# Syy = 12.25 + 2.25 + 2.25 + 12.25 = 29: r² = 1 - 0.2 / 29 = 0.993103
# s = √(0.2 / 2) = √0.1 = 0.316228; slope se = √(0.1 / 5) = √0.02 = 0.141421
# 2030: 13.5 + 2.4 · 7.5 = 31.5; se = √(0.1 · (1 + 1/4 + 7.5² / 5)) = √(0.1 · 12.5) = √1.25 = 1.118034
# t(0.95, 2) = 2.919986: half width 2.919986 · 1.118034 = 3.264643: 28.2354 .. 34.7646

FALLING = [(2021, 50.0), (2022, 46.0), (2023, 41.0), (2024, 39.0)]
# x̄ = 2022.5, ȳ = 176 / 4 = 44; dy = 6 2 -3 -5
# Sxy = -1.5 · 6 - 0.5 · 2 + 0.5 · -3 + 1.5 · -5 = -9 - 1 - 1.5 - 7.5 = -19: slope -19 / 5 = -3.8
# fitted 49.7 45.9 42.1 38.3, residuals 0.3 0.1 -1.1 0.7: SSE = 0.09 + 0.01 + 1.21 + 0.49 = 1.8, s² = 0.9
# Syy = 36 + 4 + 9 + 25 = 74: r² = 1 - 1.8 / 74 = 0.975676
# 2030: 44 - 3.8 · 7.5 = 44 - 28.5 = 15.5; se = √(0.9 · 12.5) = √11.25 = 3.354102
# half width 2.919986 · 3.354102 = 9.793934: 5.70607 .. 25.2939

NOISY = [(2021, 10.0), (2022, 14.0), (2023, 9.0), (2024, 15.0), (2025, 12.0)]
# x̄ = 2023, ȳ = 60 / 5 = 12; dx = -2 -1 0 1 2, dy = -2 2 -3 3 0
# Sxx = 10, Sxy = 4 - 2 + 0 + 3 + 0 = 5: slope 0.5; 2030: 12 + 0.5 · 7 = 15.5
# fitted 11 11.5 12 12.5 13, residuals -1 2.5 -3 2.5 -1: SSE = 1 + 6.25 + 9 + 6.25 + 1 = 23.5
# Syy = 4 + 4 + 9 + 9 + 0 = 26: r² = 1 - 23.5 / 26 = 2.5 / 26 = 0.0961538
# s² = 23.5 / 3 = 7.833333; se = √(7.833333 · (1 + 1/5 + 49/10)) = √(7.833333 · 6.1) = √47.783333 = 6.912549
# t(0.95, 3) = 2.353363: half width 16.267747: -0.767747 .. 31.767747

GAPPY = [(2020, 3.0), (2021, 4.0), (2024, 8.0)]  # 2022 and 2023 not measured
# x̄ = 6065 / 3 = 2021.667, ȳ = 5; dx = -5/3 -2/3 7/3, dy = -2 -1 3
# Sxx = (25 + 4 + 49) / 9 = 26/3, Sxy = (10 + 2 + 21) / 3 = 11: slope 11 / (26/3) = 33/26 = 1.269231
# 2030: 5 + 33/26 · (2030 - 6065/3) = 5 + 33/26 · 25/3 = 5 + 275/26 = 405/26 = 15.576923
# fitted 75/26 108/26 207/26, residuals 3/26 -4/26 1/26: SSE = 26/676 = 1/26, Syy = 14: r² = 1 - 1/364 = 0.997253


# -- Student's t ---------------------------------------------------------------------------


@pytest.mark.parametrize(("p", "df", "table"), [
    (0.95, 1, 6.314), (0.95, 2, 2.920), (0.95, 3, 2.353), (0.95, 5, 2.015), (0.95, 30, 1.697),
    (0.975, 3, 3.182), (0.975, 10, 2.228), (0.995, 5, 4.032), (0.9995, 1, 636.619), (0.05, 5, -2.015),
])
def test_the_t_quantile_matches_the_printed_tables(p: float, df: int, table: float) -> None:
    assert round(t_quantile(p, df), 3) == table


@pytest.mark.parametrize("p", [0.55, 0.75, 0.9, 0.95, 0.975, 0.995, 0.9999])
def test_the_t_quantile_matches_the_closed_forms_for_one_and_two_degrees_of_freedom(p: float) -> None:
    assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-10)  # the Cauchy distribution
    assert t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-10)


def test_the_t_quantile_is_symmetric_inverts_the_distribution_and_tends_to_the_normal() -> None:
    assert t_quantile(0.5, 7) == 0.0
    assert t_quantile(0.1, 4) == -t_quantile(0.9, 4)
    for df in (1, 3, 12, 250):
        for p in (0.6, 0.95, 0.999):
            assert t_cdf(t_quantile(p, df), df) == pytest.approx(p, abs=1e-12)
    # large df: z + (z³ + z) / (4 df), z = 1.644854: 1.644854 + (4.450300 + 1.644854) / 400000 = 1.644869
    assert t_quantile(0.95, 100_000) == pytest.approx(1.644869, abs=2e-6)
    with pytest.raises(ValueError):
        t_quantile(1.0, 5)
    with pytest.raises(ValueError):
        t_quantile(0.9, 0)


# -- the line ------------------------------------------------------------------------------


def test_a_rising_series_fits_the_hand_computed_line() -> None:
    trend = fit(RISING)
    assert trend is not None
    assert (trend.n, trend.years, trend.mean_year, trend.mean_value, trend.sxx) == (4, (2021, 2022, 2023, 2024),
                                                                                   2022.5, 13.5, 5.0)
    assert trend.slope == pytest.approx(2.4) and trend.intercept == pytest.approx(-4840.5)
    assert trend.value_at(2030) == pytest.approx(31.5)
    assert trend.r_squared == pytest.approx(28.8 / 29)  # 1 - 0.2 / 29
    assert trend.residual_se == pytest.approx(math.sqrt(0.1)) and trend.slope_se == pytest.approx(math.sqrt(0.02))


def test_no_point_and_one_point_give_no_line_and_two_points_a_line_without_scatter() -> None:
    assert fit([]) is None and fit([(2024, 7.0)]) is None
    two = fit([(2022, 10.0), (2024, 14.0)])  # slope (14 - 10) / 2 = 2
    assert two is not None and two.slope == 2.0 and two.value_at(2030) == 26.0  # 14 + 2 · 6
    assert (two.r_squared, two.residual_se, two.slope_se) == (1.0, None, None)


def test_a_flat_series_has_no_r_squared_nothing_to_explain() -> None:
    trend = fit([(2021, 5.0), (2022, 5.0), (2023, 5.0)])
    assert trend is not None
    assert (trend.slope, trend.r_squared, trend.residual_se, trend.slope_se) == (0.0, None, 0.0, 0.0)


def test_missing_years_weigh_by_their_distance_and_none_values_are_skipped() -> None:
    trend = fit(GAPPY)
    assert trend is not None
    assert trend.slope == pytest.approx(33 / 26) and trend.value_at(2030) == pytest.approx(405 / 26)
    assert trend.r_squared == pytest.approx(363 / 364)
    assert trend.slope != pytest.approx(2.5)  # what treating 3, 4, 8 as consecutive years would give
    with_gaps = [(2024, 8.0), (2022, None), (2020, 3.0), (2023, None), (2021, 4.0)]  # any order, None = not measured
    assert fit(with_gaps) == trend


@pytest.mark.parametrize("points", [[(2021, 1.0), (2021, 2.0)], [(2021, math.nan)], [(2021, math.inf)],
                                    [(2021.5, 1.0)], [(2021, "3")]])
def test_a_malformed_series_is_refused(points: list) -> None:
    with pytest.raises(ValueError):
        fit(points)


# -- the forecast --------------------------------------------------------------------------


def test_a_rising_series_forecasts_with_a_prediction_interval() -> None:
    ahead = forecast(RISING, 2030)
    assert (ahead.method, ahead.n, ahead.years, ahead.confidence) == ("least_squares", 4, (2021, 2022, 2023, 2024), 0.9)
    assert ahead.value == pytest.approx(31.5) and ahead.slope == pytest.approx(2.4)
    assert ahead.t_value == pytest.approx(2.919986, abs=1e-6) and ahead.prediction_se == pytest.approx(1.118034)
    assert ahead.low == pytest.approx(28.235357, abs=1e-5) and ahead.high == pytest.approx(34.764643, abs=1e-5)
    assert ahead.figures() == {
        "method": "least_squares", "target_year": 2030, "n": 4, "years": [2021, 2022, 2023, 2024],
        "value": 31.5, "low": 28.2354, "high": 34.7646, "confidence": 0.9, "slope": 2.4, "intercept": -4840.5,
        "r_squared": 0.993103, "residual_se": 0.316228, "slope_se": 0.141421, "t_value": 2.91999,
        "prediction_se": 1.11803,
    }
    json.dumps(ahead.figures())


def test_the_interval_widens_away_from_the_measured_years_and_with_the_confidence() -> None:
    near, far = forecast(RISING, 2025), forecast(RISING, 2030)
    assert near.high is not None and near.low is not None and far.high is not None and far.low is not None
    assert near.high - near.low < far.high - far.low
    wide = forecast(RISING, 2030, confidence=0.95)  # t(0.975, 2) = 4.302653: half width 4.810251
    assert wide.high == pytest.approx(31.5 + 4.302653 * math.sqrt(1.25), abs=1e-5)
    with pytest.raises(ValueError):
        forecast(RISING, 2030, confidence=1.0)


def test_two_points_one_point_and_none_say_how_little_they_know() -> None:
    two = forecast([(2022, 10.0), (2024, 14.0)], 2030)  # 14 + 2 · 6 = 26
    assert (two.method, two.value, two.low, two.high, two.slope, two.n) == ("two_points", 26.0, None, None, 2.0, 2)
    one = forecast([(2024, 7.0)], 2030)
    assert (one.method, one.value, one.low, one.high, one.slope, one.years) == ("last_value", 7.0, None, None, None,
                                                                               (2024,))
    nothing = forecast([], 2030)
    assert (nothing.method, nothing.value, nothing.n, nothing.years) == ("none", None, 0, ())
    assert nothing.figures()["value"] is None and nothing.figures()["r_squared"] is None
    assert forecast([(2021, 10.0), (2022, None), (2023, 14.0)], 2025).method == "two_points"  # None is no value


def test_a_perfectly_linear_series_is_forecast_on_the_line_with_no_width() -> None:
    line = [(2020, 4.0), (2021, 6.5), (2022, 9.0), (2023, 11.5)]  # 4 + 2.5 · (year - 2020)
    ahead = forecast(line, 2030)
    assert ahead.value == ahead.low == ahead.high == 29.0  # 4 + 2.5 · 10
    trend = fit(line)
    assert trend is not None and trend.r_squared == 1.0 and trend.residual_se == 0.0
    flat = forecast([(2021, 0.1), (2022, 0.1), (2023, 0.1)], 2030)
    assert flat.value == flat.low == flat.high == 0.1


def test_figures_have_no_float_noise() -> None:
    assert round_significant(0.1 + 0.2) == 0.3
    assert round_significant(2 / 3) == 0.666667
    assert round_significant(1234567.8) == 1234570.0
    assert math.copysign(1, round_significant(-0.0) or 1.0) == 1 and round_significant(None) is None
    tenths = forecast([(2021, 0.1), (2022, 0.2), (2023, 0.3)], 2024)  # 0.1 a year: 0.4
    assert tenths.figures()["value"] == 0.4 and tenths.figures()["slope"] == 0.1


@given(st.lists(st.integers(2000, 2040), min_size=3, max_size=12, unique=True),
       st.floats(-1e4, 1e4), st.floats(-500, 500), st.integers(2041, 2060))
def test_any_perfectly_linear_series_is_forecast_on_its_line(years: list[int], base: float, slope: float,
                                                             target: int) -> None:
    points = [(y, base + slope * (y - 2000)) for y in years]
    ahead = forecast(points, target)
    exact = base + slope * (target - 2000)
    scale = abs(base) + abs(slope) * 60
    assert ahead.value == pytest.approx(exact, abs=1e-9 * scale + 1e-12)
    assert ahead.low == ahead.value == ahead.high


@given(st.lists(st.tuples(st.integers(2000, 2040), st.floats(-1e5, 1e5)), min_size=1, max_size=15,
                unique_by=lambda p: p[0]), st.integers(2000, 2060), st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99]))
def test_the_forecast_lies_within_its_interval(points: list[tuple[int, float]], target: int, confidence: float) -> None:
    ahead = forecast(points, target, confidence=confidence)
    assert ahead.value is not None and ahead.n == len(points)
    if ahead.method == "least_squares":
        assert ahead.low is not None and ahead.high is not None
        assert ahead.low <= ahead.value <= ahead.high
    else:
        assert ahead.low is None and ahead.high is None


# -- the verdict ---------------------------------------------------------------------------


def test_a_rising_series_is_on_course_or_off_course_by_its_forecast() -> None:
    on = verdict(RISING, baseline_value=10, target_value=30, direction="up", target_year=2030)  # 31.5 >= 30
    assert (on.verdict, on.last_year, on.last_value, on.straddles) == ("on_course", 2024, 17.0, True)  # 28.2 .. 34.8
    assert on.progress == 0.35  # (17 - 10) / (30 - 10) = 7 / 20
    off = verdict(RISING, baseline_value=10, target_value=40, direction="up", target_year=2030)  # 31.5 < 40
    assert (off.verdict, off.straddles) == ("off_course", False)
    assert off.progress == 0.233333  # (17 - 10) / (40 - 10) = 7 / 30, six significant digits


def test_a_falling_series_where_lower_is_better() -> None:
    on = verdict(FALLING, baseline_value=52, target_value=20, direction="down", target_year=2030)  # 15.5 <= 20
    assert on.verdict == "on_course" and on.progress == 0.40625  # (39 - 52) / (20 - 52) = -13 / -32
    assert on.forecast.value == pytest.approx(15.5)
    assert on.forecast.low == pytest.approx(5.706066, abs=1e-5) and on.forecast.high == pytest.approx(25.293934,
                                                                                                      abs=1e-5)
    off = verdict(FALLING, baseline_value=52, target_value=10, direction="down", target_year=2030)  # 15.5 > 10
    assert (off.verdict, off.straddles) == ("off_course", True)  # 5.71 <= 10 <= 25.29: could go either way
    assert verdict(FALLING, baseline_value=52, target_value=5, direction="down", target_year=2030).straddles is False


def test_an_already_met_target_is_achieved_whatever_the_trend() -> None:
    met = verdict([(2021, 45.0), (2022, 41.0), (2023, 38.0)], baseline_value=50, target_value=40,
                  direction="down", target_year=2030)
    assert (met.verdict, met.progress) == ("achieved", 1.2)  # (38 - 50) / (40 - 50) = -12 / -10
    up = verdict([(2021, 20.0), (2022, 18.0), (2023, 16.0)], baseline_value=10, target_value=15,
                 direction="up", target_year=2030)  # falling, but 16 >= 15 already
    assert up.verdict == "achieved"


def test_a_noisy_series_whose_interval_straddles_the_target() -> None:
    ahead = forecast(NOISY, 2030)
    assert ahead.value == pytest.approx(15.5)
    assert ahead.prediction_se == pytest.approx(6.912549, abs=1e-6) and ahead.t_value == pytest.approx(2.353363,
                                                                                                       abs=1e-6)
    assert ahead.low == pytest.approx(-0.767747, abs=1e-5) and ahead.high == pytest.approx(31.767747, abs=1e-5)
    assert ahead.trend is not None and ahead.trend.r_squared == pytest.approx(2.5 / 26)
    on = verdict(NOISY, baseline_value=10, target_value=15, direction="up", target_year=2030)  # 15.5 >= 15
    off = verdict(NOISY, baseline_value=10, target_value=16, direction="up", target_year=2030)  # 15.5 < 16
    assert (on.verdict, on.straddles) == ("on_course", True) and (off.verdict, off.straddles) == ("off_course", True)


def test_a_measured_target_year_outranks_the_line() -> None:
    series = [(2021, 10.0), (2022, 14.0), (2023, 18.0), (2024, 17.0)]
    # ȳ = 14.75, dy = -4.75 -0.75 3.25 2.25; Sxy = 7.125 + 0.375 + 1.625 + 3.375 = 12.5: slope 2.5
    # 2024 on the line: 14.75 + 2.5 · 1.5 = 18.5 >= 17.5, but 17 was measured in 2024
    judged = verdict(series, baseline_value=10, target_value=17.5, direction="up", target_year=2024)
    assert judged.forecast.value == pytest.approx(18.5) and judged.verdict == "off_course"


def test_missing_years_two_points_one_value_no_data_and_no_target() -> None:
    gappy = verdict(GAPPY, baseline_value=3, target_value=15, direction="up", target_year=2030)  # 15.58 >= 15
    assert gappy.verdict == "on_course" and gappy.progress == 0.416667  # (8 - 3) / (15 - 3) = 5 / 12
    two = verdict([(2022, 10.0), (2024, 14.0)], baseline_value=10, target_value=25, direction="up", target_year=2030)
    assert (two.verdict, two.straddles, two.forecast.method) == ("on_course", None, "two_points")  # 26 >= 25
    one = verdict([(2024, 7.0)], baseline_value=5, target_value=10, direction="up", target_year=2030)
    assert (one.verdict, one.forecast.method, one.progress) == ("off_course", "last_value", 0.4)  # held flat at 7
    nothing = verdict([], baseline_value=1, target_value=2, direction="up", target_year=2030)
    assert (nothing.verdict, nothing.forecast.method, nothing.progress, nothing.last_value) == ("no_data", "none",
                                                                                                 None, None)
    untargeted = verdict(RISING, baseline_value=10, target_value=None, direction="up", target_year=2030)
    assert (untargeted.verdict, untargeted.progress, untargeted.straddles) == ("no_target", None, None)
    assert untargeted.forecast.value == pytest.approx(31.5)  # the trend is still shown
    assert verdict([], baseline_value=None, target_value=None, direction="up", target_year=2030).verdict == "no_target"
    figures = gappy.figures()
    assert figures["verdict"] == "on_course" and figures["forecast"]["value"] == 15.5769  # 405 / 26
    json.dumps(figures)
    with pytest.raises(ValueError):
        verdict(RISING, baseline_value=10, target_value=30, direction="sideways", target_year=2030)  # type: ignore[arg-type]


def test_progress_is_one_ratio_for_both_directions() -> None:
    assert progress(17, 10, 30) == 0.35  # (17 - 10) / (30 - 10)
    assert progress(39, 52, 20) == 0.40625  # (39 - 52) / (20 - 52)
    assert progress(8, 10, 30) == -0.1  # worse than the baseline: (8 - 10) / 20
    assert progress(10, 10, 10) is None and progress(None, 10, 30) is None and progress(17, None, 30) is None
    assert progress(17, 10, None) is None


# -- the next strategy's target ------------------------------------------------------------


def test_a_rising_series_proposes_its_line_in_the_next_target_year() -> None:
    proposal = propose_target(RISING, next_target_year=2032, direction="up")  # 13.5 + 2.4 · 9.5 = 36.3
    assert (proposal.method, proposal.reason, proposal.baseline_value, proposal.baseline_year) == (
        "trend", "better_trend", 17.0, 2024)
    assert (proposal.target_value, proposal.decimals) == (36.0, 0) and proposal.projected == pytest.approx(36.3)
    assert proposal.figures() == {
        "method": "trend", "reason": "better_trend", "direction": "up", "baseline_value": 17.0, "baseline_year": 2024,
        "target_value": 36.0, "target_year": 2032, "projected": 36.3, "decimals": 0, "n": 4,
        "years": [2021, 2022, 2023, 2024], "slope": 2.4, "intercept": -4840.5, "r_squared": 0.993103,
    }
    json.dumps(proposal.figures())


def test_a_falling_series_where_lower_is_better_proposes_lower_but_not_below_zero() -> None:
    proposal = propose_target(FALLING, next_target_year=2032, direction="down")  # 44 - 3.8 · 9.5 = 7.9 → 8
    assert (proposal.method, proposal.target_value, proposal.baseline_value) == ("trend", 8.0, 39.0)
    below = propose_target(FALLING, next_target_year=2035, direction="down")  # 44 - 3.8 · 12.5 = -3.5
    assert (below.method, below.reason, below.target_value) == ("trend", "stopped_at_zero", 0.0)
    assert below.projected == pytest.approx(-3.5)


def test_the_proposal_keeps_the_series_precision_at_most_two_decimals() -> None:
    series = [(2021, 1.2), (2022, 1.45), (2023, 1.9)]
    # ȳ = 4.55 / 3 = 1.516667, Sxy = -(1.2 - ȳ) + (1.9 - ȳ) = 0.7, Sxx = 2: slope 0.35
    # 2030: 1.516667 + 0.35 · 8 = 4.316667 → 4.32
    proposal = propose_target(series, next_target_year=2030, direction="up")
    assert (proposal.target_value, proposal.decimals) == (4.32, 2)
    assert count_decimals([12.5, 15.0]) == 1 and count_decimals([15.0, 3.0]) == 0
    assert count_decimals([0.1 + 0.2]) == 2 and count_decimals([1.5e-7]) == 2 and count_decimals([1e20]) == 0
    assert round_decimals(2.675, 2) == 2.68 and round_decimals(2.5, 0) == 3.0 and round_decimals(-2.5, 0) == -3.0


def test_a_trend_the_wrong_way_flat_or_unknown_holds_the_last_value() -> None:
    wrong = propose_target(RISING, next_target_year=2032, direction="down")
    assert (wrong.method, wrong.reason, wrong.target_value, wrong.baseline_value) == ("maintain", "wrong_way", 17.0,
                                                                                      17.0)
    assert wrong.projected == pytest.approx(36.3)  # shown, not proposed
    flat = propose_target([(2021, 5.0), (2022, 5.0), (2023, 5.0)], next_target_year=2035, direction="up")
    assert (flat.method, flat.reason, flat.target_value) == ("maintain", "flat", 5.0)
    one = propose_target([(2024, 7.0)], next_target_year=2032, direction="up")
    assert (one.method, one.reason, one.target_value, one.baseline_year, one.trend) == ("maintain", "one_value",
                                                                                        7.0, 2024, None)
    nothing = propose_target([], next_target_year=2032, direction="up")
    assert (nothing.method, nothing.reason, nothing.target_value, nothing.baseline_value) == ("none", "no_data",
                                                                                              None, None)
    kept = propose_target([], next_target_year=2032, direction="up", baseline_value=12.5)
    assert (kept.method, kept.reason, kept.target_value, kept.baseline_year, kept.decimals) == (
        "maintain", "no_measurement", 12.5, None, 1)


def test_a_proposal_is_never_worse_than_the_next_baseline() -> None:
    jump = [(2020, 10.0), (2021, 10.0), (2022, 10.0), (2023, 10.0), (2024, 30.0)]
    # x̄ = 2022, ȳ = 14, dy = -4 -4 -4 -4 16; Sxy = 8 + 4 + 0 - 4 + 32 = 40, Sxx = 10: slope 4
    # 2025: 14 + 4 · 3 = 26 < 30; 2026: 30, no further; 2027: 34
    held = propose_target(jump, next_target_year=2025, direction="up")
    assert (held.method, held.reason, held.target_value, held.projected) == ("maintain", "behind_last_value", 30.0,
                                                                             pytest.approx(26.0))
    assert propose_target(jump, next_target_year=2026, direction="up").reason == "behind_last_value"
    assert propose_target(jump, next_target_year=2027, direction="up").target_value == 34.0
    with pytest.raises(ValueError):
        propose_target(jump, next_target_year=2024, direction="up")


@given(st.lists(st.tuples(st.integers(2000, 2030), st.floats(0, 1e4)), min_size=1, max_size=12,
                unique_by=lambda p: p[0]), st.integers(1, 15), st.sampled_from(["up", "down"]))
def test_no_proposal_is_worse_than_the_last_value(points: list[tuple[int, float]], ahead: int, direction: str) -> None:
    last_year, last_value = max(points)
    proposal = propose_target(points, next_target_year=last_year + ahead, direction=direction)  # type: ignore[arg-type]
    assert proposal.baseline_value == last_value and proposal.target_value is not None
    if direction == "up":
        assert proposal.target_value >= last_value
    else:
        assert proposal.target_value <= last_value and proposal.target_value >= 0
