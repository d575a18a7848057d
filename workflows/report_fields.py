"""What one strategy asks of a yearly report beyond the cycle's own fields.

Japanese cities write more than a status and what was done: Kumamoto's table has
課題及び今後の見通し (issues and outlook), Tottori's the budget, Ichinomiya grades an
outlook beside the progress (`../shared/domain/practice.md`). Each strategy declares its
own in `config.toml` (`[[strategy.report_fields]]`): a key for programs, words in both
languages, a type (text, longtext, number, choice), whether it is required, and for a
number its unit and lowest value, for a choice its values in words. The action cycle's
report takes them as one `fieldset` field, checked like every other field; what was sent
is kept with the cycle and shown wherever the report is (the action page, the councils'
queues and packets, the public report and its CSV/XLSX), each value in the reader's words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine.errors import Said
from engine.spec import Field as FieldSpec
from engine.spec import Label
from words.numbers import finite, format_number

KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
RESERVED = frozenset({"status", "content", "indicators", "self_grade", "comment", "details"})
"""The report's own field names: a strategy's field may not take one."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChoiceIn(_Strict):
    value: str = Field(min_length=1, max_length=16)
    ja: str = Field(min_length=1)
    en: str = Field(min_length=1)


class ReportFieldIn(_Strict):
    """One field of the report, as `[[strategy.report_fields]]` declares it."""

    key: str
    type: Literal["text", "longtext", "number", "choice"]
    label_ja: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    required: bool = False
    unit: str | None = None
    """For a number: what it counts (千円, 円, 人)."""
    minimum: float | None = None
    """For a number: the lowest value it can take (0 for money)."""
    choices: list[ChoiceIn] = Field(default_factory=list)
    """For a choice: each value and what it means (A: 前倒し可能)."""

    @model_validator(mode="after")
    def _consistent(self) -> ReportFieldIn:
        if not KEY.match(self.key):
            raise ValueError(f"key {self.key!r}: lower-case letters, digits and _ only, starting with a letter")
        if self.key in RESERVED:
            raise ValueError(f"key {self.key!r} is one of the report's own fields ({', '.join(sorted(RESERVED))})")
        if self.type != "number" and (self.unit is not None or self.minimum is not None):
            raise ValueError(f"{self.key}: unit and minimum are for a number")
        if self.type == "choice":
            values = [c.value for c in self.choices]
            if not values:
                raise ValueError(f"{self.key}: a choice needs its choices")
            if len(set(values)) != len(values):
                raise ValueError(f"{self.key}: choices must not repeat")
        elif self.choices:
            raise ValueError(f"{self.key}: choices are for a choice")
        return self

    def label(self, language: str) -> str:
        return self.label_en if language == "en" else self.label_ja


def check_keys(fields: Sequence[ReportFieldIn]) -> None:
    """A strategy's report fields are told apart by their keys."""
    keys = [f.key for f in fields]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise ValueError(f"report_fields: key {', '.join(dupes)} used more than once")


def _at_least(minimum: float) -> Any:
    def check(value: Any, ctx: Any) -> str | None:
        if value < minimum:
            shown = format_number(minimum)
            return Said(f"must be at least {shown}", "field.below_minimum", minimum=shown)
        return None
    return check


def as_fields(declared: Sequence[ReportFieldIn]) -> tuple[FieldSpec, ...]:
    """The declarations as the engine's fields, for the report's `fieldset`."""
    out = []
    for d in declared:
        unit_ja, unit_en = (f"（{d.unit}）", f" ({d.unit})") if d.unit else ("", "")
        out.append(FieldSpec(
            d.key, d.type, Label(d.label_ja + unit_ja, d.label_en + unit_en), required=d.required,
            choices=tuple(c.value for c in d.choices) or None,
            labels={c.value: Label(f"{c.value}：{c.ja}", f"{c.value}: {c.en}") for c in d.choices},
            check=_at_least(d.minimum) if d.minimum is not None else None,
        ))
    return tuple(out)


def as_text(declared: ReportFieldIn, value: Any, language: str) -> str:
    """A value as a person reads it: `8,000 千円`, `B：計画通り`, the text as written."""
    if value is None or value == "":
        return ""
    if declared.type == "number":
        number = finite(value)
        if number is None:
            return ""
        return f"{format_number(number)} {declared.unit}".strip() if declared.unit else format_number(number)
    if declared.type == "choice":
        found = next((c for c in declared.choices if c.value == value), None)
        if found is None:
            return str(value)
        return f"{found.value}: {found.en}" if language == "en" else f"{found.value}：{found.ja}"
    return str(value)


def shown(declared: Sequence[ReportFieldIn], values: dict[str, Any] | None) -> list[dict[str, Any]]:
    """What a report says in these fields, in both languages, in the declared order: the
    form frozen into a publication, so that it reads the same after the config changes."""
    values = values or {}
    return [{"key": d.key, "type": d.type, "label_ja": d.label_ja, "label_en": d.label_en, "unit": d.unit,
             "value": values.get(d.key), "text_ja": as_text(d, values.get(d.key), "ja"),
             "text_en": as_text(d, values.get(d.key), "en")}
            for d in declared]


__all__ = ["RESERVED", "ChoiceIn", "ReportFieldIn", "as_fields", "as_text", "check_keys", "shown"]
