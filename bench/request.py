"""Steps per second as a person's request takes them, against the plain SQLAlchemy ORM
doing the same step and the raw driver doing the same writes, all in one run.

Every side walks its own cycles, on one database, through the five steps a year asks of a
person: submit_plan (owner), approve_plan (internal chair; the automatic `start` follows
in the same transaction and queues the owner's notice), open_check (an admin standing in
for the calendar), submit_report (owner: status, content, an indicator's value, another's
reason for having none, a self-grade) and accept_report (chair; the owner is told). One
request is one step, counted once, whatever follows from it.

pdca: the path `pdca fire`, a page's form and the API take, without the process start-up
or HTTP (bench/web.py measures that): in one write transaction per request the strategy by
its code, the cycle by action code and fiscal year, the person by email, then
`Workflow.fire_in`: state, version, role, fields, guards, the store's effects (the report's
measurements, its flags), the notices queued, the audit row on its chain. The API variant
also reads the token and the strategies its person has a part in, in the same
transaction, as `app.web.api` does.

ORM peer: what a developer writes with a plain SQLAlchemy `Session` over the same tables
for the same step: the same three look-ups as ORM queries, the role as a query (owner
row, or a chair's seat in the body), the state and fields checked by hand, the cycle's
columns set on the object, the measurements, the notice and the chained audit row added,
commit. No spec, no guards beyond the state, no flags computed.

Floor: the same writes with the raw driver (stdlib `sqlite3`, or `psycopg` on PostgreSQL)
and hand-written SQL, one transaction per step: the three look-ups as indexed SELECTs, the
role check as one SELECT, the versioned UPDATE, the rows the engine writes (measurements,
the notice, the audit row with its chain link). It leaves out everything a person reads
(words, field checks beyond a float) and every guard: it is what the step costs in the
database and nothing else.

    python bench/request.py [--n STEPS] [--database URL]

The database defaults to a SQLite file in a fresh temporary directory; on PostgreSQL give
an empty database (or one a bench made before: it is emptied). The last line printed is a
JSON object for tooling; there are no timing assertions here.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for bench.common

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.bootstrap import Pdca
from app.web import auth
from app.web.api import Bearer
from bench.common import FY, OWNER, add_actions, database_url, open_database, open_year, prepare, raw_connect, settle
from engine import db
from engine.audit import GENESIS, AuditEvent, link
from engine.clock import to_storage
from engine.outbox import OutboxMessage
from workflows import bodies, service
from workflows.models import Action, ActionOwner, Council, Cycle, Indicator, Measurement, Membership, Person, Strategy

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
CHAIR = "fukushichou@city.example.jp"
ADMIN = "kankyo.admin@city.example.jp"
REPORT = {"status": "implemented", "content": "間伐 4.2ha", "indicators.I1": "41.5",
          "indicators.I2.reason": "集計中", "self_grade": "B"}
STEPS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("submit_plan", OWNER, {"plan": "計画"}),
    ("approve_plan", CHAIR, {}),
    ("open_check", ADMIN, {}),
    ("submit_report", OWNER, REPORT),
    ("accept_report", CHAIR, {}),
)
WARMUP = 5
ROUND = 20
SIDES = ("pdca", "api", "orm", "floor")


def build(pdca: Pdca, cycles: int) -> tuple[str, list[str]]:
    """N actions with two indicators each and their FY2026 cycles open; (strategy code, codes)."""
    strategy = prepare(pdca)
    codes = [f"B-{i:06d}" for i in range(cycles)]
    with db.writing(pdca.engine) as conn:
        actions = add_actions(conn, strategy=strategy, codes=codes, plans=[""] * cycles)
        rows = [{"action_id": a, "code": code, "name_ja": f"指標 {code}", "direction": "up",
                 "baseline_value": 0.0, "target_value": 100.0} for a in actions for code in ("I1", "I2")]
        for start in range(0, len(rows), 5000):
            conn.execute(insert(Indicator), rows[start:start + 5000])
        open_year(pdca, conn, strategy=strategy, fy=FY, now=NOW)
        code = conn.execute(select(Strategy.code).where(Strategy.id == strategy)).scalar_one()
    settle(pdca.engine)
    return code, codes


# -- pdca --------------------------------------------------------------------------------


def pdca_step(pdca: Pdca, strategy: str, code: str, trigger: str, email: str, fields: dict[str, str]) -> None:
    """What `pdca fire CODE TRIGGER --as EMAIL` and a page's form do, in one transaction."""
    with db.writing(pdca.engine) as conn:
        tenant = pdca.tenants.by_code(conn, strategy)
        cycle = pdca.registry.primary.locate(conn, tenant=tenant.id, key=code, fy=FY)
        actor = service.actor_for(conn, email)
        pdca.workflow.fire_in(conn, cycle, trigger, actor, fields, now=NOW)


def api_step(pdca: Pdca, strategy: str, code: str, trigger: str, secret: str, fields: dict[str, str]) -> None:
    """What `POST /api/strategies/S/cycles/CODE/FY/fire` does past HTTP, in one write
    transaction: the token (its use recorded every few minutes), the strategy this
    token's person has a part in, the cycle, the step."""
    with db.writing(pdca.engine) as conn:
        visitor = Bearer(secret, NOW).in_step(conn)
        tenant = pdca.tenants.by_code(conn, strategy)
        assert visitor.admin or tenant.id in bodies.parts_of(conn, visitor.person_id)
        cycle = pdca.registry.primary.locate(conn, tenant=tenant.id, key=code, fy=FY)
        pdca.workflow.fire_in(conn, cycle, trigger, visitor.actor, fields, now=NOW)


# -- ORM peer ----------------------------------------------------------------------------

ORM_MOVES = {"submit_plan": ("plan.drafting", "plan.review"), "approve_plan": ("plan.review", "plan.approved"),
             "open_check": ("do.implementing", "check.self_assessment"),
             "submit_report": ("check.self_assessment", "check.internal_review"),
             "accept_report": ("check.internal_review", "check.council_evaluation")}
ORM_ROLES = {"submit_plan": "owner", "approve_plan": "internal", "open_check": "admin", "submit_report": "owner",
             "accept_report": "internal"}


def _orm_audit(session: Session, tenant: int, cycle: Cycle, trigger: str, source: str, dest: str, actor: str,
               on_behalf: str | None, fields: dict[str, Any]) -> None:
    last = session.execute(select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.tenant_id == tenant)
                           .order_by(AuditEvent.seq.desc()).limit(1)).first()  # type: ignore[union-attr]
    seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
    row = {"seq": seq + 1, "workflow": "action_cycle", "instance_id": cycle.id, "tenant_id": tenant, "at": NOW,
           "actor": actor, "on_behalf": on_behalf, "trigger": trigger, "from_state": source, "to_state": dest,
           "version": cycle.version, "comment": None, "fields": fields}
    session.add(AuditEvent(**row, prev_hash=prev, hash=link(prev, row)))
    session.flush()


def _orm_notice(session: Session, tenant: int, cycle: Cycle, kind: str, recipient: str) -> None:
    session.add(OutboxMessage(dedupe_key=f"{kind}|cycle:{cycle.id}|{NOW.date()}|v{cycle.version}|{recipient}",
                              kind=kind, recipient=recipient, workflow="action_cycle", instance_id=cycle.id,
                              tenant_id=tenant, payload={"cycle_id": cycle.id}, due=NOW.date(),
                              created_at=NOW, next_attempt_at=NOW))


def orm_step(session_for: Callable[[], Session], strategy: str, code: str, trigger: str, email: str,
             fields: dict[str, str]) -> None:
    with session_for() as session, session.begin():
        tenant = session.scalars(select(Strategy).where(Strategy.code == strategy)).one()
        cycle = session.scalars(select(Cycle).join(Action, Action.id == Cycle.action_id).where(
            Action.strategy_id == tenant.id, Action.code == code, Cycle.fy == FY)).one()
        person = session.scalars(select(Person).where(Person.email == email, Person.active)).one()
        role = ORM_ROLES[trigger]
        if role == "owner":
            allowed = session.get(ActionOwner, (cycle.action_id, person.id)) is not None
        elif role == "admin":
            allowed = person.admin
        else:
            allowed = session.scalars(select(Membership).join(Council, Council.id == Membership.council_id).where(
                Council.strategy_id == tenant.id, Council.key == role, Membership.person_id == person.id,
                Membership.role == "chair")).first() is not None
        if not allowed:
            raise PermissionError(f"{email} may not {trigger}")
        source, dest = ORM_MOVES[trigger]
        if cycle.state != source:
            raise ValueError(f"{trigger} is not possible in {cycle.state}")
        on_behalf = "system" if role == "admin" else None
        cycle.state, cycle.version, cycle.updated_at = dest, cycle.version + 1, NOW
        if trigger == "submit_plan":
            if not fields["plan"].strip():
                raise ValueError("plan: required")
            cycle.plan = fields["plan"]
        if trigger == "submit_report":
            if fields["status"] not in ("implemented", "partly_implemented", "not_implemented"):
                raise ValueError("status")
            if fields["self_grade"] not in tenant.grades:
                raise ValueError("self_grade")
            cycle.report_status, cycle.report_content = fields["status"], fields["content"]
            cycle.self_grade = fields["self_grade"]
            indicators = dict(session.execute(select(Indicator.code, Indicator.id)
                                              .where(Indicator.action_id == cycle.action_id)).all())
            session.add(Measurement(indicator_id=indicators["I1"], fy=FY, cycle_id=cycle.id,
                                    value=float(fields["indicators.I1"])))
            session.add(Measurement(indicator_id=indicators["I2"], fy=FY, cycle_id=cycle.id,
                                    reason=fields["indicators.I2.reason"]))
        session.flush()
        audit_fields = {k: v for k, v in fields.items() if k != "comment"}
        _orm_audit(session, tenant.id, cycle, trigger, source, dest, person.email, on_behalf, audit_fields)
        if trigger == "approve_plan":  # the automatic start, and the owner is told
            cycle.state, cycle.version = "do.implementing", cycle.version + 1
            session.flush()
            _orm_audit(session, tenant.id, cycle, "start", "plan.approved", "do.implementing", "system", None, {})
            _orm_notice(session, tenant.id, cycle, "plan_approved", OWNER)
        if trigger == "accept_report":
            _orm_notice(session, tenant.id, cycle, "report_accepted", OWNER)


# -- floor -------------------------------------------------------------------------------


class Floor:
    """The same writes with the raw driver, in its own parameter style (qmark on SQLite, format on psycopg)."""

    def __init__(self, url: str) -> None:
        self.conn, self.dialect = raw_connect(url)
        mark = "?" if self.dialect == "sqlite" else "%s"
        self.q = {name: sql.replace("?", mark) for name, sql in {
            "strategy": "SELECT id FROM strategy WHERE code = ?",
            "cycle": "SELECT cycle.id, cycle.action_id, cycle.state, cycle.version FROM cycle "
                     "JOIN action ON action.id = cycle.action_id WHERE action.strategy_id = ? AND action.code = ? "
                     "AND cycle.fy = ?",
            "person": "SELECT id, admin FROM person WHERE email = ? AND active",
            "owner": "SELECT 1 FROM action_owner WHERE action_id = ? AND person_id = ?",
            "chair": "SELECT 1 FROM membership JOIN council ON council.id = membership.council_id "
                     "WHERE council.strategy_id = ? AND council.key = ? AND membership.person_id = ? "
                     "AND membership.role = 'chair'",
            "move": "UPDATE cycle SET state = ?, version = ?, updated_at = ? WHERE id = ? AND version = ?",
            "plan": "UPDATE cycle SET plan = ? WHERE id = ?",
            "report": "UPDATE cycle SET report_status = ?, report_content = ?, self_grade = ? WHERE id = ?",
            "indicators": "SELECT code, id FROM indicator WHERE action_id = ?",
            "measurement": "INSERT INTO measurement (indicator_id, fy, cycle_id, value, reason) VALUES (?, ?, ?, ?, ?)",
            "head": "SELECT seq, hash FROM audit_event WHERE tenant_id = ? ORDER BY seq DESC LIMIT 1",
            "audit": "INSERT INTO audit_event (workflow, instance_id, tenant_id, at, actor, on_behalf, \"trigger\", "
                     "from_state, to_state, version, comment, fields, seq, prev_hash, hash) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            "notice": "INSERT INTO outbox (dedupe_key, kind, recipient, workflow, instance_id, tenant_id, payload, "
                      "due, step, status, attempts, next_attempt_at, created_at) "
                      "VALUES (?, ?, ?, 'action_cycle', ?, ?, ?, ?, '', 'queued', 0, ?, ?)",
        }.items()}
        self.at = to_storage(NOW) if self.dialect == "postgresql" else to_storage(NOW).strftime("%Y-%m-%d %H:%M:%S.%f")

    def close(self) -> None:
        self.conn.close()

    def _one(self, name: str, *args: Any) -> Any:
        return self.conn.execute(self.q[name], args).fetchone()

    def _audit(self, tenant: int, cycle: int, trigger: str, source: str, dest: str, version: int, actor: str,
               on_behalf: str | None, fields: dict[str, Any]) -> None:
        head = self._one("head", tenant)
        seq, prev = (head[0], head[1]) if head else (0, GENESIS)
        text = json.dumps([seq + 1, "action_cycle", cycle, tenant, NOW.isoformat(), actor, on_behalf, trigger, source,
                           dest, version, None, fields], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(f"{prev}\n{text}".encode()).hexdigest()
        self.conn.execute(self.q["audit"], ("action_cycle", cycle, tenant, self.at, actor, on_behalf, trigger, source,
                                            dest, version, None, json.dumps(fields, ensure_ascii=False), seq + 1,
                                            prev, digest))

    def _notice(self, tenant: int, cycle: int, version: int, kind: str) -> None:
        self.conn.execute(self.q["notice"], (f"{kind}|cycle:{cycle}|{NOW.date()}|v{version}|{OWNER}", kind, OWNER,
                                             cycle, tenant, json.dumps({"cycle_id": cycle}), date(2026, 11, 2),
                                             self.at, self.at))

    def step(self, strategy: str, code: str, trigger: str, email: str, fields: dict[str, str]) -> None:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN")
        try:
            tenant = self._one("strategy", strategy)[0]
            cycle, action, state, version = self._one("cycle", tenant, code, FY)
            person, admin = self._one("person", email)
            role = ORM_ROLES[trigger]
            allowed = (admin if role == "admin" else self._one("owner", action, person) if role == "owner"
                       else self._one("chair", tenant, role, person))
            source, dest = ORM_MOVES[trigger]
            if not allowed or state != source:
                raise RuntimeError(f"{trigger} refused on {code}")
            if conn.execute(self.q["move"], (dest, version + 1, self.at, cycle, version)).rowcount != 1:
                raise RuntimeError(f"{code} changed")
            version += 1
            if trigger == "submit_plan":
                conn.execute(self.q["plan"], (fields["plan"], cycle))
            if trigger == "submit_report":
                conn.execute(self.q["report"], (fields["status"], fields["content"], fields["self_grade"], cycle))
                ids = dict(conn.execute(self.q["indicators"], (action,)).fetchall())
                conn.execute(self.q["measurement"], (ids["I1"], FY, cycle, float(fields["indicators.I1"]), None))
                conn.execute(self.q["measurement"], (ids["I2"], FY, cycle, None, fields["indicators.I2.reason"]))
            self._audit(tenant, cycle, trigger, source, dest, version, email,
                        "system" if role == "admin" else None, fields)
            if trigger == "approve_plan":
                conn.execute(self.q["move"], ("do.implementing", version + 1, self.at, cycle, version))
                version += 1
                self._audit(tenant, cycle, "start", "plan.approved", "do.implementing", version, "system", None, {})
                self._notice(tenant, cycle, version, "plan_approved")
            if trigger == "accept_report":
                self._notice(tenant, cycle, version, "report_accepted")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


# -- the run -----------------------------------------------------------------------------


def walk(codes: list[str], step: Callable[[str, str, str, dict[str, str]], None]) -> int:
    for code in codes:
        for trigger, who, fields in STEPS:
            step(code, trigger, who, fields)
    return len(codes) * len(STEPS)


def timed(slices: dict[str, list[str]], steps: dict[str, Callable[..., None]], profile: str | None
          ) -> dict[str, tuple[int, float]]:
    """(requests, seconds) of each side walking its cycles through the five steps. The sides
    take turns, a round of ROUND cycles each, so that a machine that slows down or speeds up
    during the run weighs on all of them alike; the first few cycles are not timed."""
    totals = {side: [0, 0.0] for side in slices}
    profiler = None
    if profile:
        import cProfile
        profiler = cProfile.Profile()
    for side, codes in slices.items():
        walk(codes[:WARMUP], steps[side])
    gc.collect()
    longest = max(len(codes) for codes in slices.values())
    for start in range(WARMUP, longest, ROUND):
        for side, codes in slices.items():
            chunk = codes[start:start + ROUND]
            if profiler is not None and side == profile:
                profiler.enable()
            began = time.perf_counter()
            totals[side][0] += walk(chunk, steps[side])
            totals[side][1] += time.perf_counter() - began
            if profiler is not None and side == profile:
                profiler.disable()
    if profiler is not None:
        import pstats
        order = os.environ.get("PDCA_PROFILE_SORT", "cumulative")
        pstats.Stats(profiler, stream=sys.stderr).sort_stats(order).print_stats(
            int(os.environ.get("PDCA_PROFILE_LINES", "40")))
    return {side: (int(count), float(seconds)) for side, (count, seconds) in totals.items()}


def run(url: str, n: int, profile: str | None = None) -> dict[str, Any]:
    per_side = -(-n // len(STEPS)) + WARMUP
    pdca = open_database(url)
    try:
        strategy, codes = build(pdca, per_side * len(SIDES))
        slices = {side: codes[i * per_side:(i + 1) * per_side] for i, side in enumerate(SIDES)}
        with db.writing(pdca.engine) as conn:
            secrets = {email: auth.create_api_token(conn, email=email, name="bench", now=NOW)
                       for email in (OWNER, CHAIR, ADMIN)}
        steps: dict[str, Callable[[str, str, str, dict[str, str]], None]] = {
            "pdca": lambda code, trigger, who, fields: pdca_step(pdca, strategy, code, trigger, who, fields),
            "api": lambda code, trigger, who, fields: api_step(pdca, strategy, code, trigger, secrets[who] or "",
                                                               fields),
            "orm": lambda code, trigger, who, fields: orm_step(lambda: Session(pdca.engine), strategy, code, trigger,
                                                               who, fields),
        }
        floor = Floor(url)
        steps["floor"] = lambda code, trigger, who, fields: floor.step(strategy, code, trigger, who, fields)
        try:
            results = timed(slices, steps, profile)
        finally:
            floor.close()
        with db.reading(pdca.engine) as conn:
            ended = conn.execute(select(Cycle.state).join(Action, Action.id == Cycle.action_id)
                                 .where(Action.code.in_([c for s in SIDES for c in slices[s][-1:]]))).scalars().all()  # type: ignore[attr-defined]
        if set(ended) != {"check.council_evaluation"}:
            raise SystemExit(f"a side did not walk its cycles to the end: {ended}")
    finally:
        pdca.close()
    per_s = {side: count / seconds for side, (count, seconds) in results.items()}
    return {"bench": "request", "database": pdca.engine.dialect.name, "n": results["pdca"][0],
            "requests_per_s": round(per_s["pdca"], 1), "api_per_s": round(per_s["api"], 1),
            "orm_per_s": round(per_s["orm"], 1), "floor_per_s": round(per_s["floor"], 1),
            "vs_orm": round(per_s["pdca"] / per_s["orm"], 3), "vs_floor": round(per_s["pdca"] / per_s["floor"], 4),
            "api_vs_orm": round(per_s["api"] / per_s["orm"], 3)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=5000, help="timed requests per side (default 5000)")
    parser.add_argument("--database", default=None, help="SQLite file or PostgreSQL URL (default: a temporary "
                                                         "SQLite file); a PostgreSQL database is emptied first")
    parser.add_argument("--profile", choices=SIDES, default=None, help="profile one side (to stderr)")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    with tempfile.TemporaryDirectory(prefix="pdca-bench-") as name:
        result = run(database_url(args.database, Path(name) / "request.sqlite3"), args.n, args.profile)
    for side, key in (("pdca", "requests_per_s"), ("api", "api_per_s"), ("orm", "orm_per_s"), ("floor", "floor_per_s")):
        print(f"{side:6} {result[key]:9.1f} requests/s")
    print(f"pdca/orm {result['vs_orm']:.2f}x   pdca/floor {result['vs_floor']:.3f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
