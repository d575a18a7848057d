"""Observations brought in from a file (a Darwin Core Archive, an iNaturalist export, an
いきものログ export, a Darwin Core CSV) go through the same curation as what partners send
on the web: each row is sent by the person importing, through the same opening trigger with
the same checks, and waits for a curator. Nothing is published by importing.

All rows or none: a file with problems imports nothing and names every problem by its row,
in both languages. A row already imported (the same source and the same id there) is left
as it is, so importing the same export again adds only what is new.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from engine.errors import GuardRefused, InvalidFields, Refused, Said
from engine.runtime import Actor, Workflow
from words.catalogue import render
from workflows.hub.sources import Parsed, read_observations
from workflows.models import HubItem

hub = HubItem.__table__  # type: ignore[attr-defined]
TRIGGER = "send_observation"
HUMAN_SOURCES = ("inaturalist", "ikimonolog")
"""Sources whose records are people's observations by nature: basisOfRecord defaults to
HumanObservation there (a Darwin Core file says its own)."""
TERMS = ("scientificName", "vernacularName", "eventDate", "decimalLatitude", "decimalLongitude",
         "coordinateUncertaintyInMeters", "locality", "basisOfRecord", "occurrenceStatus", "individualCount",
         "recordedBy")


@dataclass
class Imported:
    source: str
    sent: list[int] = field(default_factory=list)
    """the items made, each waiting for a curator"""
    already: list[str] = field(default_factory=list)
    """ids in the source of rows imported before, left as they are"""


class HubImportRefused(Refused):
    """Nothing was imported: every problem, by row, in both languages."""

    code = "invalid_file"

    def __init__(self, problems: Sequence[Said]) -> None:
        self.problems = list(problems)
        super().__init__(Said(f"nothing imported: {len(self.problems)} problem(s)", "hub.nothing_imported",
                              count=len(self.problems)))


def import_observations(conn: Connection, workflow: Workflow, *, tenant: int, actor: Actor, filename: str,
                        data: bytes, now: datetime, today: date) -> Imported:
    """Read the file and send each new row for curation, in the caller's transaction (which
    the refusal rolls back)."""
    parsed = read_observations(filename, data, today=today)
    problems = [Said(p.words("en"), ja=p.words("ja")) for p in parsed.problems]
    done = Imported(parsed.source)
    seen = _imported_before(conn, tenant, parsed)
    for row in parsed.rows:
        source_id = str(row.get("sourceId") or "")
        if source_id and source_id in seen:
            done.already.append(source_id)
            continue
        try:
            fired = workflow.open(conn, TRIGGER, actor, _fields(row, parsed.source), now=now, tenant=tenant)
        except (InvalidFields, GuardRefused) as refused:
            problems += _row_problems(row["sourceRow"], refused, workflow)
            continue
        conn.execute(update(hub).where(hub.c.id == fired.instance_id).values(
            source=parsed.source, source_id=source_id or None,
            extra={k: row[k] for k in ("obscured", "qualityGrade") if row.get(k) is not None}))
        done.sent.append(fired.instance_id)
    if problems:
        raise HubImportRefused(problems)
    return done


def _imported_before(conn: Connection, tenant: int, parsed: Parsed) -> set[str]:
    ids = [str(r["sourceId"]) for r in parsed.rows if r.get("sourceId")]
    if not ids:
        return set()
    return set(conn.execute(select(hub.c.source_id).where(
        hub.c.tenant_id == tenant, hub.c.source == parsed.source, hub.c.source_id.in_(ids))).scalars())


def _fields(row: dict[str, Any], source: str) -> dict[str, Any]:
    """A row as the form would send it: text values, Darwin Core names."""
    fields = {term: row.get(term) for term in TERMS if row.get(term) not in (None, "")}
    if "basisOfRecord" not in fields and source in HUMAN_SOURCES:
        fields["basisOfRecord"] = "HumanObservation"
    fields.setdefault("occurrenceStatus", "present")  # Darwin Core's reading of a record that says nothing
    out: dict[str, Any] = {}
    for term, value in fields.items():
        out[term] = value.isoformat() if isinstance(value, date) else str(value)
    return out


def _row_problems(row: int, refused: Refused, workflow: Workflow) -> list[Said]:
    """What the opening step refused, said for this row."""
    if isinstance(refused, InvalidFields):
        found = [(name, why) for name, why in refused.problems]
    else:
        found = [("", why) for why in getattr(refused, "reasons", [refused.said])]
    out = []
    for name, why in found:
        label = next((f.label for t in workflow.spec.openings for f in t.fields if f.name == name), None)
        words = {lang: render(why, lang, workflow.spec.name_of) for lang in ("ja", "en")}
        ja = f"{row}行目: {label.ja + ': ' if label else ''}{words['ja']}"
        en = f"row {row}: {label.en + ': ' if label else ''}{words['en']}"
        out.append(Said(en, ja=ja))
    return out
