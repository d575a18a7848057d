"""Plan approvals per second over HTTP: `pdca serve` against a bare FastAPI endpoint doing the same write.

The database is built from the sample `config.toml` (migrated, directory synced) with M
generated active actions (plus a few for warm-up), each owned by one person, whose FY2026
cycles are opened and then moved to plan.review (version 2) with one UPDATE, as if every
plan had just been submitted; the internal chair gets an API token. Building it is not
timed. The file is then copied, so both sides start from an identical fresh database.

pdca side: `python -m app.cli serve --no-scheduler` in its own process on a free loopback
port, on a config copied into the temporary directory (PDCA_CONFIG) and the prepared
database (PDCA_DATABASE_URL). N clients, each an asyncio task with its own HTTP client
(one keep-alive connection), together POST `/api/cycles/{code}/2026/fire` with
`{"trigger": "approve_plan"}` and the chair's token, one request per cycle, every cycle
once (the codes are split among the clients). Each request is what a script calling the
API costs: the token checked and its use recorded (a write transaction of its own), then
in one write transaction the cycle found by code, loaded, the role checked, approve_plan
fired (with the owners' notice queued in the outbox) and, FY2026 having begun, the
automatic `start` after it: two versioned UPDATEs and two audit rows.

Floor side: a FastAPI app in this file (`floor_app`), served by uvicorn the same way in its
own process on a fresh copy of the prepared database, with one sync endpoint
`POST /approve/{code}` taking the same JSON body. With the stdlib `sqlite3` module, one
connection per server thread, the same settings the engine uses (WAL, synchronous=NORMAL,
foreign keys, busy timeout, BEGIN IMMEDIATE ... COMMIT), in one transaction: find the cycle
by strategy, code and year, move it plan.review -> do.implementing with the version check
(`UPDATE ... WHERE id = ? AND version = ?`, rowcount checked: one UPDATE where the engine
makes two) and insert the two audit rows the engine writes (approve_plan by the chair,
start by the system). No token, no role check, no field validation, no guards, no outbox,
no ORM/Core: what an HTTP endpoint making this write cannot do without. Same clients, same
load, same server (uvicorn, its defaults, one process, sync endpoints in its thread pool).

Each side gets a warm-up first (a few requests per client, not timed, not counted; it also
opens the connections). Timed: from the first timed request to the last answer, so
requests/s is over the whole run; latency is per request as a client sees it (p50 and p99,
nearest rank). Every answer must be 200 and, checked in the database afterwards, every
cycle must be in do.implementing with its two audit rows, on both sides; otherwise the run
stops with what went wrong. The client and both servers share this machine's CPUs, so the
CPU time each used per request is printed too (from /proc, where there is one).

Everything runs in a fresh temporary directory; ./var is never touched. The last line
printed is a JSON object for tooling; there are no timing assertions here.

    python bench/web.py [--clients N] [--requests M] [--profile [cpu|wall]]

`--profile` runs the pdca server under cProfile (every thread: the event loop and the
worker threads the sync endpoints run in) and prints where its time went; that slows it.
`cpu` (the default) clocks each thread's own CPU time, so waiting costs nothing and the
figures say what the server spends its processor on (reading that clock costs a system
call per profiled event, so call-heavy code looks dearer than it is); `wall` clocks elapsed
time, so time a thread spends blocked (on SQLite's write lock inside `execute`, on the GIL,
idle) shows too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import os
import pstats
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# Run as a script, this file's folder comes first on sys.path and bench/transitions.py would
# shadow the `transitions` package the engine is built on; drop that entry before importing.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for bench.common

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import make_url, update

from app.config import load_settings
from app.web.auth import create_api_token
from bench.common import CONFIG, FY, add_actions, database_url, open_database, raw_connect, settle
from bench.common import prepare as prepare_schema
from engine import db
from workflows.action_cycle import ACTION_CYCLE
from workflows.action_cycle.store import cycle_table
from workflows.tick import open_year

try:
    import httpx2 as httpx
except ImportError:  # pragma: no cover - whichever of the two is installed
    import httpx  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
CHAIR = "fukushichou@city.example.jp"
OPENED = datetime(2026, 4, 1, 9, tzinfo=ZoneInfo("Asia/Tokyo"))
BODY = {"trigger": "approve_plan"}
WARMUP_PER_CLIENT = 5
REQUEST_TIMEOUT_S = 60.0
START_TRIES = 300
START_POLL_S = 0.1
STOP_WAIT_S = 15.0
FLOOR_DB_ENV = "PDCA_BENCH_FLOOR_DB"
"""The floor server's database URL (a SQLite or a PostgreSQL one, as `--database` gave)."""
PROFILED = "--serve-profiled"
"""Internal: `python bench/web.py --serve-profiled OUT cpu|wall serve ...` is the profiled pdca server."""
CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.thread_time, "wall": time.perf_counter}
WAITING = (
    "<method 'poll' of 'select.epoll' objects>",
    "<method 'select' of 'select.select' objects>",
    "<method 'acquire' of '_thread.lock' objects>",
    "<method 'acquire' of '_thread.RLock' objects>",
)
"""Where idle threads sit (the event loop waiting for sockets, workers for work): not CPU."""


# -- the database ------------------------------------------------------------------------


def prepare(url: str, config: Path, count: int) -> tuple[str, list[str]]:
    """(the chair's API token, action codes in order): `count` actions on an emptied
    database at `url`, whose FY2026 cycles are in plan.review at version 2."""
    pdca = open_database(url, config)
    codes = [f"W-{i:06d}" for i in range(count)]
    try:
        strategy = prepare_schema(pdca)
        with db.writing(pdca.engine) as conn:
            add_actions(conn, strategy=strategy, codes=codes, plans=["bench plan"] * count)
            opened = open_year(conn, pdca.registry, pdca.tenants.get(conn, strategy), fy=FY, now=OPENED)
            conn.execute(update(cycle_table).where(cycle_table.c.fy == FY).values(state="plan.review", version=2))
            token = create_api_token(conn, email=CHAIR, name="bench", now=OPENED)
        settle(pdca.engine)
    finally:
        pdca.close()
    if opened != count or token is None:
        raise SystemExit(f"setup: opened {opened} cycles (expected {count}); token {'ok' if token else 'missing'}")
    return token, codes


def check_written(url: str, count: int) -> str | None:
    """None when every FY2026 cycle moved to do.implementing at version 4 with its two
    audit rows (approve_plan, start); else what differs."""
    conn, dialect = raw_connect(url)
    mark = "?" if dialect == "sqlite" else "%s"
    try:
        states = dict(conn.execute(
            f"SELECT state || ' v' || version, count(*) FROM cycle WHERE fy = {mark} GROUP BY 1", (FY,)
        ).fetchall())
        audited = dict(conn.execute(
            "SELECT \"trigger\", count(*) FROM audit_event WHERE \"trigger\" IN ('approve_plan', 'start') GROUP BY 1"
        ).fetchall())
    finally:
        conn.close()
    if states == {"do.implementing v4": count} and audited == {"approve_plan": count, "start": count}:
        return None
    return f"cycles {states}, audit rows {audited}; expected {count} of each"


# -- the floor: a bare FastAPI endpoint making the same write ----------------------------

FLOOR_FIND = (
    "SELECT cycle.id, cycle.version, cycle.state FROM cycle JOIN action ON action.id = cycle.action_id "
    "JOIN strategy ON strategy.id = action.strategy_id WHERE strategy.code = ? AND action.code = ? AND cycle.fy = ?"
)
FLOOR_UPDATE = (
    "UPDATE cycle SET state = 'do.implementing', version = version + 2, updated_at = ? WHERE id = ? AND version = ?"
)
FLOOR_AUDIT = (
    'INSERT INTO audit_event (workflow, instance_id, at, actor, on_behalf, "trigger", from_state, '
    "to_state, version, comment, fields) VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, NULL, '{}')"
)
FLOOR_STRATEGY = load_settings(CONFIG, env={}).strategy.code


class FloorFire(BaseModel):
    trigger: str


floor_app = FastAPI(title="floor", docs_url=None, redoc_url=None, openapi_url=None)
_floor_local = threading.local()


def _floor_connection() -> tuple[Any, str]:
    """This server thread's own driver connection (stdlib `sqlite3` with the engine's
    settings, or `psycopg`), in autocommit: the endpoint writes BEGIN and COMMIT."""
    held: tuple[Any, str] | None = getattr(_floor_local, "conn", None)
    if held is None:
        held = _floor_local.conn = raw_connect(os.environ[FLOOR_DB_ENV])
    return held


def _floor_sql(dialect: str) -> tuple[str, str, str, str]:
    """BEGIN (SQLite's takes the write lock up front, as the engine's does), and the three
    statements in the driver's parameter style."""
    begin = "BEGIN IMMEDIATE" if dialect == "sqlite" else "BEGIN"
    if dialect == "sqlite":
        return begin, FLOOR_FIND, FLOOR_UPDATE, FLOOR_AUDIT
    return begin, *(sql.replace("?", "%s") for sql in (FLOOR_FIND, FLOOR_UPDATE, FLOOR_AUDIT))  # type: ignore[return-value]


@floor_app.post("/approve/{code}")
def floor_approve(code: str, body: FloorFire) -> Any:
    if body.trigger != "approve_plan":
        return JSONResponse({"error": "not_allowed_now"}, status_code=409)
    conn, dialect = _floor_connection()
    begin, find, move, audit = _floor_sql(dialect)
    at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    conn.execute(begin)
    try:
        row = conn.execute(find, (FLOOR_STRATEGY, code, FY)).fetchone()
        if row is None or row[2] != "plan.review":
            conn.execute("ROLLBACK")
            return JSONResponse({"error": "not_allowed_now"}, status_code=404 if row is None else 409)
        cycle, version, _ = row
        if conn.execute(move, (at, cycle, version)).rowcount != 1:
            conn.execute("ROLLBACK")
            return JSONResponse({"error": "stale"}, status_code=409)
        conn.execute(audit, (ACTION_CYCLE.name, cycle, at, CHAIR, "approve_plan", "plan.review",
                             "plan.approved", version + 1))
        conn.execute(audit, (ACTION_CYCLE.name, cycle, at, "system", "start", "plan.approved",
                             "do.implementing", version + 2))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return {"events": [
        {"instance_id": cycle, "trigger": "approve_plan", "from_state": "plan.review", "to_state": "plan.approved",
         "version": version + 1, "actor": CHAIR, "on_behalf": None, "fields": {}},
        {"instance_id": cycle, "trigger": "start", "from_state": "plan.approved", "to_state": "do.implementing",
         "version": version + 2, "actor": "system", "on_behalf": None, "fields": {}},
    ]}


# -- servers, each in its own process ----------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time so far of a process, its threads and its live children (the
    workers of `--workers N`), from Linux's /proc."""
    try:
        stats = {int(p.name): p.joinpath("stat").read_text() for p in Path("/proc").iterdir() if p.name.isdigit()}
    except OSError:
        return None
    if pid not in stats:
        return None
    fields = {p: text.rsplit(")", 1)[1].split() for p, text in stats.items() if ")" in text}
    tree, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        tree.add(parent)
        todo.extend(p for p, f in fields.items() if int(f[1]) == parent and p not in tree)
    ticks = sum(int(fields[p][11]) + int(fields[p][12]) for p in tree if p in fields)
    return ticks / os.sysconf("SC_CLK_TCK")


class Server:
    """A server command run as a child process; `start` returns once it answers HTTP."""

    def __init__(self, name: str, command: Sequence[str], env: dict[str, str], log: Path, port: int) -> None:
        self.name, self.command, self.env, self.log, self.port = name, list(command), env, log, port
        self.base_url = f"http://{HOST}:{port}"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def start(self) -> Server:
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=log,
                                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        with httpx.Client(base_url=self.base_url, timeout=1.0, trust_env=False) as client:
            for _ in range(START_TRIES):
                if self._process.poll() is not None:
                    raise SystemExit(f"{self.name}: the server exited with {self._process.returncode}:\n{self.tail()}")
                try:
                    client.get("/")
                    return self
                except httpx.TransportError:
                    time.sleep(START_POLL_S)
        raise SystemExit(f"{self.name}: no answer on {self.base_url} after {START_TRIES} tries:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def pdca_server(tmp: Path, config: Path, url: str, workers: int, profile_to: Path | None, clock: str) -> Server:
    env = {**os.environ, "PDCA_CONFIG": str(config), "PDCA_DATABASE_URL": url}
    port = free_port()
    args = ["serve", "--host", HOST, "--port", str(port), "--no-scheduler", "--workers", str(workers)]
    if profile_to is None:
        command = [sys.executable, "-m", "app.cli", *args]
    else:
        command = [sys.executable, str(Path(__file__).resolve()), PROFILED, str(profile_to), clock, *args]
    return Server("pdca", command, env, tmp / "pdca-serve.log", port)


def floor_server(tmp: Path, url: str, workers: int) -> Server:
    env = {**os.environ, FLOOR_DB_ENV: url}
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "bench.web:floor_app", "--host", HOST, "--port", str(port),
               "--log-level", "warning", "--workers", str(workers)]
    return Server("floor", command, env, tmp / "floor-serve.log", port)


def profiled_serve(out: Path, clock: str, argv: list[str]) -> None:
    """The pdca CLI under cProfile in every thread (uvicorn's event loop in the main one, the
    sync endpoints in the thread pool's), timed by `clock`; the merged stats go to `out`
    when it stops."""
    timer = CLOCKS[clock]
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def profile_this_thread(*_args: Any) -> None:
        profile = cProfile.Profile(timer)
        with lock:
            profiles.append(profile)
        profile.enable()  # takes over from this hook, for this thread only

    from app.cli import cli

    # uvicorn stops on SIGTERM and then raises it again for the handler it found: make that
    # one unwind this process, so the stats below are written.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    main = cProfile.Profile(timer)
    profiles.append(main)
    threading.setprofile(profile_this_thread)
    main.enable()
    try:
        cli(argv, prog_name="pdca")
    except SystemExit:
        pass
    finally:
        main.disable()
        threading.setprofile(None)  # type: ignore[arg-type]
        with lock:
            stats = pstats.Stats(profiles[0])
            for profile in profiles[1:]:
                with contextlib.suppress(TypeError):  # a thread that never returned from its first call
                    stats.add(profile)
        stats.dump_stats(out)


# -- the load ----------------------------------------------------------------------------


@dataclass
class Load:
    requests: int
    seconds: float
    latencies: list[float]
    statuses: Counter[int]
    errors: list[str] = field(default_factory=list)
    server_cpu_s: float | None = None
    client_cpu_s: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile_ms(self, q: int) -> float:
        """Nearest rank: the smallest latency at least q% of the requests did not exceed."""
        ranked = sorted(self.latencies)
        return 1000 * ranked[max(0, -(-len(ranked) * q // 100) - 1)]


async def _client(
    client: httpx.AsyncClient, path: Callable[[str], str], codes: Sequence[str], latencies: list[float],
    statuses: Counter[int], errors: list[str],
) -> None:
    for code in codes:
        started = time.perf_counter()
        answer = await client.post(path(code), json=BODY)
        latencies.append(time.perf_counter() - started)
        statuses[answer.status_code] += 1
        if answer.status_code != 200 and len(errors) < 5:
            errors.append(f"{code}: {answer.status_code} {answer.text[:300]}")


async def _load(
    server: Server, headers: dict[str, str], path: Callable[[str], str], warmup: Sequence[str],
    timed: Sequence[str], clients: int,
) -> Load:
    async with contextlib.AsyncExitStack() as stack:
        pool = [
            await stack.enter_async_context(httpx.AsyncClient(
                base_url=server.base_url, headers=headers, timeout=REQUEST_TIMEOUT_S, trust_env=False,
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            ))
            for _ in range(clients)
        ]
        ignored: Counter[int] = Counter()
        warm_errors: list[str] = []
        await asyncio.gather(*(
            _client(c, path, warmup[i::clients], [], ignored, warm_errors) for i, c in enumerate(pool)
        ))
        if warm_errors:
            raise SystemExit(f"{server.name}: the warm-up was refused: {warm_errors[0]}")
        latencies: list[float] = []
        statuses: Counter[int] = Counter()
        errors: list[str] = []
        server_cpu = cpu_seconds(server.pid)
        client_cpu = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(
            _client(c, path, timed[i::clients], latencies, statuses, errors) for i, c in enumerate(pool)
        ))
        seconds = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        server_after = cpu_seconds(server.pid)
    server_cpu_s = None if server_cpu is None or server_after is None else server_after - server_cpu
    return Load(len(latencies), seconds, latencies, statuses, errors, server_cpu_s, client_cpu)


def run_load(
    server: Server, headers: dict[str, str], path: Callable[[str], str], codes: Sequence[str], clients: int
) -> Load:
    warmup = clients * WARMUP_PER_CLIENT
    return asyncio.run(_load(server, headers, path, codes[:warmup], codes[warmup:], clients))


def measure(server: Server, url: str, headers: dict[str, str], path: Callable[[str], str],
            codes: Sequence[str], clients: int) -> Load:
    try:
        server.start()
        load = run_load(server, headers, path, codes, clients)
    finally:
        server.stop()
    if load.statuses != Counter({200: load.requests}) or load.errors:
        raise SystemExit(f"{server.name}: answers by status {dict(load.statuses)}, expected {load.requests} 200s; "
                         "first refusals:\n  " + "\n  ".join(load.errors) + f"\nserver log:\n{server.tail()}")
    problem = check_written(url, len(codes))
    if problem:
        raise SystemExit(f"{server.name}: the database is not as expected: {problem}")
    return load


# -- the profile -------------------------------------------------------------------------


def _bucket(filename: str, name: str) -> str:
    if filename == "~":
        if name in WAITING:
            return "(waiting: idle event loop / idle worker threads)"
        if "sqlite3" in name:
            return "sqlite3 (C: statements, commits; wall clock: also waiting for the write lock)"
        return "other built-ins (C)"
    path = Path(filename)
    parts = path.parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].split(".")[0].removesuffix(".py")
    with contextlib.suppress(ValueError):
        return f"pdca: {path.relative_to(ROOT).parts[0]}"
    stdlib = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    if stdlib in parts and len(parts) > parts.index(stdlib) + 1:
        return "stdlib: " + Path(parts[parts.index(stdlib) + 1]).stem
    return f"other: {path.stem}"


def print_profile(path: Path, clock: str, requests: int) -> None:
    if not path.exists():
        print(f"no profile: the profiled server wrote nothing to {path.name}")
        return
    stats = pstats.Stats(str(path))
    if os.environ.get("PDCA_PROFILE_SAVE"):  # a file to keep the raw stats in, for pstats
        shutil.copyfile(path, os.environ["PDCA_PROFILE_SAVE"])
    own: Counter[str] = Counter()
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        own[_bucket(filename, name)] += tottime
    busy = sum(t for k, t in own.items() if not k.startswith("(waiting"))
    what = "CPU time of each thread" if clock == "cpu" else "wall time summed over threads"
    print(f"pdca server under cProfile ({what}), own time by package: {busy:.2f} s not idle, "
          f"{1e3 * busy / max(requests, 1):.2f} ms a request incl. warm-up")
    for bucket, seconds in own.most_common(16):
        share = "" if bucket.startswith("(waiting") else f"{100 * seconds / busy:5.1f}%"
        print(f"  {seconds:8.2f} s {share:>6}  {bucket}")
    print("top 25 functions by own time:")
    stats.sort_stats("tottime").print_stats(25)
    cumulative = os.environ.get("PDCA_PROFILE_CUMULATIVE")  # e.g. "/work/main/(app|engine)": what they cost
    if cumulative:
        stats.sort_stats("cumulative").print_stats(cumulative, 40)
    callers = os.environ.get("PDCA_PROFILE_CALLERS")  # e.g. "coercions.py:.*expect": who calls it
    if callers:
        stats.sort_stats("cumulative").print_callers(callers)


# -- main --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per side (default 2000)")
    parser.add_argument("--workers", type=int, default=1, help="server processes on each side (default 1)")
    parser.add_argument("--database", default=None,
                        help="a PostgreSQL URL (emptied, then built for each side in turn; it must be empty or a "
                        "bench's), or a SQLite file; default: a SQLite file for each side in a temporary directory")
    parser.add_argument("--profile", nargs="?", const="cpu", choices=sorted(CLOCKS), default=None,
                        help="run the pdca server under cProfile, timing each thread's CPU time (cpu, the default) "
                        "or elapsed time (wall), and print where its time went (slows that side)")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 256:
        parser.error("--clients must be between 1 and 256")
    if args.requests < args.clients:
        parser.error("--requests must be at least --clients")
    if not 1 <= args.workers <= 16:
        parser.error("--workers must be between 1 and 16")
    if args.profile and args.workers != 1:
        parser.error("--profile profiles one server process: leave --workers at 1")

    warmup = args.clients * WARMUP_PER_CLIENT
    with tempfile.TemporaryDirectory(prefix="pdca-bench-") as name:
        tmp = Path(name)
        config = tmp / "config.toml"
        shutil.copyfile(CONFIG, config)  # relative paths in it ([mail] dir) now resolve in tmp
        pdca_url = database_url(args.database, tmp / "pdca.sqlite3")
        floor_url = pdca_url if args.database else database_url(None, tmp / "floor.sqlite3")
        dialect = make_url(pdca_url).get_backend_name()
        profile_to = tmp / "pdca-serve.prof" if args.profile else None

        token, codes = prepare(pdca_url, config, warmup + args.requests)
        server = pdca_server(tmp, config, pdca_url, args.workers, profile_to, args.profile or "")
        pdca = measure(server, pdca_url, {"Authorization": f"Bearer {token}"},
                       lambda code: f"/api/cycles/{code}/{FY}/fire", codes, args.clients)
        prepare(floor_url, config, warmup + args.requests)  # the same database, built afresh
        floor = measure(floor_server(tmp, floor_url, args.workers), floor_url, {}, lambda code: f"/approve/{code}",
                        codes, args.clients)
        if profile_to is not None:
            print_profile(profile_to, args.profile, warmup + args.requests)

    def line(load: Load) -> str:
        cpu = "" if load.server_cpu_s is None else f"; server CPU {1e3 * load.server_cpu_s / load.requests:.2f} ms,"
        return (f"{load.seconds:.3f} s, {load.rps:,.0f} req/s, p50 {load.percentile_ms(50):.1f} ms, "
                f"p99 {load.percentile_ms(99):.1f} ms{cpu} client CPU {1e3 * load.client_cpu_s / load.requests:.2f} "
                "ms a request")

    ratio = pdca.rps / floor.rps
    p99_ratio = pdca.percentile_ms(99) / floor.percentile_ms(99)
    print(f"{args.requests} plan approvals (approve_plan, then start) by {args.clients} concurrent clients over "
          f"loopback, each side in its own server ({args.workers} worker process{'es' if args.workers > 1 else ''}) "
          f"on {dialect}; {warmup} more as warm-up, not timed; {os.cpu_count()} CPUs")
    print(f"pdca:  {line(pdca)}{f'  [under cProfile, {args.profile}]' if args.profile else ''}")
    print(f"floor: {line(floor)}")
    print(f"pdca/floor: {ratio:.3f} of the throughput, p99 {p99_ratio:.2f}x")
    print(
        json.dumps(
            {
                "bench": "web",
                "database": dialect,
                "clients": args.clients,
                "workers": args.workers,
                "requests": args.requests,
                "pdca_rps": round(pdca.rps, 1),
                "pdca_p50_ms": round(pdca.percentile_ms(50), 2),
                "pdca_p99_ms": round(pdca.percentile_ms(99), 2),
                "floor_rps": round(floor.rps, 1),
                "floor_p50_ms": round(floor.percentile_ms(50), 2),
                "floor_p99_ms": round(floor.percentile_ms(99), 2),
                "ratio": round(ratio, 4),
                "p99_ratio": round(p99_ratio, 3),
            }
        )
    )


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[1] == PROFILED:
        profiled_serve(Path(sys.argv[2]), sys.argv[3], sys.argv[4:])
    else:
        main()
