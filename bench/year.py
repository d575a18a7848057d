"""A whole simulated fiscal year: `pdca simulate --actors auto` over 2027 for many actions.

The database is built from the sample `config.toml` (migrated, directory synced) with N
generated active actions, each owned by one person, with one indicator (I1, up, 0 -> 10)
and a FY2026 cycle in do.implementing. Building it is not timed.

Timed: `app.simulate.simulate(pdca, 2027-01-01, 2027-12-31, actors=True)`, the same call
`pdca simulate --actors auto` makes: every day the scheduler's tick, then the simulated
owners and chairs answering what waits for them, each step as a request takes it: its own
write transaction, the cycle looked up by its action's code and year, the person by email,
then `Workflow.fire_in` (`workflows/action_cycle/people.py`). What the simulated people
decide without the database (who is late, which report is returned) is not a request's
and is not counted apart; their daily look at what waits is one query. The year covers
FY2027's plan window (cycles opened, plans submitted, returned, approved, started on
04-01) and FY2026's check and act (checks opened, reports submitted and returned, reviews,
evaluations, decisions, revisions), with every reminder, escalation and council packet the calendar queues on the way.

Reported: seconds (goal: under 60 s on the 2-core machine this was written for) and
the CPU seconds this process used (the machine's speed varies by 15% or more from run to
run; CPU time shows whether a slower run did more work), the
transitions and messages of the replay's totals, the simulated steps refused, and the
final states of FY2026's and FY2027's cycles; the progress of each month (elapsed
seconds) goes to stderr while it runs.

Everything runs in a fresh temporary directory; ./var is never touched. The last line
printed is a JSON object for tooling; there are no timing assertions here.

    python bench/year.py [--n N] [--database URL]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and bench/transitions.py would
# shadow the `transitions` package the engine is built on; drop that entry before importing.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for bench.common

from sqlalchemy import func, insert, make_url, select

from app.bootstrap import Pdca
from app.simulate import simulate
from bench.common import FY, add_actions, database_url, open_database, prepare, settle
from engine import db
from workflows.models import Cycle, Indicator

START, END = date(2027, 1, 1), date(2027, 12, 31)
CREATED = datetime(2026, 4, 1, tzinfo=UTC)
GOAL_S = 60


def build(url: str, n: int) -> Pdca:
    """A database with n actions, each implementing its FY2026 plan."""
    pdca = open_database(url)
    strategy = prepare(pdca)
    plans = [f"計画 {i}" for i in range(n)]
    with db.writing(pdca.engine) as conn:
        actions = add_actions(conn, strategy=strategy, codes=[f"B-{i:06d}" for i in range(n)], plans=plans)
        conn.execute(
            insert(Indicator),
            [
                {"action_id": a, "code": "I1", "name_ja": "指標 1", "direction": "up",
                 "baseline_value": 0.0, "target_value": 10.0}
                for a in actions
            ],
        )
        conn.execute(
            insert(Cycle),
            [
                {"action_id": a, "fy": FY, "state": "do.implementing", "version": 1, "plan": plan,
                 "flags": [], "created_at": CREATED, "updated_at": CREATED}
                for a, plan in zip(actions, plans, strict=True)
            ],
        )
    settle(pdca.engine)
    return pdca


def states(pdca: Pdca, fy: int) -> dict[str, int]:
    with db.reading(pdca.engine) as conn:
        rows = conn.execute(select(Cycle.state, func.count()).where(Cycle.fy == fy).group_by(Cycle.state))
        return {state: count for state, count in sorted(rows.all())}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=10_000, help="actions (default 10000)")
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (emptied first; it must be empty or a "
                        "bench's) or a SQLite file; default: a SQLite file in a temporary directory")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    n = args.n

    with tempfile.TemporaryDirectory(prefix="pdca-bench-") as name:
        url = database_url(args.database, Path(name) / "year.sqlite3")
        pdca = build(url, n)
        try:
            def progress(day: date) -> None:
                if (day + timedelta(days=1)).month != day.month:
                    print(f"  {day:%Y-%m} done at {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)

            gc.collect()
            started, cpu = time.perf_counter(), time.process_time()
            replay = simulate(pdca, START, END, actors=True, progress=progress)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            fy2026, fy2027 = states(pdca, FY), states(pdca, FY + 1)
        finally:
            pdca.close()

    total = replay.totals()
    transitions: Counter[str] = +total.transitions
    messages: Counter[str] = +total.messages
    moved, queued = sum(transitions.values()), sum(messages.values())
    print(f"{n} actions, simulated {START.isoformat()} .. {END.isoformat()} with actors")
    print(f"  transitions {moved}: {', '.join(f'{k} {v}' for k, v in sorted(transitions.items()))}")
    print(f"  messages    {queued}: {', '.join(f'{k} {v}' for k, v in sorted(messages.items()))}")
    print(f"  refused     {total.refused}")
    print(f"  FY{FY} cycles: {fy2026}")
    print(f"  FY{FY + 1} cycles: {fy2027}")
    print(f"year: {seconds:.1f} s, {cpu:.1f} s of CPU in this process   (goal < {GOAL_S} s)")
    print(
        json.dumps(
            {
                "bench": "year",
                "database": make_url(url).get_backend_name(),
                "n": n,
                "seconds": round(seconds, 2),
                "cpu_s": round(cpu, 2),
                "transitions": moved,
                "messages": queued,
                "fy2026_closed": fy2026.get("closed", 0),
                "goal_s": GOAL_S,
            }
        )
    )


if __name__ == "__main__":
    main()
