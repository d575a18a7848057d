"""Several `pdca serve` nodes on one PostgreSQL: exactly one schedules; when its process is
SIGKILLed, or the server drops its lock's connection, another takes over within 5 s, and
the node that lost the lock stops scheduling at once. Real processes, a real server."""

from __future__ import annotations

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
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, select, text

from app.bootstrap import Pdca
from app.mail import delivery
from app.scheduler import LEADER_LOCK
from app.simulate import Month
from engine import db
from engine.outbox import OutboxMessage
from notifications.senders import SmtpSender, SmtpSettings
from tests.conftest import CONFIG, SAMPLE, Year, _empty_pg, settings_for
from tests.smtp_server import SmtpServer, free_port
from workflows.models import Cycle
from workflows.tick import tick

TAKEOVER_SECONDS = 5
LEADING = "scheduling: daily tick"
LOST = "this node lost the scheduler lock"


class Node:
    def __init__(self, workdir: Path, env: dict[str, str], name: str) -> None:
        self.port = free_port()
        self.log = workdir / f"{name}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)], env=env, cwd=workdir,
            stdout=self.log.open("w"), stderr=subprocess.STDOUT)

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


@pytest.fixture
def nodes(pg_url: str, tmp_path: Path) -> Iterator[tuple[list[Node], str]]:
    _empty_pg(pg_url)
    config = CONFIG.read_text(encoding="utf-8").replace('dir = "var/mail"', f'dir = "{tmp_path / "mail"}"')
    (tmp_path / "config.toml").write_text(config, encoding="utf-8")
    env = {**os.environ, "PDCA_CONFIG": str(tmp_path / "config.toml"), "PDCA_DATABASE_URL": pg_url,
           "PDCA_LANG": "en"}
    for args in (["init"], ["import", str(SAMPLE), "--open-fy", "2026"]):
        subprocess.run([sys.executable, "-m", "app.cli", *args], env=env, cwd=tmp_path, check=True,
                       capture_output=True)
    started = [Node(tmp_path, env, f"node{i}") for i in range(3)]
    try:
        yield started, pg_url
    finally:
        for node in started:
            if node.process.poll() is None:
                node.process.send_signal(signal.SIGTERM)
        for node in started:
            try:
                node.process.wait(10)
            except subprocess.TimeoutExpired:
                node.process.kill()


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


def run_month(nodes: list[Any], smtp: SmtpServer, start: date, end: date) -> None:
    """Each day: every node ticks at once; the simulated people act through one node (a
    different one each day); every node drains the outbox at once."""
    settings = SmtpSettings(host="127.0.0.1", port=smtp.port, security="none", timeout=5, connections=2)
    deliveries = [delivery(n.pdca, sender=lambda: SmtpSender(settings)) for n in nodes]
    first = nodes[0]
    with db.reading(first.engine) as conn:
        tenant = first.tenant(conn)
        people = [e.people(first.engine, e.workflow, conn, tenant, start, end=end)
                  for e in first.pdca.registry if e.people is not None]
    zone = ZoneInfo("Asia/Tokyo")
    day = start
    while day <= end:
        at6, at18 = datetime.combine(day, time(6), zone), datetime.combine(day, time(18), zone)

        def tick_on(i: int, at: datetime = at6) -> None:
            with db.writing(nodes[i].engine) as conn:
                tick(conn, nodes[i].pdca.registry, nodes[i].pdca.tenants, now=at)

        assert together(tick_on, len(nodes)) == []
        month = Month()
        for someone in people:
            someone.engine = nodes[day.toordinal() % len(nodes)].engine  # this day's node
            someone.act(day, month)
        assert together(lambda i, at=at18: deliveries[i].drain(at), len(nodes)) == []
        day += timedelta(days=1)


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


def test_three_nodes_over_two_months_send_each_message_once_and_end_as_one_node_does(
    pg_url: str, sqlite_url: str,
) -> None:
    start, end = date(2027, 3, 25), date(2027, 5, 31)  # FY2027 begins, FY2026's check opens, reports come in
    single_smtp, shared_smtp = SmtpServer().start(), SmtpServer().start()
    one = Year(sqlite_url)
    _empty_pg(pg_url)
    three = [Year(pg_url)] + [Year.__new__(Year) for _ in range(2)]
    for node in three[1:]:  # more nodes on the same database: their own engines and pools
        node.pdca, node.fy, node.strategy = Pdca(settings_for(pg_url)), three[0].fy, three[0].strategy
    try:
        run_month([one], single_smtp, start, end)
        run_month(three, shared_smtp, start, end)
        expected_cycles, expected_kinds = ended(one)
        got_cycles, got_kinds = ended(three[0])
        assert got_cycles == expected_cycles
        assert got_kinds == expected_kinds and sum(got_kinds.values()) > 20
        ids = Counter(str(r.message["Message-ID"]) for r in shared_smtp.handler.received)
        assert len(ids) == sum(got_kinds.values()) and max(ids.values()) == 1  # each exactly once
        print(f"{len(ids)} messages, each once; cycles {Counter(c[1] for c in got_cycles)}")
        with db.reading(three[0].engine) as conn:
            assert not conn.execute(select(OutboxMessage.id).where(OutboxMessage.status != "sent")).first()
    finally:
        single_smtp.stop()
        shared_smtp.stop()
        for node in (one, *three):
            node.close()
