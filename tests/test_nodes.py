"""Several `pdca serve` nodes on one PostgreSQL: exactly one schedules; when its process is
SIGKILLed, or the server drops its lock's connection, another takes over within 5 s, and
the node that lost the lock stops scheduling at once; over two simulated months, with each
day's tick and delivery asked of all three nodes at once, each message is sent once and
every cycle ends where one node ends it. Real processes, a real server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time as clock
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, select, text

from app.mail import delivery
from app.scheduler import LEADER_LOCK
from app.simulate import Month
from app.web.auth import create_api_token
from engine import db
from engine.outbox import OutboxMessage
from notifications.senders import SmtpSender, SmtpSettings
from tests.conftest import ADMIN, CONFIG, SAMPLE, Year, _empty_pg
from tests.smtp_server import SmtpServer, free_port
from workflows.models import Cycle
from workflows.tick import tick

TAKEOVER_SECONDS = 5
LEADING = "scheduling: daily tick"
LOST = "this node lost the scheduler lock"


class Node:
    def __init__(self, workdir: Path, env: dict[str, str], name: str, *args: str) -> None:
        self.port = free_port()
        self.log = workdir / f"{name}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port), *args], env=env, cwd=workdir,
            stdout=self.log.open("w"), stderr=subprocess.STDOUT)

    def clock(self, what: str, token: str, at: datetime) -> dict[str, Any]:
        """Ask this node to tick or to drain the outbox at `at`, as an admin's script does."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/clock/{what}", method="POST",
            data=json.dumps({"at": at.isoformat()}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            assert answer.status == 200
            return dict(json.load(answer))

    def said(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def leads(self) -> bool:
        """Whether it leads now: the last of its words about the scheduler says so."""
        told = [line for line in self.said().splitlines() if LEADING in line or LOST in line or "standing by" in line]
        return bool(told) and LEADING in told[-1]

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/public", timeout=2) as answer:
                return bool(answer.status == 200)
        except (urllib.error.URLError, OSError):
            return False


def wait_for(what: str, check: object, seconds: float) -> float:
    """Seconds until `check()` holds (other processes' doing: polled, not slept through)."""
    start = clock.monotonic()
    while not check():  # type: ignore[operator]
        assert clock.monotonic() - start < seconds, f"{what}: not within {seconds} s"
        clock.sleep(0.05)
    return clock.monotonic() - start


def serve_env(workdir: Path, url: str, smtp_port: int | None = None) -> dict[str, str]:
    """The sample config on `url`; its mail to files, or to the test SMTP server on
    `smtp_port` with links to one public address, as behind a proxy."""
    config = CONFIG.read_text(encoding="utf-8").replace('dir = "var/mail"', f'dir = "{workdir / "mail"}"')
    if smtp_port is not None:
        config = config.replace('backend = "file"', f'backend = "smtp"\nhost = "127.0.0.1"\nport = {smtp_port}\n'
                                'security = "none"\nconnections = 2\nbase_url = "https://pdca.city.example.jp"')
    (workdir / "config.toml").write_text(config, encoding="utf-8")
    return {**os.environ, "PDCA_CONFIG": str(workdir / "config.toml"), "PDCA_DATABASE_URL": url, "PDCA_LANG": "en"}


def stop(nodes: list[Node]) -> None:
    for node in nodes:
        if node.process.poll() is None:
            node.process.send_signal(signal.SIGTERM)
    for node in nodes:
        try:
            node.process.wait(10)
        except subprocess.TimeoutExpired:
            node.process.kill()


@pytest.fixture
def nodes(pg_url: str, tmp_path: Path) -> Iterator[tuple[list[Node], str]]:
    _empty_pg(pg_url)
    env = serve_env(tmp_path, pg_url)
    for args in (["init"], ["import", str(SAMPLE), "--open-fy", "2026"]):
        subprocess.run([sys.executable, "-m", "app.cli", *args], env=env, cwd=tmp_path, check=True,
                       capture_output=True)
    started = [Node(tmp_path, env, f"node{i}") for i in range(3)]
    try:
        yield started, pg_url
    finally:
        stop(started)


def lock_holders(url: str) -> list[int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = :key "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
                {"key": LEADER_LOCK}).scalars())
    finally:
        engine.dispose()


def test_one_of_three_nodes_schedules_and_another_takes_over_within_5_s(nodes: tuple[list[Node], str]) -> None:
    started, url = nodes
    wait_for("three nodes answering", lambda: all(n.answers() for n in started), 60)
    wait_for("a leader", lambda: sum(n.leads() for n in started) == 1, 10)
    clock.sleep(3 * 1.0)  # a few heartbeats and standby tries: still exactly one
    assert sum(n.leads() for n in started) == 1
    assert len(lock_holders(url)) == 1
    assert sum("standing by" in n.said() for n in started) == 2

    leader = next(n for n in started if n.leads())
    leader.process.send_signal(signal.SIGKILL)
    leader.process.wait(10)
    rest = [n for n in started if n is not leader]
    took = wait_for("another leader after the kill", lambda: sum(n.leads() for n in rest) == 1, TAKEOVER_SECONDS)
    assert len(lock_holders(url)) == 1
    assert all(n.answers() for n in rest)

    # The server drops the new leader's lock connection (a restart, a cut): it stops
    # scheduling at once and says so, and one of the two leads again.
    second = next(n for n in rest if n.leads())
    [pid] = lock_holders(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    engine.dispose()
    wait_for("the leader noticing", lambda: LOST in second.said(), TAKEOVER_SECONDS)
    again = wait_for("a leader again", lambda: sum(n.leads() for n in rest) == 1, TAKEOVER_SECONDS)
    assert len(lock_holders(url)) == 1
    assert "Traceback" not in "".join(n.said() for n in started)
    print(f"takeover after SIGKILL: {took:.2f} s; after a dropped lock connection: {again:.2f} s")


def test_pdca_serve_with_two_workers_answers_from_both_with_one_session(database_url: str, tmp_path: Path) -> None:
    """`--workers 2`: two worker processes on one port, the scheduler in the parent only; a
    session made by following the sign-in link is good on whichever worker answers."""
    if database_url.startswith("postgresql"):
        _empty_pg(database_url)
    config = CONFIG.read_text(encoding="utf-8").replace('dir = "var/mail"', f'dir = "{tmp_path / "mail"}"')
    (tmp_path / "config.toml").write_text(config, encoding="utf-8")
    env = {**os.environ, "PDCA_CONFIG": str(tmp_path / "config.toml"), "PDCA_DATABASE_URL": database_url,
           "PDCA_LANG": "en"}
    subprocess.run([sys.executable, "-m", "app.cli", "init"], env=env, cwd=tmp_path, check=True, capture_output=True)
    port = free_port()
    log = tmp_path / "serve.log"
    serve = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--workers", "2", "--port", str(port)],
                             env=env, cwd=tmp_path, stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                with urllib.request.urlopen(f"{base}/public", timeout=2) as answer:
                    return bool(answer.status == 200)
            except (urllib.error.URLError, OSError):
                return False

        wait_for("the workers answering", answers, 60)
        children = Path(f"/proc/{serve.pid}/task/{serve.pid}/children").read_text().split()
        workers = [c for c in children if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()]
        assert len(workers) == 2, children
        link = next(w for w in log.read_text().split() if "/sign-in/" in w)

        class Stay(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: object, **kwargs: object) -> None:
                return None  # keep the 303 and its cookie

        opener = urllib.request.build_opener(Stay)
        try:
            opener.open(link, timeout=5)
        except urllib.error.HTTPError as redirected:
            assert redirected.code == 303
            cookie = redirected.headers["set-cookie"].split(";")[0]
        for _ in range(12):  # new connections: both workers answer some
            request = urllib.request.Request(f"{base}/", headers={"Cookie": cookie})
            with opener.open(request, timeout=5) as page:
                assert page.status == 200 and "/sign-in" not in page.url
        assert log.read_text().count(LEADING) == 1  # one scheduler, in the parent
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(15)
        except subprocess.TimeoutExpired:
            serve.kill()


def run_month(year: Year, smtp: SmtpServer, start: date, end: date) -> None:
    """One node, in this process: each day it ticks at 06:00, the simulated people act, and
    the outbox is delivered at 18:00. What several nodes must end as."""
    settings = SmtpSettings(host="127.0.0.1", port=smtp.port, security="none", timeout=5, connections=2)
    sending = delivery(year.pdca, sender=lambda: SmtpSender(settings))
    people = simulated_people(year, start, end)
    for day, at6, at18 in days(start, end):
        with db.writing(year.engine) as conn:
            tick(conn, year.pdca.registry, year.pdca.tenants, now=at6)
        act(people, day)
        sending.drain(at18)


def run_month_through(nodes: list[Node], year: Year, token: str, start: date, end: date) -> None:
    """Three `pdca serve` nodes: each day every node is asked at once to tick at 06:00
    (`POST /api/clock/tick`), the simulated people act on the database as a page's step
    does, and every node is asked at once to deliver the outbox at 18:00."""
    people = simulated_people(year, start, end)
    for day, at6, at18 in days(start, end):
        assert together(lambda i, at=at6: nodes[i].clock("tick", token, at), len(nodes)) == []
        act(people, day)
        assert together(lambda i, at=at18: nodes[i].clock("drain", token, at), len(nodes)) == []


def simulated_people(year: Year, start: date, end: date) -> list[Any]:
    with db.reading(year.engine) as conn:
        tenant = year.tenant(conn)
        return [e.people(year.engine, e.workflow, conn, tenant, start, end=end)
                for e in year.pdca.registry if e.people is not None]


def days(start: date, end: date) -> Iterator[tuple[date, datetime, datetime]]:
    zone = ZoneInfo("Asia/Tokyo")
    day = start
    while day <= end:
        yield day, datetime.combine(day, time(6), zone), datetime.combine(day, time(18), zone)
        day += timedelta(days=1)


def act(people: list[Any], day: date) -> None:
    month = Month()
    for someone in people:
        someone.act(day, month)


def together(work: Callable[[int], object], nodes: int) -> list[BaseException]:
    """`work(i)` on every node at once; what any of them would have died of."""
    failures: list[BaseException] = []

    def run(i: int) -> None:
        try:
            work(i)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(nodes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return failures


def ended(year: Any) -> tuple[list[tuple[int, str, int]], Counter[str]]:
    with db.reading(year.engine) as conn:
        cycles = [tuple(r) for r in conn.execute(select(Cycle.id, Cycle.state, Cycle.version).order_by(Cycle.id))]
        kinds = Counter(conn.execute(select(OutboxMessage.kind).where(OutboxMessage.status == "sent")).scalars())
    return cycles, kinds  # type: ignore[return-value]


def test_three_serve_nodes_over_two_months_send_each_message_once_and_end_as_one_node_does(
    pg_url: str, sqlite_url: str, tmp_path: Path,
) -> None:
    """Ticks and deliveries driven through three `pdca serve` processes at once, each day,
    against one in-process node on SQLite doing the same days."""
    start, end = date(2027, 3, 25), date(2027, 5, 31)  # FY2027 begins, FY2026's check opens, reports come in
    single_smtp, shared_smtp = SmtpServer().start(), SmtpServer().start()
    one = Year(sqlite_url)
    _empty_pg(pg_url)
    shared = Year(pg_url)
    with db.writing(shared.engine) as conn:
        secret = create_api_token(conn, email=ADMIN, name="clock", now=datetime.now(UTC))
    assert secret
    env = serve_env(tmp_path, pg_url, shared_smtp.port)
    three = [Node(tmp_path, env, f"node{i}", "--no-scheduler") for i in range(3)]
    try:
        for node in three:
            wait_for("a node answers", node.answers, 30)
        run_month(one, single_smtp, start, end)
        run_month_through(three, shared, secret, start, end)
        expected_cycles, expected_kinds = ended(one)
        got_cycles, got_kinds = ended(shared)
        assert got_cycles == expected_cycles
        assert got_kinds == expected_kinds and sum(got_kinds.values()) > 20
        ids = Counter(str(r.message["Message-ID"]) for r in shared_smtp.handler.received)
        assert len(ids) == sum(got_kinds.values()) and max(ids.values()) == 1  # each exactly once
        print(f"{len(ids)} messages, each once; cycles {Counter(c[1] for c in got_cycles)}")
        with db.reading(shared.engine) as conn:
            assert not conn.execute(select(OutboxMessage.id).where(OutboxMessage.status != "sent")).first()
        assert all("Traceback" not in node.said() for node in three)
    finally:
        stop(three)
        single_smtp.stop()
        shared_smtp.stop()
        for year in (one, shared):
            year.close()
