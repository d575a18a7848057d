"""What the benches share: the sample config, and a database of generated actions.

Import it as `bench.common` with the repository root on sys.path (each bench puts it
there), never with bench/ itself on sys.path: bench/transitions.py would shadow the
`transitions` package the engine is built on.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, insert, inspect, make_url, select, text

from app.bootstrap import Pdca
from app.config import load_settings
from engine import db
from workflows import service
from workflows.models import Action, ActionOwner
from workflows.tick import open_year as tick_open_year

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.toml"
OWNER = "nourin@city.example.jp"
FY = 2026


CHUNK = 2000
"""Rows per INSERT: far below any database's bound-parameter limit (SQLite's 32,766,
PostgreSQL's 65,535) with a dozen columns a row."""
BENCH_MARK = "pdca_bench_made_this"


def open_pdca(database: Path, config: Path = CONFIG) -> Pdca:
    """A Pdca on this SQLite file, configured by the sample config (or a copy of it)."""
    return Pdca(load_settings(config, env={"PDCA_DATABASE_URL": f"sqlite:///{database}"}))


def database_url(given: str | None, default: Path) -> str:
    """`--database`: a PostgreSQL URL, a SQLAlchemy SQLite URL, or a path to a SQLite file;
    none: the file `default` (in the bench's temporary directory)."""
    if not given:
        return f"sqlite:///{default}"
    if "://" in given:
        return given
    return f"sqlite:///{Path(given).resolve()}"


def open_database(url: str, config: Path = CONFIG) -> Pdca:
    """A Pdca on `url`, empty: a SQLite file is removed first; a PostgreSQL database must be
    empty or one a bench made before (it carries a mark), and is emptied. A database with
    anything else in it is refused, so that a bench never wipes a deployment's data."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            for suffix in ("", "-wal", "-shm"):
                Path(parsed.database + suffix).unlink(missing_ok=True)
    else:
        _create_if_missing(parsed)
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                tables = set(inspect(conn).get_table_names())
                if tables and BENCH_MARK not in tables:
                    raise SystemExit(f"{parsed.render_as_string()} holds tables a bench did not make "
                                     f"({len(tables)}); give an empty database")
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
                conn.execute(text(f"CREATE TABLE {BENCH_MARK} (made_at timestamptz DEFAULT now())"))
        finally:
            engine.dispose()
    return Pdca(load_settings(config, env={"PDCA_DATABASE_URL": url}))


def _create_if_missing(url: Any) -> None:
    """A PostgreSQL database a bench is pointed at, made on its server when it is not there."""
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}).first():
                return
            quoted = conn.dialect.identifier_preparer.quote(url.database)
            conn.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        server.dispose()


def copy_database(url: str, suffix: str) -> str:
    """A copy of the database at `url`, made anew, for one measurement to change: a SQLite
    file beside it (`name-suffix.sqlite3`), or on PostgreSQL a database made from it as a
    template (`name_suffix`; nobody may be connected to `url` meanwhile). Its URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        source = Path(parsed.database or "")
        target = source.with_name(f"{source.stem}-{suffix}{source.suffix}")
        for end in ("-wal", "-shm"):
            Path(f"{target}{end}").unlink(missing_ok=True)
        shutil.copyfile(source, target)
        return parsed.set(database=str(target)).render_as_string(hide_password=False)
    target = f"{parsed.database}_{suffix}"
    server = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            quote = conn.dialect.identifier_preparer.quote
            conn.execute(text(f"DROP DATABASE IF EXISTS {quote(target)}"))
            conn.execute(text(f"CREATE DATABASE {quote(target)} TEMPLATE {quote(parsed.database or '')}"))
    finally:
        server.dispose()
    return parsed.set(database=target).render_as_string(hide_password=False)


def drop_copy(url: str) -> None:
    """Remove a copy `copy_database` made."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for end in ("", "-wal", "-shm", "-writer"):
            Path(f"{parsed.database}{end}").unlink(missing_ok=True)
        return
    server = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {conn.dialect.identifier_preparer.quote(parsed.database)}"))
    finally:
        server.dispose()


def raw_connect(url: str) -> tuple[Any, str]:
    """The driver's own connection to the same database, in autocommit (the caller writes
    BEGIN and COMMIT), with the settings the engine gives its own (SQLite: WAL, NORMAL
    sync, foreign keys, busy timeout); and the dialect's name."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        conn = sqlite3.connect(parsed.database or ":memory:", isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                       f"busy_timeout={db.BUSY_TIMEOUT_MS}"):
            conn.execute(f"PRAGMA {pragma}")
        return conn, "sqlite"
    import psycopg

    return psycopg.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False),
                           autocommit=True), "postgresql"


def settle(engine: Engine) -> None:
    """After a bulk build, before anything is timed: on PostgreSQL the planner's statistics
    (a table filled a moment ago looks empty to it until autovacuum analyzes it, and every
    look-up then scans: 13 requests/s instead of hundreds); on SQLite the WAL folded into
    the file."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")


def prepare(pdca: Pdca) -> int:
    """Schema, people and councils; returns the strategy id."""
    pdca.migrate()
    return pdca.sync()


def open_year(pdca: Pdca, conn: Connection, *, strategy: int, fy: int, now: datetime,
              codes: list[str] | None = None) -> int:
    """Open a fiscal year's cycles as the plan window does (`pdca import --open-fy`)."""
    return tick_open_year(conn, pdca.registry, pdca.tenants.get(conn, strategy), fy=fy, now=now, codes=codes)


def add_actions(conn: Connection, *, strategy: int, codes: Sequence[str], plans: Sequence[str],
                owner: str = OWNER) -> list[int]:
    """Active actions with one owner each, inserted in bulk; their ids in `codes` order."""
    person = service.actor_for(conn, owner)
    rows = [{"strategy_id": strategy, "code": code, "basic_policy": "bench", "title_ja": f"ベンチ {code}",
             "division": "農政課", "plan": plan, "status": "active"} for code, plan in zip(codes, plans, strict=True)]
    for start in range(0, len(rows), CHUNK):
        conn.execute(insert(Action), rows[start:start + CHUNK])
    ids = dict(conn.execute(select(Action.code, Action.id).where(Action.strategy_id == strategy)).all())
    ordered = [ids[code] for code in codes]
    for start in range(0, len(ordered), CHUNK):
        conn.execute(insert(ActionOwner), [{"action_id": a, "person_id": person.person_id}
                                           for a in ordered[start:start + CHUNK]])
    return ordered
