"""Checking what a person typed against what a trigger declares.

Input is flat, as it arrives from a command line or an HTML form: `name -> text` or
`name -> [texts]`. A `measures` field takes one key per item: `name.ITEM=12.5` for a value
or `name.ITEM.reason=...` for why there is none. Every problem is reported at once, each
naming its field, so a person fixes everything in one go.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from engine.errors import InvalidFields, Said
from engine.spec import Field, Label, Trigger

Raw = Mapping[str, str | Sequence[str] | Any]
Lookup = Callable[[str], Sequence[str]]
FieldLookup = Callable[[str], Sequence[Field]]
COMMENT = "comment"
"""Every trigger takes a comment: those that declare one may require it; for the others it
is an optional remark, kept in the audit row."""


def _texts(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return [str(v) for v in value]
    return [str(value)]


def _one(name: str, value: Any, problems: list[tuple[str, str]]) -> str | None:
    texts = [t for t in _texts(value) if t.strip()]
    if len(texts) > 1:
        problems.append((name, Said("give one value, not several", "field.several")))
        return None
    return texts[0].strip() if texts else None


NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
"""Plain decimals, or thousands separated by commas (1,234.5); never 1,5 or 1_000."""


def parse_number(text: str) -> float | None:
    if not NUMBER.match(text):
        return None
    number = float(text.replace(",", ""))
    return number if math.isfinite(number) else None


def _measures(
    field: Field, raw: Raw, items: Sequence[str], problems: list[tuple[str, str]]
) -> dict[str, dict[str, Any]]:
    prefix = field.name + "."
    given: dict[str, dict[str, Any]] = {}
    for key, value in raw.items():
        if not key.startswith(prefix):
            continue
        rest = key[len(prefix) :]
        item, is_reason = (rest[: -len(".reason")], True) if rest.endswith(".reason") else (rest, False)
        if item not in items:
            known = ", ".join(items) or "none"
            problems.append((key, Said(f"no item {item!r} here (items: {known})", "field.unknown_item", item=item,
                                       items=list(items))))
            continue
        text = _one(key, value, problems)
        if text is None:
            continue
        entry = given.setdefault(item, {})
        if is_reason:
            entry["reason"] = text
        else:
            number = parse_number(text)
            if number is None:
                problems.append((key, Said(f"{text!r} is not a number (to say why there is none, use {key}.reason=...)",
                                           "field.measure_not_number", value=text)))
            else:
                entry["value"] = number
    for item, entry in given.items():
        if "value" in entry and "reason" in entry:
            problems.append((f"{field.name}.{item}",
                             Said("give a value or a reason, not both", "field.value_and_reason")))
    if field.required:
        for item in items:
            if item not in given:
                problems.append((f"{field.name}.{item}", Said("missing: a value, or a reason why there is none",
                                                              "field.measure_missing")))
    return given


def measure_keys(raw: Raw, field: Field) -> set[str]:
    prefix = field.name + "."
    return {key for key in raw if key.startswith(prefix)}


def validate(
    trigger: Trigger, raw: Raw, *, choices: Lookup, items: Lookup,
    checks: Callable[[Field, Any], str | None] | None = None, fieldsets: FieldLookup | None = None,
) -> dict[str, Any]:
    """Return the cleaned values, or raise InvalidFields naming every problem. `checks` runs
    each field's own check on its parsed value (the runtime gives it the instance and the
    time); `fieldsets` gives the fields a `fieldset` field stands for."""
    problems: list[tuple[str, str]] = []
    clean: dict[str, Any] = {}
    used: set[str] = set()
    checked: list[tuple[Field, str, Any]] = []  # (field, problem key, parsed value) for `checks`
    labels: dict[str, Label] = {}  # a fieldset's fields, by the names problems are reported under
    for field in trigger.fields:
        if field.type == "measures":
            used |= measure_keys(raw, field)
            values = _measures(field, raw, items(field.items or field.name), problems)
            if values or field.required:
                clean[field.name] = values
                checked.append((field, field.name, values))
            continue
        if field.type == "fieldset":
            group: dict[str, Any] = {}
            for sub in fieldsets(field.items or field.name) if fieldsets else ():
                key = f"{field.name}.{sub.name}"
                used.add(key)
                labels[key] = sub.label
                if _scalar(sub, key, raw.get(key), choices, problems, group):
                    checked.append((sub, key, group[sub.name]))
            if group:
                clean[field.name] = group
            continue
        used.add(field.name)
        if _scalar(field, field.name, raw.get(field.name), choices, problems, clean):
            checked.append((field, field.name, clean[field.name]))
    if checks is not None:
        for field, key, value in checked:
            if field.check is not None and not any(p[0] == key for p in problems):
                problem = checks(field, value)
                if problem:
                    problems.append((key, problem))
    if COMMENT in raw and not trigger.takes(COMMENT):
        used.add(COMMENT)
        remark = _one(COMMENT, raw[COMMENT], problems)
        if remark:
            clean[COMMENT] = remark
    unknown = sorted(set(raw) - used)
    if unknown:
        takes = ", ".join(f.name for f in trigger.fields) or "no fields"
        problems.extend((key, Said(f"unknown field; {trigger.name} takes {takes}", "field.unknown",
                                   trigger=trigger.name, takes=[f.name for f in trigger.fields]))
                        for key in unknown)
    if problems:
        raise InvalidFields(problems, labels=labels)
    return clean


def _scalar(field: Field, key: str, value: Any, choices: Lookup, problems: list[tuple[str, str]],
            clean: dict[str, Any]) -> bool:
    """Parse one field's value into `clean[field.name]`; a problem is reported under `key`
    (the name the form uses). True when a value was stored."""
    if field.type == "photos":
        files = [v for v in (value if isinstance(value, list | tuple) else [value]) if v]
        if any(not isinstance(v, bytes | bytearray) for v in files):
            problems.append((key, Said("send the photos as files", "field.not_files")))
            return False
        if field.required and not files:
            problems.append((key, Said("missing: give at least one", "field.missing_lines")))
        clean[field.name] = [bytes(v) for v in files]
        return True
    if field.type == "several":
        picked = [line.strip() for t in _texts(value) for line in t.splitlines() if line.strip()]
        allowed = _resolve_choices(field, choices)
        wrong = [v for v in picked if v not in allowed]
        if wrong:
            problems.append((key, Said(f"{', '.join(wrong)}: not among {', '.join(allowed)}", "field.not_choice",
                                       value=", ".join(wrong), field=key, choices=list(allowed))))
            return False
        if field.required and not picked:
            problems.append((key, Said("missing: give at least one", "field.missing_lines")))
        clean[field.name] = list(dict.fromkeys(picked))
        return True
    if field.type == "lines":
        lines = [line.strip() for t in _texts(value) for line in t.splitlines() if line.strip()]  # a textarea too
        if field.required and not lines:
            problems.append((key, Said("missing: give at least one", "field.missing_lines")))
        clean[field.name] = lines
        return True
    text = _one(key, value, problems)
    if text is None:
        if field.required and not any(p[0] == key for p in problems):
            problems.append((key, Said("missing", "field.missing")))
        return False
    if field.type == "number":
        number = parse_number(text)
        if number is None:
            problems.append((key, Said(f"{text!r} is not a number", "field.not_number", value=text)))
            return False
        clean[field.name] = number
    elif field.type == "choice":
        allowed = _resolve_choices(field, choices)
        if text not in allowed:
            if field.invalid:
                why = Said(f"{text} {field.invalid.en}", ja=f"{text} {field.invalid.ja}")
            else:
                why = Said(f"{text!r} is not one of {', '.join(allowed)}", "field.not_choice", value=text,
                           field=key, choices=list(allowed))
            problems.append((key, why))
            return False
        clean[field.name] = text
    elif field.type == "date":
        try:
            clean[field.name] = date.fromisoformat(text)
        except ValueError:
            problems.append((key, Said(f"{text!r} is not a date (YYYY-MM-DD)", "field.not_date", value=text)))
            return False
    else:
        clean[field.name] = text
    return True


def _resolve_choices(field: Field, choices: Lookup) -> tuple[str, ...]:
    if isinstance(field.choices, str):
        return tuple(choices(field.choices))
    return tuple(field.choices or ())


def describe(field: Field, *, choices: Lookup, items: Lookup,
             labels: Callable[[str], Mapping[str, Label]] | None = None,
             fieldsets: FieldLookup | None = None, prefix: str = "") -> dict[str, Any]:
    """The declaration as JSON for scripts and forms, with this instance's lists filled in
    (and, for a list the store supplies, what each choice means where the store says)."""
    out: dict[str, Any] = {
        "name": prefix + field.name,
        "type": field.type,
        "required": field.required,
        "label": {"ja": field.label.ja, "en": field.label.en},
    }
    if field.type in ("choice", "several"):
        out["choices"] = list(_resolve_choices(field, choices))
        said = field.labels or (labels(field.choices) if labels and isinstance(field.choices, str) else None)
        if said:
            out["choice_labels"] = {k: {"ja": v.ja, "en": v.en} for k, v in said.items()}
    if field.type == "measures":
        out["items"] = list(items(field.items or field.name))
    if field.type == "fieldset":
        out["fields"] = [describe(sub, choices=choices, items=items, labels=labels, prefix=f"{field.name}.")
                         | {"key": sub.name}
                         for sub in (fieldsets(field.items or field.name) if fieldsets else ())]
    return out
