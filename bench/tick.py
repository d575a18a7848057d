"""One tick over many actions: the set-based clock against a plain Python loop over ORM objects.

The database is built from the sample `config.toml` (migrated, directory synced) with N
generated active actions, each owned by one person, as it stands on the morning measured:
each action has a FY2026 cycle, the states going round-robin over every state of the
action cycle, and the FY2027 cycle the plan window opened in January (one in ten plans
still not approved, the rest implementing). Building it is not timed. The file is then
copied, so each measurement starts from an identical fresh database.

The tick runs at 06:00 on 2027-04-09 (Asia/Tokyo), the day FY2026's check opens, when much
happens at once. What `workflows.tick.tick` decides to do there, and the loop does too:
  - open FY2027's cycle for any active action without one (none here: the plan window did
    that in January; `--fresh-year` leaves them out, the worst case of a first tick after a
    large import, when every one is opened with its audit row);
  - FY2027 began on 04-01, so on the escalation series' +7 day the internal chair and the
    secretariat get one message each listing every plan still not approved;
  - open FY2026's check: every do.implementing cycle moves to check.self_assessment
    (version + 1, check_opened_at, updated_at, an audit row each);
  - ask for reports: one outbox message per cycle now in check.self_assessment per owner,
    under its dedupe key, unless that key is queued already.

Engine side: `tick(conn, workflow, calendar, strategy=..., now=...)` inside `db.writing`,
timed from opening the transaction to its commit. Its peak memory is measured on another
copy with `tracemalloc` (peak of Python allocations during the tick only; SQLite's own
memory is not traced, and tracing slows the run, so it is never the timed one), at N and
at N/10: memory that does not grow with the number of actions shows as two similar peaks.

Loop side, the baseline: the same work as a straightforward ORM program would do it, in one
sqlmodel `Session` on another copy: load the active actions, their owners (one query) and
the council seats as ORM objects; add a `Cycle` and an `AuditEvent` per action without a
FY2027 cycle; add the escalation messages and their `OutboxItem` rows; load the FY2026
cycles, move each do.implementing one in Python and add its `AuditEvent`; add an
`OutboxMessage` per owner of each cycle in check.self_assessment with the dedupe key built
in Python, skipping keys already present (read into a set first); commit. It is generous
to the loop in one way: owners are looked up in one query, not one per cycle. Both results
are compared (cycles by year and state, audit rows by trigger, messages by kind, message
items), so the ratio compares equal work.

Everything runs in one process in a fresh temporary directory; ./var is never touched. The
last line printed is a JSON object for tooling; there are no timing assertions here.

    python bench/tick.py [--n N] [--fresh-year] [--database URL]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# Run as a script, this file's folder comes first on sys.path and bench/transitions.py would
# shadow the `transitions` package the engine is built on; drop that entry before importing.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for bench.common

from sqlalchemy import func, insert, make_url
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from app.bootstrap import Pdca
from app.config import load_settings
from bench.common import (
    CHUNK,
    CONFIG,
    FY,
    add_actions,
    copy_database,
    database_url,
    drop_copy,
    open_database,
    prepare,
    settle,
)
from engine import db
from engine.audit import AuditEvent
from engine.calendar import repeating_step
from engine.clock import to_storage
from engine.outbox import OutboxItem, OutboxMessage
from workflows.action_cycle import ACTION_CYCLE
from workflows.bodies import SECRETARIAT
from workflows.models import Action, ActionOwner, Council, Cycle, Membership, Person, StrategyProcess
from workflows.tick import TickReport, tick

NOW = datetime(2027, 4, 9, 6, tzinfo=ZoneInfo("Asia/Tokyo"))
"""FY2026's check opens (04-10 is a Saturday); FY2027 began a week and a day ago."""
CREATED = datetime(2026, 4, 1, tzinfo=UTC)
STATES = tuple(s.name for s in ACTION_CYCLE.states)
UNAPPROVED = ("plan.drafting", "plan.review")
BYTES_PER_MB = 1024 * 1024


def _pdca(url: str) -> Pdca:
    return Pdca(load_settings(CONFIG, env={"PDCA_DATABASE_URL": url}))


def next_year_state(i: int) -> str:
    return UNAPPROVED[i % 20] if i % 20 < len(UNAPPROVED) else "do.implementing"


def build(url: str, n: int, *, fresh_year: bool = False) -> int:
    """A database (emptied first) with n actions, their FY2026 cycles and (unless
    `fresh_year`) their FY2027 cycles; returns the strategy id."""
    pdca = open_database(url)
    try:
        strategy = prepare(pdca)
        with db.writing(pdca.engine) as conn:
            # A running deployment's strategy has begun its own process (the first tick did
            # it, once): the morning measured is an ordinary one of the yearly cycle.
            conn.execute(insert(StrategyProcess).values(state="active", version=1, tenant_id=strategy,
                                                        title="bench", updated_at=CREATED))
            action_ids = add_actions(conn, strategy=strategy, codes=[f"B-{i:06d}" for i in range(n)],
                                     plans=[f"計画 {i}" for i in range(n)])
            years = [FY] if fresh_year else [FY, FY + 1]
            for fy in years:
                state_of = (lambda i: STATES[i % len(STATES)]) if fy == FY else next_year_state
                for start in range(0, len(action_ids), CHUNK):
                    conn.execute(insert(Cycle), [
                        {"action_id": a, "fy": fy, "state": state_of(i), "version": 1, "plan": f"計画 {i}",
                         "flags": [], "created_at": CREATED, "updated_at": CREATED}
                        for i, a in enumerate(action_ids[start:start + CHUNK], start=start)
                    ])
        settle(pdca.engine)
    finally:
        pdca.close()
    return strategy


@contextmanager
def copy(template: str, name: str) -> Iterator[Pdca]:
    """A Pdca on a fresh copy of the template database, removed afterwards."""
    url = copy_database(template, name)
    pdca = _pdca(url)
    try:
        yield pdca
    finally:
        pdca.close()
        drop_copy(url)


# -- engine ------------------------------------------------------------------------------


def run_tick(pdca: Pdca, strategy: int) -> tuple[TickReport, float]:
    gc.collect()
    started = time.perf_counter()
    with db.writing(pdca.engine) as conn:
        report = tick(conn, pdca.registry, pdca.tenants, strategy=strategy, now=NOW)
    return report, time.perf_counter() - started


def tick_peak_mb(pdca: Pdca, strategy: int) -> float:
    """Peak traced memory of one tick, in MiB, counted from the tick's start."""
    gc.collect()
    tracemalloc.start()
    try:
        with db.writing(pdca.engine) as conn:
            tick(conn, pdca.registry, pdca.tenants, strategy=strategy, now=NOW)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / BYTES_PER_MB


# -- loop --------------------------------------------------------------------------------


def _escalated(session: Session) -> dict[int, str]:
    """Who gets the plan escalation: the internal chair (the vice chair while the chair is
    away) and the secretariat, as the tick chooses them."""
    seats = session.exec(
        select(Membership, Council, Person)
        .join(Council, Council.id == Membership.council_id)  # type: ignore[arg-type]
        .join(Person, Person.id == Membership.person_id)  # type: ignore[arg-type]
    ).all()
    chair_away = {c.key for m, c, p in seats if m.role == "chair" and p.absent}
    chosen: dict[int, str] = {}
    for m, c, p in seats:
        if not p.active:
            continue
        chair = c.key == "internal" and not p.absent and (
            m.role == "chair" or (m.role == "vice_chair" and c.key in chair_away)
        )
        if chair or c.key == SECRETARIAT:
            chosen[p.id] = p.email  # type: ignore[index]
    return chosen


def run_loop(pdca: Pdca, strategy: int) -> tuple[Counter[str], Counter[str], float]:
    """The tick's work at NOW written as a plain loop over ORM objects: (transitions,
    messages, seconds)."""
    cal = pdca.calendar
    gc.collect()
    started = time.perf_counter()
    at = to_storage(NOW)
    today = cal.today(NOW)
    following = FY + 1
    year_start, report_due = cal.due(FY, "year_start"), cal.due(FY, "report_due")
    escalation_step = repeating_step(today, year_start, cal.settings.repeat_days, until=cal.due(FY, "publication"))
    transitions: Counter[str] = Counter()
    messages: Counter[str] = Counter()

    def audit(cycle: Cycle, trigger: str, from_state: str, fields: dict[str, Any]) -> AuditEvent:
        return AuditEvent(workflow=ACTION_CYCLE.name, instance_id=cycle.id, tenant_id=strategy, at=at, actor="system",
                          trigger=trigger, from_state=from_state, to_state=cycle.state, version=cycle.version,
                          fields=fields)

    def message(kind: str, key: str, recipient: str, instance: int | None, fy: int, due: Any, step: str) -> Any:
        return OutboxMessage(dedupe_key=key, kind=kind, recipient=recipient, workflow=ACTION_CYCLE.name,
                             instance_id=instance, tenant_id=strategy, payload={"fy": fy}, due=due, step=step,
                             status="queued", attempts=0, created_at=at)

    with Session(pdca.engine) as session:
        actions = session.exec(select(Action).where(Action.strategy_id == strategy, Action.status == "active")).all()
        active = {a.id for a in actions}
        owners: dict[int, list[Person]] = defaultdict(list)
        for link, person in session.exec(
            select(ActionOwner, Person).join(Person, Person.id == ActionOwner.person_id)  # type: ignore[arg-type]
        ):
            if person.active:
                owners[link.action_id].append(person)
        queued = set(session.exec(select(OutboxMessage.dedupe_key)))

        # The following year's cycles, for actions that have none.
        has_next = set(session.exec(select(Cycle.action_id).where(Cycle.fy == following)))
        opened = [
            Cycle(action_id=a.id, fy=following, state=ACTION_CYCLE.initial, version=1, plan=a.plan, flags=[],
                  created_at=at, updated_at=at)
            for a in actions if a.id not in has_next
        ]
        session.add_all(opened)
        session.flush()
        for cycle in opened:
            session.add(audit(cycle, "open", "", {}))
        transitions["open"] += len(opened)

        # Plans not approved after the year began: one message per person, listing them.
        unapproved = [
            c for c in session.exec(select(Cycle).where(Cycle.fy == following)).all()
            if c.state in UNAPPROVED and c.action_id in active
        ]
        if escalation_step and unapproved:
            for person_id, email in sorted(_escalated(session).items()):
                key = f"plan_escalation|person:{person_id}|{year_start.isoformat()}|{escalation_step}|{email}"
                if key in queued:
                    continue
                queued.add(key)
                sent = message("plan_escalation", key, email, None, following, year_start, escalation_step)
                session.add(sent)
                session.flush()
                session.add_all(OutboxItem(outbox_id=sent.id, instance_id=c.id) for c in unapproved)
                messages["plan_escalation"] += 1

        # This year's check opens; owners are asked for their reports.
        cycles = [c for c in session.exec(select(Cycle).where(Cycle.fy == FY)).all() if c.action_id in active]
        for cycle in cycles:
            if cycle.state == "do.implementing":
                cycle.state = "check.self_assessment"
                cycle.version += 1
                cycle.check_opened_at = at
                cycle.updated_at = at
                session.add(audit(cycle, "open_check", "do.implementing", {}))
                transitions["open_check"] += 1
        for cycle in cycles:
            if cycle.state != "check.self_assessment":
                continue
            for person in owners[cycle.action_id]:
                key = f"report_requested|cycle:{cycle.id}|{report_due.isoformat()}|open|{person.email}"
                if key in queued:
                    continue
                queued.add(key)
                session.add(message("report_requested", key, person.email, cycle.id, FY, report_due, "open"))
                messages["report_requested"] += 1
        session.commit()
    return transitions, messages, time.perf_counter() - started


def outcome(pdca: Pdca) -> dict[str, Any]:
    """What a database holds after the work, in counts, to check both sides did the same."""
    with db.reading(pdca.engine) as conn:
        def counts(*columns: Any) -> list[tuple[Any, ...]]:
            query = core_select(*columns, func.count()).group_by(*columns).order_by(*columns)
            return [tuple(row) for row in conn.execute(query)]

        return {
            "cycles": counts(Cycle.fy, Cycle.state),
            "audit": counts(AuditEvent.trigger, AuditEvent.version),
            "outbox": counts(OutboxMessage.kind, OutboxMessage.step, OutboxMessage.recipient),
            "items": conn.execute(core_select(func.count()).select_from(OutboxItem)).scalar(),
        }


# -- main --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=100_000, help="actions (default 100000)")
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (emptied first; it must be empty or a "
                        "bench's; copies are made from it as a template, and NAME_small beside it) or a SQLite "
                        "file; default: SQLite files in a temporary directory")
    parser.add_argument("--fresh-year", action="store_true",
                        help="no FY2027 cycles yet: the tick opens them all (a first tick after a large import)")
    args = parser.parse_args(argv)
    if args.n < 10:
        parser.error("--n must be at least 10")
    n, small_n = args.n, args.n // 10

    with tempfile.TemporaryDirectory(prefix="pdca-bench-") as name:
        tmp = Path(name)
        full = database_url(args.database, tmp / "full.sqlite3")
        dialect = make_url(full).get_backend_name()
        small = database_url(None, tmp / "small.sqlite3") if dialect == "sqlite" else (
            make_url(full).set(database=f"{make_url(full).database}_small").render_as_string(hide_password=False))
        small_strategy = build(small, small_n, fresh_year=args.fresh_year)
        strategy = build(full, n, fresh_year=args.fresh_year)

        with copy(small, "memory") as pdca:
            small_peak = tick_peak_mb(pdca, small_strategy)
        with copy(full, "tick") as pdca:
            report, tick_s = run_tick(pdca, strategy)
            tick_outcome = outcome(pdca)
        with copy(full, "memory") as pdca:
            peak = tick_peak_mb(pdca, strategy)
        with copy(full, "loop") as pdca:
            loop_transitions, loop_messages, loop_s = run_loop(pdca, strategy)
            loop_outcome = outcome(pdca)
        if dialect != "sqlite":
            drop_copy(small)

    transitions, messages = +report.transitions, +report.messages
    if (transitions, messages) != (+loop_transitions, +loop_messages) or tick_outcome != loop_outcome:
        raise SystemExit(
            f"the loop did different work: tick {dict(transitions)} {dict(messages)}, "
            f"loop {dict(loop_transitions)} {dict(loop_messages)}"
        )
    moved, queued = sum(transitions.values()), sum(messages.values())
    print(f"{n} actions, tick at {NOW.isoformat()}")
    print(f"  transitions {moved}: {', '.join(f'{k} {v}' for k, v in sorted(transitions.items()))}")
    print(f"  messages    {queued}: {', '.join(f'{k} {v}' for k, v in sorted(messages.items()))}"
          f" (+{tick_outcome['items']} listed items)")
    print(f"tick: {tick_s:.3f} s   (goal < 0.5 s)")
    print(f"loop: {loop_s:.3f} s   (same outcome, checked)")
    print(f"tick is {loop_s / tick_s:.1f}x faster than the loop   (goal >= 20x)")
    print(f"tick peak memory: {peak:.2f} MiB at n={n}, {small_peak:.2f} MiB at n={small_n}")
    print(
        json.dumps(
            {
                "bench": "tick",
                "database": dialect,
                "n": n,
                "tick_s": round(tick_s, 4),
                "loop_s": round(loop_s, 4),
                "speedup": round(loop_s / tick_s, 2),
                "tick_peak_mb": round(peak, 3),
                "tick_peak_mb_at_n_10": round(small_peak, 3),
                "transitions": moved,
                "messages": queued,
            }
        )
    )


if __name__ == "__main__":
    main()
