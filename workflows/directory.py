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
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Connection, delete, insert, select, update

from workflows.bodies import ADVISORS, SECRETARIAT
from workflows.models import Council, Membership, Person, Strategy

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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

    @model_validator(mode="after")
    def _years_in_order(self) -> StrategyIn:
        if self.target_fy < self.first_fy:
            raise ValueError(f"target_fy {self.target_fy} is before first_fy {self.first_fy}")
        if len(set(self.grades)) != len(self.grades):
            raise ValueError("grades must not repeat")
        unknown = sorted(set(self.grade_meanings) - set(self.grades))
        if unknown:
            raise ValueError(f"grade_meanings: {', '.join(unknown)} is not one of the grades")
        return self


class PersonIn(_Strict):
    email: str
    name: str = Field(min_length=1)
    name_en: str | None = None
    division: str | None = None
    language: Literal["ja", "en"] = "ja"
    admin: bool = False
    digest: bool = False

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


class BodiesIn(_Strict):
    """A strategy's bodies: the secretariat (its admins), the two councils, the advisors."""

    secretariat: SecretariatIn
    councils: dict[Literal["internal", "promotion"], CouncilIn]
    advisors: AdvisorsIn = AdvisorsIn()

    def named(self, where: str) -> list[tuple[str, str]]:
        """(key path, email) of everyone these bodies name, for the cross-check."""
        named = [(f"{where}secretariat.members", e) for e in self.secretariat.members]
        named += [(f"{where}advisors.members", e) for e in self.advisors.members]
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
        return out


class Directory(_Strict):
    """Everything about who is who, cross-checked: every email named must be a person.

    The file's own `[strategy]`, `[secretariat]`, `[councils.*]` and `[advisors]` are its
    first strategy; `[[strategies]]` adds more (`app/config.py` reads them)."""

    strategy: StrategyIn
    people: list[PersonIn]
    secretariat: SecretariatIn
    councils: dict[Literal["internal", "promotion"], CouncilIn]
    advisors: AdvisorsIn = AdvisorsIn()

    def first_bodies(self) -> BodiesIn:
        return BodiesIn(secretariat=self.secretariat, councils=self.councils, advisors=self.advisors)

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


def sync_directory(
    conn: Connection, people: list[PersonIn], strategies: list[tuple[StrategyIn, BodiesIn]]
) -> dict[str, int]:
    """Bring people, the strategies and their bodies in line with the config; return each
    strategy's id by code."""
    ids: dict[str, int] = dict(conn.execute(select(Person.email, Person.id)).all())
    for p in people:
        values = p.model_dump() | {"active": True}
        if p.email in ids:
            conn.execute(update(Person).where(Person.id == ids[p.email]).values(**values))  # type: ignore[arg-type]
        else:
            ids[p.email] = conn.execute(insert(Person).values(**values)).inserted_primary_key[0]  # type: ignore[index]
    configured = {p.email for p in people}
    gone = [pid for email, pid in ids.items() if email not in configured]
    if gone:
        conn.execute(update(Person).where(Person.id.in_(gone)).values(active=False, admin=False))  # type: ignore[union-attr]
    strategy_ids: dict[str, int] = {}
    for strategy, bodies in strategies:
        strategy_id = conn.execute(select(Strategy.id).where(Strategy.code == strategy.code)).scalar()
        values = strategy.model_dump(exclude={"grade_meanings"})
        if strategy_id is None:
            strategy_id = conn.execute(insert(Strategy).values(**values)).inserted_primary_key[0]  # type: ignore[index]
        else:
            conn.execute(update(Strategy).where(Strategy.id == strategy_id).values(**values))  # type: ignore[arg-type]
        strategy_ids[strategy.code] = int(strategy_id)
        for key, name_ja, name_en, seats in bodies.bodies():
            council_id = conn.execute(
                select(Council.id).where(Council.strategy_id == strategy_id, Council.key == key)).scalar()
            names = {"name_ja": name_ja, "name_en": name_en}
            if council_id is None:
                council_id = conn.execute(insert(Council).values(
                    strategy_id=strategy_id, key=key, **names)).inserted_primary_key[0]  # type: ignore[index]
            else:
                conn.execute(update(Council).where(Council.id == council_id).values(**names))  # type: ignore[arg-type]
            conn.execute(delete(Membership).where(Membership.council_id == council_id))  # type: ignore[arg-type]
            if seats:
                conn.execute(insert(Membership), [
                    {"council_id": council_id, "person_id": ids[email], "role": role} for email, role in seats])
    return strategy_ids
