"""Numbers as people write them: thousands separated, no float noise, a unit after a space
("8,000 件"), shares as whole percentages.

Two measures of an indicator, each with one definition (the public report, the pages and
the revision flags all use these):

- 進捗率 (progress): how much of the way from the baseline to the target the value has
  covered, (value - baseline) / (target - baseline). 100 % = the target is reached.
- 見込み値 (expected value): where the straight line from the baseline to the target says
  the indicator should be in a given fiscal year. A flag compares the value against it, in
  the indicator's own unit ("9,000 件 against 9,500 件 expected").
"""

from __future__ import annotations

import math
from typing import Any


def finite(value: Any) -> float | None:
    """A finite number, or None: null, text, booleans, NaN and infinities are all "no value"."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def plain(value: Any) -> Any:
    """A float without binary noise (0.08000000000000007 -> 0.08, 42.0 -> 42); anything
    else unchanged. For files people open in a spreadsheet."""
    v = finite(value)
    if v is None or isinstance(value, int):
        return value
    cleaned = float(f"{v:.12g}")
    return int(cleaned) if cleaned.is_integer() and abs(cleaned) < 1e15 else cleaned


def format_number(value: Any, *, decimals: int = 4) -> str:
    """1234.5 -> "1,234.5", 42.0 -> "42": as a person writes it, no float noise."""
    v = finite(value)
    if v is None:
        return ""
    text = f"{v:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_quantity(value: Any, unit: str | None) -> str:
    """8000.0 and "件" -> "8,000 件"; a unit of "%" sticks to its number ("12.5%")."""
    text = format_number(value)
    if not text or not unit:
        return text
    return f"{text}{unit}" if unit in ("%", "％") else f"{text} {unit}"


def format_percent(share: Any) -> str:
    """A share of the way (0.834) as a whole percentage ("83%"); beyond 100% is shown as it is."""
    v = finite(share)
    if v is None:
        return ""
    # Half up, after removing float noise: 0.575 is 57.49999… in binary but 58% to a reader.
    return f"{math.floor(round(v * 100, 6) + 0.5):d}%"
