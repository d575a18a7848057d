"""Opening databases the same way everywhere: SQLite with WAL, foreign keys and a busy
timeout; PostgreSQL as it comes. Writes take the SQLite write lock up front (BEGIN
IMMEDIATE) so two writers queue on the busy timeout instead of failing mid-transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

BUSY_TIMEOUT_MS = 5000


class MissingDatabase(Exception):
    """A SQLite file that is not there, opened by someone who may not create it."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def open_engine(url: str, *, create: bool = True, **kwargs: Any) -> Engine:
    """`create=False`: a SQLite file that does not exist yet is an error, not a new file."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        if not create and not path.exists():
            raise MissingDatabase(str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Leave transaction control to the "begin" hook below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("pdca_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """One unit of work: everything written inside commits together or not at all."""
    with engine.connect() as conn:
        conn = conn.execution_options(pdca_write=True)
        with conn.begin():
            yield conn


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn, conn.begin():
        yield conn


def take_turns(conn: Connection, name: str) -> None:
    """Hold `name` until this transaction ends, so that two runs of the same work (the
    scheduler's tick and a manual one, or two nodes') take turns instead of colliding: the
    later waits, then finds the work done. On PostgreSQL a transaction-level advisory lock;
    SQLite's write transactions take turns already."""
    if conn.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
