"""Opening databases the same way everywhere: SQLite with WAL, foreign keys and a busy
timeout; PostgreSQL as it comes. Writes take the SQLite write lock up front (BEGIN
IMMEDIATE) so two writers queue instead of failing mid-transaction, and on a SQLite file
they queue at a gate first (`WriteGate`), where a waiter is woken when the writer before
it ends, not when SQLite's busy handler next wakes up to try again."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Float, Numeric, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux: threads still queue at the gate
    fcntl = None  # type: ignore[assignment]

BUSY_TIMEOUT_MS = 5000
GATE_POLL_S = 0.0005
"""How often a writer waiting on another process's write tries the gate's file lock again."""


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
        # On the driver's connection: through `exec_driver_sql` this cost as much as a
        # statement of the step's own.
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")  # type: ignore[union-attr]

    return engine


class WriteGate:
    """Where the writers of one SQLite file queue, so that each starts the moment the one
    before it commits.

    SQLite lets one writer in at a time; the others wait in its busy handler, which sleeps
    and tries again, longer each time (up to 100 ms a sleep, or a whole second where the
    library was built without `usleep`), and lets whoever happens to try first in. Under
    twenty concurrent requests that made a few of them wait a second or more while the
    lock stood free (`bench/web.py`: p99 40 times p50). Here threads of this process wait
    on a lock, which hands over as soon as it is released, and processes (a second worker,
    `pdca tick` beside `pdca serve`) on an exclusive `flock` of `<database>-writer`, tried
    every half millisecond. A writer gives up after the busy timeout, as SQLite would,
    with the error SQLite gives ("database is locked").

    Re-entrant within a thread: a write transaction opened inside another on the same
    thread passes the gate and meets SQLite's own lock, as it did before."""

    def __init__(self, path: str) -> None:
        self.file = path
        self.path = f"{path}-writer"
        self._lock = threading.RLock()
        self._depth = threading.local()
        self._fd: int | None = None

    @contextmanager
    def held(self, timeout_s: float = BUSY_TIMEOUT_MS / 1000) -> Iterator[None]:
        deadline = time.monotonic() + timeout_s
        if not self._lock.acquire(timeout=timeout_s):
            raise _locked()
        try:
            depth = getattr(self._depth, "n", 0)
            locked_file = depth == 0 and self._lock_file(deadline)
            self._depth.n = depth + 1
            try:
                yield
            finally:
                self._depth.n = depth
                if locked_file and self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._lock.release()

    def _lock_file(self, deadline: float) -> bool:
        """The lock other processes' writers take; False where there is no such file to
        lock (no `fcntl`, or a directory this process may not write a file in)."""
        if fcntl is None:
            return False
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError:
                return False
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _locked() from None
                time.sleep(GATE_POLL_S)


def _result_processor(type_: Any, dialect: Any) -> Any:
    """What SQLAlchemy does to a column's value as it reads it. A number column on
    PostgreSQL asks for the driver's type code, which only a result has: psycopg already
    gives a float for a float column, and a Decimal for a numeric one, which is what an
    `asdecimal` type wants."""
    impl = type_.dialect_impl(dialect)
    try:
        return impl.result_processor(dialect, None)
    except TypeError:
        if isinstance(type_, Numeric | Float) and dialect.name == "postgresql":
            return None if isinstance(type_, Float) or type_.asdecimal else float
        raise


def _locked() -> OperationalError:
    import sqlite3

    return OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))


_gates: dict[tuple[int, str], WriteGate] = {}
"""By process (a forked child makes its own, taking no lock its parent held) and the file's
name as the engine's URL gives it."""
_gates_lock = threading.Lock()


def write_gate(engine: Engine) -> WriteGate | None:
    """The gate of this engine's SQLite file, one per file in this process (every engine on
    it shares it); None for PostgreSQL, whose writers queue on the rows they lock, and for
    an in-memory SQLite database."""
    if engine.dialect.name != "sqlite":
        return None
    name = engine.url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    key = (os.getpid(), name)
    gate = _gates.get(key)
    if gate is None:
        with _gates_lock:
            path = os.path.realpath(name)  # the same file under another name shares its gate
            gate = next((g for (pid, _), g in _gates.items() if pid == key[0] and g.file == path), None)
            gate = _gates[key] = gate or WriteGate(path)
    return gate


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """One unit of work: everything written inside commits together or not at all."""
    gate = write_gate(engine)
    with gate.held() if gate is not None else nullcontext(), engine.connect() as conn:
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
            columns = [(column.key, _result_processor(column.type, dialect))
                       for column in getattr(self.statement, "selected_columns", ())]
            positional = tuple(compiled.positiontup) if compiled.positional else None
            done = (compiled.string, positional, {k: p for k, p in processors.items() if p is not None},
                    defaults, columns)
            self._by_dialect[dialect.name] = done
        return done

    def _bind(self, dialect: Any, params: dict[str, Any]) -> Any:
        """The parameters as the driver takes them: defaults filled in, each converted by
        its type, in the statement's order where the dialect is positional."""
        _, order, processors, defaults, _ = self._compiled(dialect)
        values = {**defaults, **params} if defaults else dict(params)
        for name, process in processors.items():
            if name in values:
                values[name] = process(values[name])
        return tuple(values[name] for name in order) if order is not None else values

    def _run(self, conn: Connection, params: dict[str, Any]) -> Any:
        sql = self._compiled(conn.dialect)[0]
        bound = self._bind(conn.dialect, params)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
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

    def write_many(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """The same INSERT (or UPDATE) once for each of `rows`, in one call to the driver."""
        if not rows:
            return
        sql = self._compiled(conn.dialect)[0]
        bound = [self._bind(conn.dialect, params) for params in rows]
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(sql, bound)
        except conn.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(sql, bound, exc, conn.dialect.loaded_dbapi.Error) from exc
        finally:
            cursor.close()
