"""The people, the strategies and their bodies, as configured, and their sync into the
database.

The pydantic models here are the typed shape of those parts of `config.toml`; `app/`
reads the file and hands them over. People are global (one address, one sign-in); the
bodies and their seats belong to one strategy each. Syncing is idempotent: run it after
every change to the config. People dropped from the config are deactivated, never
deleted, because the audit trail still names them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Connection, delete, insert, select, update

from workflows.bodies import ADVISORS, CURATORS, EXPERTS, PARTNERS, SECRETARIAT
from workflows.models import Council, Membership, Person, Strategy
from workflows.report_fields import ReportFieldIn, check_keys

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
OrganisationKind = Literal["citizen", "citizens_group", "business", "research", "local_expert", "agency", "museum",
                           "zoo_garden", "environment_centre"]
"""Who the hub's partners are (the chapter's 情報拠点 and its partners): a citizen, a citizens'
group, a business, a university or research institute, a local expert, another agency,
the museum, the zoo and botanical garden, the environment centre."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StrategyIn(_Strict):
    code: str = Field(min_length=1, max_length=64)
    name_ja: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    first_fy: int = Field(ge=1990, le=2200)
    target_fy: int = Field(ge=1990, le=2200)
    grades: list[str] = Field(min_length=1)
    grade_meanings: dict[str, tuple[str, str]] = Field(default_factory=dict)
    """What each grade means, in Japanese and English: shown beside the grade in the forms."""
    report_fields: list[ReportFieldIn] = Field(default_factory=list)
    """What this strategy's yearly report asks beyond status, content, indicators and grade."""

    @model_validator(mode="after")
    def _years_in_order(self) -> StrategyIn:
        if self.target_fy < self.first_fy:
            raise ValueError(f"target_fy {self.target_fy} is before first_fy {self.first_fy}")
        if len(set(self.grades)) != len(self.grades):
            raise ValueError("grades must not repeat")
        unknown = sorted(set(self.grade_meanings) - set(self.grades))
        if unknown:
            raise ValueError(f"grade_meanings: {', '.join(unknown)} is not one of the grades")
        check_keys(self.report_fields)
        return self


class PersonIn(_Strict):
    email: str
    name: str = Field(min_length=1)
    name_en: str | None = None
    division: str | None = None
    language: Literal["ja", "en"] = "ja"
    admin: bool = False
    digest: bool = False
    organisation: str | None = None
    organisation_kind: OrganisationKind | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not EMAIL.match(value):
            raise ValueError(f"{value!r} is not an email address")
        return value.lower()


class CouncilIn(_Strict):
    name_ja: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    chair: str
    vice_chair: str | None = None
    members: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _distinct_chairs(self) -> CouncilIn:
        if self.vice_chair and self.vice_chair.lower() == self.chair.lower():
            raise ValueError(f"vice_chair {self.vice_chair} is also the chair")
        return self

    def seats(self) -> list[tuple[str, str]]:
        seats = [(self.chair.lower(), "chair")]
        if self.vice_chair:
            seats.append((self.vice_chair.lower(), "vice_chair"))
        seated = {email for email, _ in seats}
        for member in self.members:
            if member.lower() not in seated:
                seats.append((member.lower(), "member"))
                seated.add(member.lower())
        return seats


class SecretariatIn(_Strict):
    division: str = Field(min_length=1)
    members: list[str] = Field(min_length=1)


class AdvisorsIn(_Strict):
    members: list[str] = Field(default_factory=list)


class HubIn(_Strict):
    """The strategy's information hub (`[hub]`): who curates what partners send (the
    environment division, the museum, the zoo, the environment centre), the experts who
    verify species identifications, the partners who may send, and the species whose exact
    places are never shown in public (scientific names), and the city's outline its public
    maps are drawn on (a GeoJSON file, relative to the config file; unset: the sample city's)."""

    curators: list[str] = Field(default_factory=list)
    experts: list[str] = Field(default_factory=list)
    partners: list[str] = Field(default_factory=list)
    sensitive: list[str] = Field(default_factory=list)
    outline: str | None = None

    def bodies(self) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
        named = ((CURATORS, "情報拠点の担当者", "Curators of the hub", self.curators),
                 (EXPERTS, "同定を確認する専門家", "Experts who verify identifications", self.experts),
                 (PARTNERS, "情報拠点の連携主体", "Partners of the hub", self.partners))
        return [(key, ja, en, [(e.lower(), "member") for e in dict.fromkeys(emails)]) for key, ja, en, emails in named]


class BodiesIn(_Strict):
    """A strategy's bodies: the secretariat (its admins), the two councils, the advisors,
    and the information hub's curators, experts and partners."""

    secretariat: SecretariatIn
    councils: dict[Literal["internal", "promotion"], CouncilIn]
    advisors: AdvisorsIn = AdvisorsIn()
    hub: HubIn = HubIn()

    def named(self, where: str) -> list[tuple[str, str]]:
        """(key path, email) of everyone these bodies name, for the cross-check."""
        named = [(f"{where}secretariat.members", e) for e in self.secretariat.members]
        named += [(f"{where}advisors.members", e) for e in self.advisors.members]
        named += [(f"{where}hub.{key}", e) for key in ("curators", "experts", "partners")
                  for e in getattr(self.hub, key)]
        for key in ("internal", "promotion"):
            if key not in self.councils:
                raise ValueError(f"{where}councils.{key} is missing")
            council = self.councils[key]  # type: ignore[index]
            named += [(f"{where}councils.{key}.{role}", email) for email, role in council.seats()]
        return named

    def bodies(self) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
        """(key, name_ja, name_en, seats) of each body, the secretariat and advisors included."""
        out = [(key, c.name_ja, c.name_en, c.seats()) for key, c in self.councils.items()]
        out.append((SECRETARIAT, f"事務局 ({self.secretariat.division})", "Secretariat",
                    [(e.lower(), "member") for e in dict.fromkeys(self.secretariat.members)]))
        out.append((ADVISORS, "有識者", "Advisors",
                    [(e.lower(), "member") for e in dict.fromkeys(self.advisors.members)]))
        return out + self.hub.bodies()


class Directory(_Strict):
    """Everything about who is who, cross-checked: every email named must be a person.

    The file's own `[strategy]`, `[secretariat]`, `[councils.*]` and `[advisors]` are its
    first strategy; `[[strategies]]` adds more (`app/config.py` reads them)."""

    strategy: StrategyIn
    people: list[PersonIn]
    secretariat: SecretariatIn
    councils: dict[Literal["internal", "promotion"], CouncilIn]
    advisors: AdvisorsIn = AdvisorsIn()
    hub: HubIn = HubIn()

    def first_bodies(self) -> BodiesIn:
        return BodiesIn(secretariat=self.secretariat, councils=self.councils, advisors=self.advisors, hub=self.hub)

    def check_people(self, named: list[tuple[str, str]]) -> None:
        emails = [p.email for p in self.people]
        dupes = sorted({e for e in emails if emails.count(e) > 1})
        if dupes:
            raise ValueError(f"people: {', '.join(dupes)} listed more than once")
        known = set(emails)
        unknown = [f"{where}: {email}" for where, email in named if email.lower() not in known]
        if unknown:
            raise ValueError("not in [[people]]: " + "; ".join(unknown))

    @model_validator(mode="after")
    def _cross_check(self) -> Directory:
        self.check_people(self.first_bodies().named(""))
        return self

    def admins(self) -> set[str]:
        """The deployment's admins and every strategy's secretariat."""
        return {p.email for p in self.people if p.admin} | {e.lower() for e in self.secretariat.members}


PERSON_FIELDS = ("name", "name_en", "division", "language", "admin", "digest", "active", "organisation",
                 "organisation_kind")
"""What the configuration sets of a person, and an admin may change on the web."""


@dataclass
class Synced:
    """What a sync did: each strategy's id by code, and what it kept because an admin had
    changed it on the web since the configuration last wrote it ((kind, email or body
    key, field) with the strategy's id for a body)."""

    strategy_ids: dict[str, int]
    kept: list[tuple[str, str, str, int | None]] = field(default_factory=list)


def merged(current: dict[str, Any], configured: dict[str, Any] | None,
           wanted: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The values to write and the fields kept: a field the configuration wrote and nobody
    changed since takes the configuration's new value; one that differs from what the
    configuration last wrote was changed on the web and stays."""
    write, kept = {}, []
    for name, value in wanted.items():
        if current.get(name) == value:
            continue
        if configured is not None and current.get(name) == configured.get(name):
            write[name] = value
        else:
            kept.append(name)
    return write, kept


def _sync_people(conn: Connection, people: list[PersonIn], synced: Synced) -> dict[str, int]:
    """People from the config over what it wrote; those it no longer lists are made
    inactive, unless they were added on the web (no `configured`) or changed there."""
    rows = {r.email: r for r in conn.execute(select(Person.__table__))}  # type: ignore[attr-defined]
    ids: dict[str, int] = {email: r.id for email, r in rows.items()}
    for p in people:
        wanted = p.model_dump() | {"active": True}
        row = rows.get(p.email)
        if row is None:
            ids[p.email] = conn.execute(insert(Person).values(**wanted, configured=wanted)).inserted_primary_key[0]  # type: ignore[index]
            continue
        current = {name: getattr(row, name) for name in PERSON_FIELDS}
        write, kept = merged(current, row.configured, {k: wanted[k] for k in PERSON_FIELDS})
        synced.kept += [("person", p.email, name, None) for name in kept]
        conn.execute(update(Person).where(Person.id == row.id).values(**write, configured=wanted))  # type: ignore[arg-type]
    configured = {p.email for p in people}
    for email, row in rows.items():
        if email in configured or row.configured is None or not row.active:
            continue
        conn.execute(update(Person).where(Person.id == row.id).values(  # type: ignore[arg-type]
            active=False, admin=False, configured=None))
    return ids


def seats_now(conn: Connection, council_id: int) -> list[list[str]]:
    """A body's seats as [email, role], sorted: compared with what the config last wrote."""
    return sorted([e, r] for e, r in conn.execute(
        select(Person.email, Membership.role).join(Membership, Membership.person_id == Person.id)
        .where(Membership.council_id == council_id)))


def _sync_body(conn: Connection, strategy_id: int, body: tuple[str, str, str, list[tuple[str, str]]],
               ids: dict[str, int], synced: Synced) -> None:
    key, name_ja, name_en, seats = body
    wanted = {"name_ja": name_ja, "name_en": name_en, "seats": sorted([e, r] for e, r in seats)}
    row = conn.execute(select(Council.id, Council.name_ja, Council.name_en, Council.configured).where(
        Council.strategy_id == strategy_id, Council.key == key)).first()
    if row is None:
        council_id = conn.execute(insert(Council).values(
            strategy_id=strategy_id, key=key, name_ja=name_ja, name_en=name_en,
            configured=wanted)).inserted_primary_key[0]  # type: ignore[index]
        write = {"seats": wanted["seats"]}
    else:
        council_id = row.id
        current = {"name_ja": row.name_ja, "name_en": row.name_en, "seats": seats_now(conn, row.id)}
        write, kept = merged(current, row.configured, wanted)
        synced.kept += [("body", key, name, strategy_id) for name in kept]
        names = {k: v for k, v in write.items() if k != "seats"}
        conn.execute(update(Council).where(Council.id == council_id).values(**names, configured=wanted))  # type: ignore[arg-type]
    if "seats" in write:
        conn.execute(delete(Membership).where(Membership.council_id == council_id))  # type: ignore[arg-type]
        if write["seats"]:
            conn.execute(insert(Membership), [
                {"council_id": council_id, "person_id": ids[email], "role": role} for email, role in write["seats"]])


STRATEGY_FIELDS = ("name_ja", "name_en", "first_fy", "target_fy", "grades", "report_fields")
"""What the configuration sets of a strategy's row; an approved extension changes target_fy."""


def _sync_strategy(conn: Connection, strategy: StrategyIn, synced: Synced) -> int:
    wanted = {k: getattr(strategy, k) for k in STRATEGY_FIELDS} | {
        "report_fields": [f.model_dump(mode="json") for f in strategy.report_fields]}
    row = conn.execute(select(Strategy.__table__).where(Strategy.code == strategy.code)).first()  # type: ignore[attr-defined]
    if row is None:
        return int(conn.execute(insert(Strategy).values(
            code=strategy.code, configured=wanted, **wanted)).inserted_primary_key[0])  # type: ignore[index]
    write, kept = merged({k: getattr(row, k) for k in STRATEGY_FIELDS}, row.configured, wanted)
    synced.kept += [("strategy", strategy.code, name, row.id) for name in kept]
    conn.execute(update(Strategy).where(Strategy.id == row.id).values(**write, configured=wanted))  # type: ignore[arg-type]
    return int(row.id)


def sync_directory(
    conn: Connection, people: list[PersonIn], strategies: list[tuple[StrategyIn, BodiesIn]]
) -> Synced:
    """Bring people, the strategies and their bodies in line with the config, over what the
    config itself wrote: what an admin changed on the web since is kept and listed."""
    synced = Synced({})
    ids = _sync_people(conn, people, synced)
    for strategy, bodies in strategies:
        strategy_id = _sync_strategy(conn, strategy, synced)
        synced.strategy_ids[strategy.code] = strategy_id
        for body in bodies.bodies():
            _sync_body(conn, int(strategy_id), body, ids, synced)
    return synced
