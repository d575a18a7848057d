"""Several `pdca serve` nodes on one PostgreSQL: exactly one schedules; when its process is
SIGKILLed, or the server drops its lock's connection, another takes over within 5 s, and
the node that lost the lock stops scheduling at once. Real processes, a real server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time as clock
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app.scheduler import LEADER_LOCK
from tests.conftest import CONFIG, SAMPLE, _empty_pg
from tests.smtp_server import free_port

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
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = :key"),
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
