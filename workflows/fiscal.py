"""Fiscal years as the city writes them: April to March, shown as `FY2026 (令和8年度)`."""

from __future__ import annotations

from datetime import date, datetime

ERAS = ((2019, "令和"), (1989, "平成"), (1926, "昭和"))


def wareki(fy: int) -> str:
    """The Japanese-era name of a fiscal year: 2026 -> 令和8年度, 2019 -> 令和元年度."""
    for first, era in ERAS:
        if fy >= first:
            n = fy - first + 1
            return f"{era}{'元' if n == 1 else n}年度"
    return f"{fy}年度"


def fy_label(fy: int) -> str:
    return f"FY{fy} ({wareki(fy)})"


def fiscal_year_of(day: date | datetime, start_month: int = 4, start_day: int = 1) -> int:
    """FY N runs from its start date in year N to the day before it in year N+1."""
    d = day.date() if isinstance(day, datetime) else day
    return d.year if (d.month, d.day) >= (start_month, start_day) else d.year - 1
