"""When a strategy's reviews happen (`[review]` in config.toml, or a `[[strategies]]`
entry's own): month-days within a fiscal year, the target year's for the final review.

The defaults put the final review after the previous year's results are published and
before the next strategy's first plan window: the review opens in June of the target
year, its package is due at the end of September, and the next strategy's draft by the
end of December, so that the new strategy is adopted before the plan window opens in
January for its first fiscal year.
"""

from __future__ import annotations

import itertools
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from workflows.calendar import MONTH_DAY


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    final_review_opens: str = "06-01"
    final_review_due: str = "09-30"
    draft_due: str = "12-25"
    mid_review_fy: int | None = Field(default=None, ge=1990, le=2200)
    """The fiscal year of an optional mid-term review (中間評価); none when unset."""
    mid_review_opens: str = "06-01"
    mid_review_due: str = "12-25"

    @field_validator("final_review_opens", "final_review_due", "draft_due", "mid_review_opens", "mid_review_due")
    @classmethod
    def _month_day(cls, value: str) -> str:
        match = MONTH_DAY.match(value)
        if not match:
            raise ValueError(f"write MM-DD, e.g. 09-30 (not {value!r})")
        try:
            date(2023, int(match[1]), int(match[2]))  # not a leap year: no 02-29 that most years lack
        except ValueError:
            raise ValueError(f"{value!r} is not a day of every year") from None
        return value

    @model_validator(mode="after")
    def _in_order(self) -> ReviewIn:
        order = [("final_review_opens", self.final_review_opens), ("final_review_due", self.final_review_due),
                 ("draft_due", self.draft_due)]
        for (a, da), (b, db) in itertools.pairwise(order):
            if _rank(da) >= _rank(db):
                raise ValueError(f"{b} ({db}) must come after {a} ({da}) within the fiscal year")
        if _rank(self.mid_review_opens) >= _rank(self.mid_review_due):
            raise ValueError(f"mid_review_due ({self.mid_review_due}) must come after mid_review_opens")
        return self

    def day(self, fy: int, name: str, start_month: int = 4) -> date:
        """A month-day of this review as the date it falls on in fiscal year `fy` (April to
        March: a January date is in calendar year fy + 1)."""
        month, day = (int(x) for x in str(getattr(self, name)).split("-"))
        return date(fy if month >= start_month else fy + 1, month, day)


def _rank(month_day: str, start_month: int = 4) -> tuple[int, int]:
    """Where a month-day falls within a fiscal year starting in April."""
    month, day = (int(x) for x in month_day.split("-"))
    return ((month - start_month) % 12, day)


__all__ = ["ReviewIn"]
