"""`engine.db.Prepared` reads and writes what `Connection.execute` does, on both databases:
each bind converted by its type (a time, JSON, a boolean literal), each result by its
column's type, the rows it touched counted, in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, literal, select, update

from engine import db
from tests.conftest import NOW, Year
from workflows.models import Cycle, Indicator, Measurement, Person


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


def test_prepared_reads_numbers_and_writes_many_rows(year: Year) -> None:
    """Float columns need the driver's type code on PostgreSQL, which only a result has;
    `write_many` inserts several rows in one call."""
    indicators = select(Indicator.id, Indicator.code, Indicator.baseline_value, Indicator.target_value).order_by(
        Indicator.id)
    with db.reading(year.engine) as conn:
        got = db.Prepared(indicators).rows(conn, {})
        want = [dict(r) for r in conn.execute(indicators).mappings()]
    assert got == want and any(isinstance(r["target_value"], float) for r in got)
    table = Measurement.__table__  # type: ignore[attr-defined]
    add = db.Prepared(table.insert().values({n: bindparam(n, type_=table.c[n].type)
                                              for n in ("indicator_id", "fy", "value", "reason")}))
    with db.writing(year.engine) as conn:
        add.write_many(conn, [{"indicator_id": got[0]["id"], "fy": 2040, "value": 1.5, "reason": None},
                              {"indicator_id": got[1]["id"], "fy": 2040, "value": None, "reason": "調査なし"}])
        add.write_many(conn, [])
    with db.reading(year.engine) as conn:
        rows = conn.execute(select(Measurement.value, Measurement.reason).where(Measurement.fy == 2040)
                            .order_by(Measurement.indicator_id)).all()
    assert [tuple(r) for r in rows] == [(1.5, None), (None, "調査なし")]


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
