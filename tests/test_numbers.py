"""Numbers as people write them, and files without float noise."""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import pytest

from publishing.tables import write_csv
from tests.test_publishing_site import snapshot
from words.numbers import format_number, format_percent, format_quantity, plain


@pytest.mark.parametrize(("value", "unit", "written"), [
    (8000.0, "件", "8,000 件"), (8000, "件", "8,000 件"), (12.5, "%", "12.5%"), (1234.56789, "ha", "1,234.5679 ha"),
    (0.1 + 0.2, "", "0.3"), (-0.0, "種", "0 種"), (None, "件", ""), (float("nan"), "件", ""),
])
def test_quantities_are_written_as_people_write_them(value: object, unit: str, written: str) -> None:
    assert format_quantity(value, unit) == written


def test_plain_removes_float_noise_and_keeps_everything_else() -> None:
    assert plain(0.08000000000000007) == 0.08
    assert plain(1.1 * 3) == 3.3
    assert plain(42.0) == 42 and isinstance(plain(42.0), int)
    assert plain(7) == 7 and plain(None) is None and plain("x") == "x" and plain(True) is True
    assert plain(1 / 3) == pytest.approx(1 / 3, rel=1e-11)


def test_percent_and_number() -> None:
    assert format_percent(0.575) == "58%" and format_percent(1.25) == "125%" and format_percent(None) == ""
    assert format_number(1234.5) == "1,234.5" and format_number(42.0) == "42"


def test_the_csv_has_no_float_noise(tmp_path: Path) -> None:
    snap = copy.deepcopy(snapshot())
    action = next(a for a in snap["actions"] if a["indicators"])
    indicator = action["indicators"][0]
    indicator["progress"], indicator["expected"] = 0.1 * 0.8, 0.1 + 0.2
    path = write_csv(snap, tmp_path / "r.csv")
    text = path.read_text(encoding="utf-8-sig")
    assert "0.08000000000000002" not in text and "0.30000000000000004" not in text
    row = next(r for r in csv.DictReader(text.splitlines()) if r["indicator_code"] == indicator["code"]
               and r["code"] == action["code"])
    assert (row["progress"], row["expected"]) == ("0.08", "0.3")
