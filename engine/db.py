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
from sqlalchemy.exc import DBAPIError

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


class Prepared:
    """A statement compiled once for each dialect and run on the driver's own cursor, in the
    caller's transaction: about a tenth of what the same statement costs through
    `Connection.execute`, which builds its parameters, its cache key and its result on
    every call. For the few statements every step runs (a request runs a dozen); anything
    else goes through SQLAlchemy as usual.

    Parameters are given by name and converted as SQLAlchemy would (each bind's type's own
    processor: a time to SQLite's text, JSON to text); results come back as dicts, or
    tuples, with each column's type's result processor applied (SQLite's 0/1 to a bool,
    JSON text to values). No SQLAlchemy events fire for these statements (none are used
    on them), and `expanding` (IN) parameters are not taken.
    """

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._by_dialect: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any], dict[str, Any],
                                          list[tuple[str, Any]]]] = {}

    def _compiled(self, dialect: Any) -> tuple[str, tuple[str, ...] | None, dict[str, Any], dict[str, Any],
                                               list[tuple[str, Any]]]:
        done = self._by_dialect.get(dialect.name)
        if done is None:
            compiled = self.statement.compile(dialect=dialect)
            if any(bind.expanding for bind in compiled.binds.values()):
                raise ValueError("Prepared takes no expanding (IN) parameters")
            processors = {name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                          for name, bind in compiled.binds.items()}
            defaults = {name: bind.value for name, bind in compiled.binds.items() if not bind.required
                        and bind.value is not None}
            columns = [(column.key, column.type.dialect_impl(dialect).result_processor(dialect, None))
                       for column in getattr(self.statement, "selected_columns", ())]
            positional = tuple(compiled.positiontup) if compiled.positional else None
            done = (compiled.string, positional, {k: p for k, p in processors.items() if p is not None},
                    defaults, columns)
            self._by_dialect[dialect.name] = done
        return done

    def _run(self, conn: Connection, params: dict[str, Any]) -> Any:
        sql, order, processors, defaults, _ = self._compiled(conn.dialect)
        values = {**defaults, **params} if defaults else dict(params)
        for name, process in processors.items():
            if name in values:
                values[name] = process(values[name])
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        bound = tuple(values[name] for name in order) if order is not None else values
        try:
            cursor.execute(sql, bound)
        except conn.dialect.loaded_dbapi.Error as exc:  # as SQLAlchemy raises it (DataError, IntegrityError...)
            cursor.close()
            raise DBAPIError.instance(sql, bound, exc, conn.dialect.loaded_dbapi.Error) from exc
        return cursor

    def rows(self, conn: Connection, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Each row as {column key: value}."""
        columns = self._compiled(conn.dialect)[4]
        cursor = self._run(conn, params)
        try:
            return [{key: process(value) if process else value
                     for (key, process), value in zip(columns, row, strict=True)} for row in cursor.fetchall()]
        finally:
            cursor.close()

    def tuples(self, conn: Connection, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Each row as a tuple, in the statement's column order."""
        processors = [process for _, process in self._compiled(conn.dialect)[4]]
        cursor = self._run(conn, params)
        try:
            return [tuple(process(value) if process else value for process, value in zip(processors, row, strict=True))
                    for row in cursor.fetchall()]
        finally:
            cursor.close()

    def first(self, conn: Connection, params: dict[str, Any]) -> dict[str, Any] | None:
        found = self.rows(conn, params)
        return found[0] if found else None

    def write(self, conn: Connection, params: dict[str, Any]) -> int:
        """An INSERT, UPDATE or DELETE: the number of rows it touched."""
        cursor = self._run(conn, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()
