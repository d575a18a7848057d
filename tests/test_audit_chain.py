"""The audit trail as a hash chain per strategy: each kind of tampering is found and the row
named, by `engine.chain`, by `pdca audit verify` (in words, exit 1) and against the head a
yearly publication recorded; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from typer.testing import CliRunner

from app.cli import cli
from engine import audit, db
from engine.audit import AuditEvent, audit_table
from publishing.site import render_pages
from tests.conftest import CHAIR, CONFIG, NOW, OWNER, Year
from workflows import audit_trail
from workflows.models import Publication


def walked(year: Year) -> list[dict[str, Any]]:
    """A few steps on two actions, then FY2026 published: the chain has the year's opening,
    the steps, and a publication that recorded its head."""
    year.fire("1-1-2", "submit_plan", OWNER)
    year.fire("1-1-2", "approve_plan", CHAIR)
    year.fire("2-1-1", "submit_plan", OWNER)
    with db.writing(year.engine) as conn:
        year.cycles.options["results"].publish(conn, strategy_code=year.pdca.strategy_code, fy=2026, now=NOW,
                                               hub={}, meetings=())
    year.published = rows(year)  # type: ignore[attr-defined]
    year.fire("2-1-1", "approve_plan", CHAIR)
    return rows(year)


def rows(year: Year) -> list[dict[str, Any]]:
    with db.reading(year.engine) as conn:
        return [dict(r) for r in conn.execute(
            select(audit_table).where(audit_table.c.tenant_id == year.strategy).order_by(audit_table.c.seq)
        ).mappings()]


def problems(year: Year) -> list[tuple[str, int | None]]:
    with db.reading(year.engine) as conn:
        [checked] = audit_trail.check(conn, strategy_code=year.pdca.strategy_code)
    return [(p.kind, p.row_id) for p in checked.verified.problems]


def tamper(year: Year, sql: str, **values: Any) -> None:
    with year.engine.begin() as conn:
        conn.execute(text(sql), values)


def step_row(chain: list[dict[str, Any]], trigger: str, nth: int = 0) -> dict[str, Any]:
    return [r for r in chain if r["trigger"] == trigger][nth]


def test_every_row_takes_the_next_place_in_its_strategy_s_chain(year: Year) -> None:
    chain = walked(year)
    assert [r["seq"] for r in chain] == list(range(1, len(chain) + 1))
    assert [r["id"] for r in chain] == sorted(r["id"] for r in chain)
    assert chain[0]["prev_hash"] == audit.GENESIS
    assert all(r["prev_hash"] == before["hash"] for before, r in pairwise(chain))
    assert all(r["hash"] == audit.link(r["prev_hash"], r) for r in chain)
    assert problems(year) == []


def test_the_publication_records_the_chain_head_and_the_public_report_shows_it(year: Year) -> None:
    chain = walked(year)
    with db.reading(year.engine) as conn:
        content = conn.execute(select(Publication.content)).scalar_one()
    last = year.published[-1]  # type: ignore[attr-defined]
    assert len(chain) > last["seq"]
    assert content["audit_head"] == {"seq": last["seq"], "hash": last["hash"]}
    pages = render_pages(content)  # the public report, in its footer
    assert f"第{content['audit_head']['seq']}行 sha256 {content['audit_head']['hash']}" in pages["index.html"]
    assert f"row {content['audit_head']['seq']}, sha256 {content['audit_head']['hash']}" in pages["en/index.html"]


def test_an_edited_row_is_named(year: Year) -> None:
    row = step_row(walked(year), "approve_plan")
    tamper(year, "UPDATE audit_event SET comment = 'forged' WHERE id = :id", id=row["id"])
    assert problems(year) == [("altered", row["id"])]


def test_a_deleted_row_is_named_by_the_places_missing(year: Year) -> None:
    chain = walked(year)
    gone, after = step_row(chain, "approve_plan"), chain[chain.index(step_row(chain, "approve_plan")) + 1]
    tamper(year, "DELETE FROM audit_event WHERE id = :id", id=gone["id"])
    with db.reading(year.engine) as conn:
        [checked] = audit_trail.check(conn, strategy_code=year.pdca.strategy_code)
    [deleted] = checked.verified.problems
    assert (deleted.kind, deleted.row_id, dict(deleted.detail)) == (
        "deleted", after["id"], {"missing_from": gone["seq"], "missing_to": gone["seq"]})


def test_an_inserted_row_is_named_even_with_a_hash_that_fits(year: Year) -> None:
    chain = walked(year)
    real = step_row(chain, "approve_plan")
    forged = {k: real[k] for k in ("workflow", "instance_id", "tenant_id", "at", "actor", "on_behalf", "trigger",
                                   "from_state", "to_state", "version", "fields", "seq", "prev_hash")}
    forged |= {"comment": "approved twice", "actor": "intruder@example.org"}
    forged["hash"] = audit.link(forged["prev_hash"], forged)
    with year.engine.begin() as conn:
        forged_id = conn.execute(audit_table.insert().values(forged).returning(audit_table.c.id)).scalar_one()
    assert problems(year) == [("inserted", forged_id)]


def test_a_row_written_around_pdca_is_named(year: Year) -> None:
    walked(year)
    with year.engine.begin() as conn:
        raw = conn.execute(audit_table.insert().values(
            workflow="action_cycle", instance_id=1, tenant_id=year.strategy, at=NOW, actor="intruder@example.org",
            trigger="approve_plan", from_state="plan.review", to_state="do.implementing", version=9, fields={},
        ).returning(audit_table.c.id)).scalar_one()
    assert problems(year) == [("inserted", raw)]


def test_reordered_rows_are_named(year: Year) -> None:
    chain = walked(year)
    first, second = step_row(chain, "submit_plan"), step_row(chain, "approve_plan")
    # The history pages list rows by id: swap two rows' ids, their content untouched.
    tamper(year, "UPDATE audit_event SET id = -1 WHERE id = :a", a=first["id"])
    tamper(year, "UPDATE audit_event SET id = :a WHERE id = :b", a=first["id"], b=second["id"])
    tamper(year, "UPDATE audit_event SET id = :b WHERE id = -1", b=second["id"])
    assert problems(year) == [("moved", first["id"])]


def test_a_row_rehashed_to_look_whole_breaks_the_link_of_the_next(year: Year) -> None:
    chain = walked(year)
    row = step_row(chain, "approve_plan")
    changed = row | {"comment": "forged"}
    tamper(year, "UPDATE audit_event SET comment = 'forged', hash = :h WHERE id = :id",
           h=audit.link(row["prev_hash"], changed), id=row["id"])
    assert problems(year) == [("relinked", chain[chain.index(row) + 1]["id"])]


def test_a_chain_rewritten_whole_after_a_publication_is_found_by_the_head_it_recorded(year: Year) -> None:
    chain = walked(year)
    row = step_row(chain, "approve_plan")
    tamper(year, "UPDATE audit_event SET comment = 'forged' WHERE id = :id", id=row["id"])
    prev = row["prev_hash"]
    for r in rows(year)[row["seq"] - 1:]:  # every row from the edit on, relinked and rehashed
        digest = audit.link(prev, r | {"prev_hash": prev})
        with year.engine.begin() as conn:
            conn.execute(update(AuditEvent).where(AuditEvent.id == r["id"])  # type: ignore[arg-type]
                         .values(prev_hash=prev, hash=digest))
        prev = digest
    assert problems(year) == [("anchor", None)]


@pytest.fixture
def verify_cli(year: Year):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    env = {"PDCA_CONFIG": str(CONFIG), "PDCA_DATABASE_URL": year.engine.url.render_as_string(hide_password=False)}

    def invoke(*args: str) -> Any:
        return runner.invoke(cli, list(args), env=env)
    return invoke


def test_pdca_audit_verify_says_whole_or_names_each_row_in_words(year: Year, verify_cli: Any) -> None:
    chain = walked(year)
    whole = verify_cli("audit", "verify")
    assert whole.exit_code == 0, whole.output
    assert f"{len(chain)} audit rows, the chain is whole" in whole.output
    row = step_row(chain, "approve_plan")
    tamper(year, "UPDATE audit_event SET actor = 'intruder@example.org' WHERE id = :id", id=row["id"])
    broken = verify_cli("audit", "verify")
    assert broken.exit_code == 1
    assert (f"row {row['id']} (place {row['seq']}, Approve the plan [action_cycle {row['instance_id']}]): "
            "its content or its place was changed after it was written") in broken.output
    assert "Traceback" not in broken.output
    in_japanese = verify_cli("--lang", "ja", "audit", "verify")
    assert in_japanese.exit_code == 1 and f"記録 {row['id']}（第{row['seq']}行" in in_japanese.output
    as_json = json.loads(verify_cli("audit", "verify", "--json").stdout)
    [strategy] = [c for c in as_json if c["strategy"] == year.pdca.strategy_code]
    assert strategy["intact"] is False
    assert [(p["kind"], p["row"], p["seq"]) for p in strategy["problems"]] == [("altered", row["id"], row["seq"])]


def test_the_migration_seals_rows_from_before_the_chain_in_the_order_they_were_written(year: Year) -> None:
    chain = walked(year)
    tamper(year, "UPDATE audit_event SET seq = NULL, prev_hash = NULL, hash = NULL")
    assert {k for k, _ in problems(year)} == {"inserted", "anchor"}  # no row has a place
    with db.writing(year.engine) as conn:
        sealed = audit.seal_all(conn)  # what migration 0009 does to a database of 0008
        total = conn.execute(select(func.count()).select_from(audit_table)).scalar_one()
    assert sealed == total
    assert rows(year) == chain  # the same places and hashes: sealing depends on nothing but the rows
    assert problems(year) == []
