"""Indicator arithmetic: both directions, missing values, a target met at the baseline."""

from __future__ import annotations

import pytest

from workflows.indicators import Target, expected, progress, share_of_expected, status

WETLAND = Target("up", 2.0, 2025, 4.5, 2030)  # ha of restored wetland
INVASIVE = Target("down", 48.0, 2025, 20.0, 2030)  # sites with an invasive plant


def test_the_expected_value_lies_on_the_line_from_baseline_to_target() -> None:
    assert expected(WETLAND, 2025) == 2.0
    assert expected(WETLAND, 2026) == pytest.approx(2.5)
    assert expected(WETLAND, 2030) == 4.5 == expected(WETLAND, 2035)
    assert expected(WETLAND, 2020) == 2.0
    assert expected(INVASIVE, 2027) == pytest.approx(48 - 28 * 2 / 5)
    assert expected(Target("up", None, None, 10.0, 2030), 2027) is None


@pytest.mark.parametrize(("target", "value", "fy", "want"), [
    (WETLAND, 4.6, 2026, "achieved"),
    (WETLAND, 2.5, 2026, "on_track"),
    (WETLAND, 2.46, 2026, "on_track"),  # 92 % of the expected way, within the 90 % threshold
    (WETLAND, 2.2, 2026, "behind"),
    (WETLAND, None, 2026, "no_data"),
    (INVASIVE, 19.0, 2026, "achieved"),
    (INVASIVE, 42.0, 2026, "on_track"),  # expected 42.4: fewer is better
    (INVASIVE, 47.0, 2026, "behind"),
    (INVASIVE, 50.0, 2026, "behind"),  # got worse
    (Target("up", 1.0, 2025, None, None), 3.0, 2026, "not_applicable"),
    (Target("up", 10.0, 2025, 8.0, 2030), 9.0, 2026, "achieved"),  # the target was met at the baseline
])
def test_status_in_both_directions(target: Target, value: float | None, fy: int, want: str) -> None:
    assert status(target, value, fy) == want


def test_progress_is_the_share_of_the_way_covered() -> None:
    assert progress(WETLAND, 3.25) == pytest.approx(0.5)
    assert progress(INVASIVE, 34.0) == pytest.approx(0.5)
    assert progress(INVASIVE, 55.0) == pytest.approx(-0.25)
    assert progress(WETLAND, None) is None
    assert progress(Target("up", 5.0, 2025, 5.0, 2030), 5.0) == 1.0  # nothing left to do
    assert progress(Target("up", 10.0, 2025, 8.0, 2030), 9.0) == 1.0


def test_the_share_of_the_expected_value_for_wording() -> None:
    assert share_of_expected(WETLAND, 2.2, 2026) == pytest.approx(0.4)
    assert share_of_expected(INVASIVE, 45.76, 2026) == pytest.approx(0.4)
    assert share_of_expected(WETLAND, 2.2, 2025) is None  # nothing expected yet
