"""Messages delivered per second: the outbox against the floor of what SMTP itself allows.

The server is aiosmtpd on a free loopback port, run in a separate process (so its work does
not share this process's GIL) with a handler that accepts everything, keeps nothing and
only counts the messages it was given; the count is read from shared memory.

Outbox side: a database built from the sample `config.toml` (migrated, directory synced,
the sample actions imported with their owners, FY2026's cycles opened) gets N queued
`report_reminder` messages, spread round-robin over every (cycle, owner) pair, so both
languages of the sample occur. Each has its own dedupe key (the series step in the key
carries the message's number: there are far more messages than a real series would make),
step "-7" and the report due date. Queueing is not timed. Then
`app.mail.delivery(pdca, sender=SmtpSender(host, port, security="none", connections=C))`
and `.drain(now)` one week before the due date, timed from the call to its return: claiming
in batches, gathering the render contexts, rendering every message once in its reader's
language (jinja2 templates, then an `email` MIME message turned into bytes and stored with
the row), sending over C reused connections and recording each outcome. The server must
have received exactly N messages and every row must be `sent`.

Floor side: the same N messages' stored bytes, with their recipients and the configured
sender, sent with bare `aiosmtplib.SMTP` over one reused connection
(`await smtp.sendmail(sender, [to], raw)` in a loop), to a fresh count on the same server;
timed from connecting to QUIT. No database, no rendering, no bookkeeping, one connection:
what delivery cannot do without. Several connections can beat it (the outbox uses C by
default), so a ratio near or above 1 is possible when little else costs.

A short warm-up (a few messages both ways, not timed, not counted) runs first, so imports
and SQLAlchemy's statement caches are warm; the timed drain still builds its own renderer,
as each drain does. Everything runs in a fresh temporary directory; ./var is never touched.
The last line printed is a JSON object for tooling; there are no timing assertions here.

    python bench/mail.py [--n N] [--connections C] [--database URL] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import multiprocessing
import pstats
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# Run as a script, this file's folder comes first on sys.path and bench/transitions.py would
# shadow the `transitions` package the engine is built on; drop that entry before importing.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for bench.common

import aiosmtplib
from aiosmtpd.smtp import SMTP as SmtpProtocol
from sqlalchemy import func, insert, make_url, select

from app.bootstrap import Pdca
from app.importing import import_actions
from app.mail import delivery
from bench.common import database_url, open_database, settle
from engine import db
from engine.clock import to_storage
from engine.outbox import dedupe_key_text, outbox_table
from notifications.drain import DrainReport
from notifications.senders import SmtpSender, SmtpSettings
from workflows.models import ActionOwner, Cycle, Person
from workflows.tick import open_year

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "app" / "sample" / "actions.csv"
HOST = "127.0.0.1"
FY = 2026
KIND = "report_reminder"
STEP = "-7"
JST = ZoneInfo("Asia/Tokyo")
OPENED = datetime(2026, 4, 1, 9, tzinfo=JST)
WARMUP = 20
SERVER_START_S = 30.0


# -- the server, in its own process ------------------------------------------------------


class CountingHandler:
    """Accepts every message and keeps nothing but the count."""

    def __init__(self, count: Synchronized[int]) -> None:
        self.count = count

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.count.get_lock():
            self.count.value += 1
        return "250 OK"


async def _serve(count: Synchronized[int], ports: Any, stop: Any) -> None:
    loop = asyncio.get_running_loop()
    handler = CountingHandler(count)
    server = await loop.create_server(lambda: SmtpProtocol(handler, hostname="bench.localhost"), HOST, 0)
    ports.put(server.sockets[0].getsockname()[1])
    try:
        await loop.run_in_executor(None, stop.wait)
    finally:
        server.close()
        await server.wait_closed()


def serve(count: Synchronized[int], ports: Any, stop: Any) -> None:
    """The server process: listen on a free loopback port, say which, count until told to stop."""
    asyncio.run(_serve(count, ports, stop))


class Server:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.count: Synchronized[int] = context.Value("q", 0)
        self._ports = context.Queue()
        self._stop = context.Event()
        self._process = context.Process(target=serve, args=(self.count, self._ports, self._stop), daemon=True)
        self.port = 0

    def start(self) -> Server:
        self._process.start()
        self.port = int(self._ports.get(timeout=SERVER_START_S))
        return self

    def received(self) -> int:
        with self.count.get_lock():
            return int(self.count.value)

    def reset(self) -> None:
        with self.count.get_lock():
            self.count.value = 0

    def stop(self) -> None:
        self._stop.set()
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()


# -- outbox ------------------------------------------------------------------------------


def setup(url: str) -> tuple[Pdca, list[tuple[int, str]]]:
    """A migrated database with the sample actions and FY2026's cycles; the (cycle, owner)
    pairs to write to."""
    pdca = open_database(url)
    pdca.migrate()
    strategy = pdca.sync()
    with db.writing(pdca.engine) as conn:
        import_actions(conn, strategy=strategy, path=SAMPLE, now=OPENED)
        open_year(conn, pdca.registry, pdca.tenants.get(conn, strategy), fy=FY, now=OPENED)
        pairs = conn.execute(
            select(Cycle.id, Person.email)
            .join(ActionOwner, ActionOwner.action_id == Cycle.action_id)
            .join(Person, Person.id == ActionOwner.person_id)  # type: ignore[arg-type]
            .where(Cycle.fy == FY, Person.active)
            .order_by(Cycle.id, Person.email)  # type: ignore[arg-type]
        ).all()
    settle(pdca.engine)
    return pdca, [(cycle, email) for cycle, email in pairs]


def queue_messages(pdca: Pdca, pairs: Sequence[tuple[int, str]], n: int, tag: str, now: datetime) -> list[int]:
    """Queue n report reminders over the pairs, round-robin; their outbox ids, in order."""
    due = pdca.calendar.due(FY, "report_due")
    at = to_storage(now)
    with db.reading(pdca.engine) as conn:
        strategy = pdca.tenants.by_code(conn, pdca.strategy_code).id
    rows = []
    for i in range(n):
        cycle, email = pairs[i % len(pairs)]
        rows.append({
            "dedupe_key": dedupe_key_text(KIND, f"cycle:{cycle}", due, f"-{tag}{i}", email),
            "kind": KIND, "recipient": email, "workflow": "action_cycle", "instance_id": cycle, "tenant_id": strategy,
            "payload": {"fy": FY}, "due": due, "step": STEP, "status": "queued", "attempts": 0, "created_at": at,
        })
    with db.writing(pdca.engine) as conn:
        inserted = conn.execute(
            insert(outbox_table).returning(outbox_table.c.id, sort_by_parameter_order=True), rows
        ).scalars()
        return list(inserted)


def drain(pdca: Pdca, port: int, connections: int, now: datetime) -> DrainReport:
    settings = SmtpSettings(host=HOST, port=port, security="none", connections=connections)
    return delivery(pdca, sender=lambda: SmtpSender(settings)).drain(now)


def statuses(pdca: Pdca) -> dict[str, int]:
    with db.reading(pdca.engine) as conn:
        counted = conn.execute(select(outbox_table.c.status, func.count()).group_by(outbox_table.c.status)).all()
    return {status: count for status, count in counted}


def rendered(pdca: Pdca, ids: Sequence[int]) -> list[tuple[str, bytes]]:
    """(recipient, stored bytes) of these messages, in id order."""
    with db.reading(pdca.engine) as conn:
        rows = conn.execute(
            select(outbox_table.c.id, outbox_table.c.recipient, outbox_table.c.raw)
            .where(outbox_table.c.id.in_(list(ids))).order_by(outbox_table.c.id)
        ).all()
    if [r.id for r in rows] != sorted(ids) or any(r.raw is None for r in rows):
        raise SystemExit("some delivered messages have no stored bytes")
    return [(r.recipient, r.raw) for r in rows]


def run_outbox(
    pdca: Pdca, server: Server, ids: Sequence[int], connections: int, now: datetime, profile: cProfile.Profile | None
) -> tuple[DrainReport, float]:
    server.reset()
    gc.collect()
    started = time.perf_counter()
    if profile is not None:
        profile.enable()
    report = drain(pdca, server.port, connections, now)
    if profile is not None:
        profile.disable()
    elapsed = time.perf_counter() - started
    n = len(ids)
    if (report.sent, report.retrying, report.dead, report.folded) != (n, 0, 0, 0):
        raise SystemExit(f"outbox: sent {report.sent}, retrying {report.retrying}, dead {report.dead}, "
                         f"folded {report.folded}; expected {n} sent: {report.errors[:3]}")
    if server.received() != n:
        raise SystemExit(f"outbox: the server received {server.received()} messages, expected {n}")
    left = {k: v for k, v in statuses(pdca).items() if k != "sent"}
    if left:
        raise SystemExit(f"outbox: rows not sent: {left}")
    return report, elapsed


# -- floor -------------------------------------------------------------------------------


async def _send_bare(port: int, sender: str, messages: Sequence[tuple[str, bytes]]) -> None:
    smtp = aiosmtplib.SMTP(hostname=HOST, port=port, start_tls=False, timeout=30)
    await smtp.connect()
    try:
        for to, raw in messages:
            errors, _ = await smtp.sendmail(sender, [to], raw)
            if errors:
                raise SystemExit(f"floor: {to} refused: {errors}")
    finally:
        await smtp.quit()


def run_floor(server: Server, sender: str, messages: Sequence[tuple[str, bytes]]) -> float:
    server.reset()
    gc.collect()
    started = time.perf_counter()
    asyncio.run(_send_bare(server.port, sender, messages))
    elapsed = time.perf_counter() - started
    if server.received() != len(messages):
        raise SystemExit(f"floor: the server received {server.received()} messages, expected {len(messages)}")
    return elapsed


# -- main --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=5000, help="messages per side (default 5000)")
    parser.add_argument("--connections", type=int, default=None,
                        help="SMTP connections the outbox uses (default: [mail] connections in config.toml)")
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (emptied first; it must be empty or a "
                        "bench's) or a SQLite file; default: a SQLite file in a temporary directory")
    parser.add_argument("--profile", action="store_true",
                        help="run the timed drain under cProfile and print its top costs (slows that side)")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    if args.connections is not None and not 1 <= args.connections <= 32:
        parser.error("--connections must be between 1 and 32")

    with tempfile.TemporaryDirectory(prefix="pdca-bench-") as name:
        url = database_url(args.database, Path(name) / "pdca.sqlite3")
        pdca, pairs = setup(url)
        connections = args.connections or pdca.settings.mail.connections
        sender = pdca.settings.mail.from_address
        due = pdca.calendar.due(FY, "report_due")
        now = datetime.combine(due - timedelta(days=7), datetime.min.time(), JST).replace(hour=6, minute=1)
        server = Server().start()
        profile = cProfile.Profile() if args.profile else None
        try:
            warmup = queue_messages(pdca, pairs, WARMUP, "w", now)
            drain(pdca, server.port, connections, now)
            run_floor(server, sender, rendered(pdca, warmup))

            ids = queue_messages(pdca, pairs, args.n, "", now)
            report, outbox_s = run_outbox(pdca, server, ids, connections, now, profile)
            messages = rendered(pdca, ids)
            floor_s = run_floor(server, sender, messages)
        finally:
            server.stop()
            pdca.close()

    n = report.sent
    outbox_per_s, floor_per_s = n / outbox_s, len(messages) / floor_s
    ratio = outbox_per_s / floor_per_s
    size = sum(len(raw) for _, raw in messages) / len(messages)
    owners = len({email for _, email in pairs})
    if profile is not None:
        print("outbox drain under cProfile, top 25 by own time:")
        pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(25)
    print(f"{n} report reminders to {owners} owners of {len({c for c, _ in pairs})} cycles, "
          f"{size:,.0f} bytes each on average")
    print(f"outbox: {outbox_s:.3f} s, {outbox_per_s:,.0f} msg/s ({connections} connections; claim, render, send, "
          f"record){'  [under cProfile]' if profile is not None else ''}")
    print(f"floor:  {floor_s:.3f} s, {floor_per_s:,.0f} msg/s (pre-rendered bytes, bare aiosmtplib, one connection)")
    print(f"outbox/floor: {ratio:.3f}   (goal >= 0.8)")
    print(
        json.dumps(
            {
                "bench": "mail",
                "database": make_url(url).get_backend_name(),
                "n": n,
                "outbox_per_s": round(outbox_per_s, 1),
                "floor_per_s": round(floor_per_s, 1),
                "ratio": round(ratio, 4),
                "connections": connections,
            }
        )
    )


if __name__ == "__main__":
    main()
