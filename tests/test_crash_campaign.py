"""A crash campaign: a simulated year and a half, with simulated people and mail delivered
to a real SMTP server, run as `pdca simulate` in a subprocess and SIGKILLed at random
points (some while a message is on the wire, its reply not yet sent), resumed each time
from the day it had reached. Then: SQLite's integrity check passes, the audit chain is
whole, every cycle's state and version is its last audit row's, the states and the audit
are those of the same run never killed, every message was delivered under the Message-ID
the outbox recorded, and the extra copies are at most one per kill and SMTP connection
(the message whose reply was lost): with `[mail] connections = 1`, one per kill.

On SQLite, the deployment a single machine runs (the harness reads the file while the run
writes it); several nodes on PostgreSQL are tests/test_nodes.py's. A handful of kills by
default; `PDCA_CRASH_KILLS=40` for the full campaign and `PDCA_CRASH_SEED` to replay one
(the seed is printed when it fails)."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import CONFIG, SAMPLE
from tests.smtp_server import Handler, Received, SmtpServer

KILLS = int(os.environ.get("PDCA_CRASH_KILLS", "5"))
SEED = int(os.environ.get("PDCA_CRASH_SEED", "20261207"))
START, END = date(2026, 4, 1), date(2027, 8, 31)
ZONE = ZoneInfo("Asia/Tokyo")
MAX_ATTEMPTS = 50
"""More than the kills: a message on the wire at `max_attempts` deaths of its sender is given
up as poison (tests/test_mail.py holds that), and kills that land in a drain find the same
message first on the wire day after day; here every message must arrive."""
PDCA = [sys.executable, "-m", "app.cli"]
ROOT = Path(__file__).resolve().parent.parent


class KillingHandler(Handler):
    """Counts DATA commands; when told, SIGKILLs the sender while its message is on the
    wire: received here, its 250 never sent."""

    def __init__(self) -> None:
        super().__init__()
        self.kill_at: int | None = None
        self.victim: subprocess.Popen[bytes] | None = None
        self.datas = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.datas += 1  # over the whole campaign
            victim = self.victim if self.kill_at is not None and self.datas >= self.kill_at else None
            if victim is not None:  # once: the other connections' messages then find no one to kill
                self.victim = None
        if victim is not None:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
            victim.send_signal(signal.SIGKILL)  # the message is here; its sender never hears so
            victim.wait()
            server.transport.abort()
            return "421 gone"
        return await super().handle_DATA(server, session, envelope)


def setup_city(workdir: Path, port: int, connections: int) -> dict[str, str]:
    """The sample config with its mail sent to the test server, a database made and the
    sample actions imported with FY2026 open."""
    workdir.mkdir(parents=True)
    config = CONFIG.read_text(encoding="utf-8")
    head, _, rest = config.partition("[mail]")
    _, _, tail = rest.partition("\n[")
    config = (head + f'[mail]\nbackend = "smtp"\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
              'from_address = "biodiversity@city.example.jp"\nfirst_retry_seconds = 60\n'
              f'connections = {connections}\nmax_attempts = {MAX_ATTEMPTS}\n\n[' + tail)
    (workdir / "config.toml").write_text(config, encoding="utf-8")
    env = {**os.environ, "PDCA_CONFIG": str(workdir / "config.toml"), "PYTHONPATH": str(ROOT),
           "PDCA_DATABASE_URL": f"sqlite:///{workdir / 'pdca.sqlite3'}", "PDCA_LANG": "en"}
    for args in (["init"], ["import", str(SAMPLE), "--open-fy", "2026"]):
        subprocess.run([*PDCA, *args], env=env, cwd=workdir, check=True, capture_output=True)
    return env


def setup_rows(workdir: Path) -> int:
    """The audit rows the setup wrote (the import and the year's opening, at the real time)."""
    with sqlite3.connect(workdir / "pdca.sqlite3") as conn:
        return int(conn.execute("SELECT max(id) FROM audit_event").fetchone()[0])


def reached(workdir: Path, setup: int) -> date:
    """The day a killed run had reached: that of its newest audit row (the day is replayed
    whole; the tick and the simulated people find done what was done)."""
    with sqlite3.connect(workdir / "pdca.sqlite3") as conn:
        newest = conn.execute("SELECT max(at) FROM audit_event WHERE id > ?", (setup,)).fetchone()[0]
    if newest is None:
        return START
    moment = datetime.fromisoformat(newest)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))
    return max(START, moment.astimezone(ZONE).date())


def simulate(env: dict[str, str], workdir: Path, start: date) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*PDCA, "simulate", "--from", start.isoformat(), "--to", END.isoformat(),
                             "--actors", "auto", "--send"], env=env, cwd=workdir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill_at_row(run: subprocess.Popen[bytes], workdir: Path, row: int) -> None:
    """SIGKILL the run once the audit has reached `row` (read as another process would)."""
    conn = sqlite3.connect(f"file:{workdir / 'pdca.sqlite3'}?mode=ro", uri=True)
    try:
        while run.poll() is None:
            if (conn.execute("SELECT max(id) FROM audit_event").fetchone()[0] or 0) >= row:
                run.send_signal(signal.SIGKILL)  # Popen's: nothing if it has just ended
                return
            threading.Event().wait(0.01)  # waiting on another process, not setting the time
    finally:
        conn.close()


def finish(env: dict[str, str], workdir: Path) -> None:
    """Deliver what a kill on the last day left claimed (its lease runs out by the next day)."""
    at = datetime.combine(END + timedelta(days=1), datetime.min.time(), ZONE).replace(hour=18)
    subprocess.run([*PDCA, "outbox", "send", "--at", at.isoformat()], env=env, cwd=workdir, check=True,
                   capture_output=True)


def outcome(workdir: Path, setup: int) -> dict[str, Any]:
    """What a run left; the simulation's audit rows whole, the setup's without their time."""
    with sqlite3.connect(workdir / "pdca.sqlite3") as conn:
        return {
            "integrity": conn.execute("PRAGMA integrity_check").fetchone()[0],
            "cycles": conn.execute("SELECT id, state, version FROM cycle ORDER BY id").fetchall(),
            "audit": conn.execute(
                "SELECT workflow, instance_id, tenant_id, at, actor, on_behalf, trigger, from_state, to_state, "
                "version, comment, fields FROM audit_event WHERE id > ? ORDER BY workflow, instance_id, version, id",
                (setup,)).fetchall(),
            "setup": conn.execute("SELECT workflow, instance_id, trigger, to_state, version FROM audit_event "
                                  "WHERE id <= ? ORDER BY id", (setup,)).fetchall(),
            "behind_their_audit": conn.execute(
                "SELECT c.id FROM cycle c JOIN audit_event a ON a.workflow = 'action_cycle' AND a.instance_id = c.id "
                "AND a.id = (SELECT max(id) FROM audit_event b WHERE b.workflow = 'action_cycle' "
                "AND b.instance_id = c.id) WHERE a.to_state != c.state OR a.version != c.version").fetchall(),
            "outbox": Counter(r for r in conn.execute("SELECT status FROM outbox")),
            "message_ids": {r[0] for r in conn.execute("SELECT message_id FROM outbox WHERE status = 'sent'")},
        }


def first_difference(got: list[Any], expected: list[Any]) -> tuple[Any, Any]:
    """The first rows where two audits part, each with the next row after it."""
    at = next((i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b), min(len(got), len(expected)))
    return got[at:at + 2], expected[at:at + 2]


def delivered(handler: Handler) -> Counter[str]:
    return Counter(str(r.message["Message-ID"]) for r in handler.received)


@pytest.fixture
def smtp() -> Any:
    server = SmtpServer()
    server.handler = KillingHandler()
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("connections", [1, 4])
def test_a_simulated_year_killed_at_random_loses_nothing_and_doubles_at_most_the_messages_in_flight(
    tmp_path: Path, smtp: SmtpServer, connections: int,
) -> None:
    """With one SMTP connection a kill re-sends at most one message; with four (the
    default), at most the four that can be on the wire at once."""
    handler: KillingHandler = smtp.handler  # type: ignore[assignment]
    clean = tmp_path / "never-killed"
    env = setup_city(clean, smtp.port, connections)
    setup = setup_rows(clean)
    run = simulate(env, clean, START)
    assert run.wait(300) == 0, run.stderr.read().decode() if run.stderr else ""
    finish(env, clean)
    expected = outcome(clean, setup)
    expected_mail = delivered(handler)
    assert len(expected_mail) > 150 and max(expected_mail.values()) == 1
    handler.received.clear()

    rng = random.Random(SEED)
    crashed = tmp_path / "killed"
    env = setup_city(crashed, smtp.port, connections)
    assert setup_rows(crashed) == setup
    # Each kill is set at a point of the year's progress still ahead (the n-th message to
    # reach the server, or the n-th audit row), so every one lands before the year ends.
    on_wire = [rng.random() < 0.5 for _ in range(KILLS)]
    wire_points = iter(sorted(rng.sample(range(1, len(expected_mail)), sum(on_wire))))
    row_points = iter(sorted(rng.sample(range(setup + 1, setup + len(expected["audit"])), KILLS - sum(on_wire))))
    handler.datas = 0
    kills, runs = 0, 0
    for wire in [*on_wire, None]:
        runs += 1
        run = simulate(env, crashed, reached(crashed, setup))
        if wire:
            handler.kill_at, handler.victim = next(wire_points), run
        elif wire is False:
            threading.Thread(target=kill_at_row, args=(run, crashed, next(row_points)), daemon=True).start()
        code = run.wait(300)
        handler.victim = None
        if wire is None:
            assert code == 0, (SEED, run.stderr.read().decode() if run.stderr else "")
            break
        assert code == -signal.SIGKILL, (SEED, wire, run.stderr.read().decode() if run.stderr else "")
        kills += 1
    finish(env, crashed)
    got = outcome(crashed, setup)
    mail = delivered(handler)

    seed = f"PDCA_CRASH_SEED={SEED}, {kills} kills ({sum(on_wire)} with a message on the wire), {runs} runs"
    assert got["integrity"] == "ok", seed
    verify = subprocess.run([*PDCA, "audit", "verify"], env=env, cwd=crashed, capture_output=True, text=True)
    assert verify.returncode == 0, (seed, verify.stdout, verify.stderr)
    assert got["behind_their_audit"] == [], seed
    assert got["cycles"] == expected["cycles"], seed
    assert got["audit"] == expected["audit"], (seed, first_difference(got["audit"], expected["audit"]))
    assert got["setup"] == expected["setup"], seed
    assert got["outbox"] == expected["outbox"] == Counter({("sent",): sum(expected["outbox"].values())}), seed
    assert set(mail) == got["message_ids"], seed  # every message sent, under the Message-ID recorded
    assert len(mail) == len(expected_mail), seed
    extra = sum(mail.values()) - len(mail)
    assert extra <= kills * connections, f"{extra} extra copies over {seed}, {connections} connection(s)"
    print(seed, f"{connections} connection(s): {extra} extra copies")
