"""The shape of `[revision]` in config.toml: a strategy's thresholds for adaptive revision
(順応的な見直し). The yearly cycle's rules that apply them are in
`workflows/action_cycle/revision.py`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RevisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    behind_percent: float = Field(default=25, ge=0, le=100)
    grade_at_or_below: str | None = "C"
    late_days: int = Field(default=30, ge=1)
    returned_more_than: int = Field(default=1, ge=0)
    on_track_ratio: float = Field(default=0.9, gt=0, le=1)
