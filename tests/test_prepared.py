"""`engine.db.Prepared` reads and writes what `Connection.execute` does, on both databases:
each bind converted by its type (a time, JSON, a boolean literal), each result by its
column's type, the rows it touched counted, in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, literal, select, update

from engine import db
from tests.conftest import NOW, Year
from workflows.models import Cycle, Person


def test_prepared_reads_as_sqlalchemy_does(year: Year) -> None:
    people = select(Person.id, Person.email, Person.admin, literal(True).label("yes")).where(
        Person.email == bindparam("email"))
    cycles = select(Cycle.id, Cycle.state, Cycle.flags, Cycle.created_at).where(Cycle.fy == bindparam("fy"))
    with db.reading(year.engine) as conn:
        for email in ("kankyo.admin@city.example.jp", "nourin@city.example.jp", "nobody@example.jp"):
            fast = db.Prepared(people).first(conn, {"email": email})
            slow = conn.execute(people, {"email": email}).mappings().first()
            assert (dict(slow) if slow else None) == fast
        got = db.Prepared(cycles).rows(conn, {"fy": 2026})
        want = [dict(r) for r in conn.execute(cycles, {"fy": 2026}).mappings()]
    assert got == want and len(got) > 5
    assert all(isinstance(r["flags"], list) for r in got)


def test_prepared_writes_in_the_caller_s_transaction(year: Year) -> None:
    moved: dict[str, Any] = {}
    statement = db.Prepared(update(Cycle).where(Cycle.id == bindparam("_id")).values(
        updated_at=bindparam("at", type_=Cycle.__table__.c.updated_at.type),  # type: ignore[attr-defined]
        flags=bindparam("flags", type_=Cycle.__table__.c.flags.type)))  # type: ignore[attr-defined]
    first = year.cycle_id("1-1-2")
    try:
        with db.writing(year.engine) as conn:
            moved["rows"] = statement.write(conn, {"_id": first, "at": NOW, "flags": [{"kind": "late"}]})
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    with db.reading(year.engine) as conn:
        assert conn.execute(select(Cycle.flags).where(Cycle.id == first)).scalar() == []
    with db.writing(year.engine) as conn:
        assert statement.write(conn, {"_id": first, "at": NOW, "flags": [{"kind": "late"}]}) == 1
        assert statement.write(conn, {"_id": -1, "at": NOW, "flags": []}) == 0
    with db.reading(year.engine) as conn:
        flags, at = conn.execute(select(Cycle.flags, Cycle.updated_at).where(Cycle.id == first)).one()
    assert moved["rows"] == 1 and flags == [{"kind": "late"}]
    assert at is not None and at.replace(tzinfo=None) == NOW.replace(tzinfo=None)
