"""Copies of the database that can be made while pdca runs, and put back.

SQLite: SQLite's online backup API (`sqlite3.Connection.backup`) copies a consistent state
of the database page by page while other connections go on reading and writing; the copy
is written beside its destination and renamed into place only once whole and checked, so a
copy interrupted half-way is never taken for one. Restoring copies the backup back into the
live database the same way, in one transaction of the destination: readers see the old
database or the restored one, never a mixture.

PostgreSQL: `pg_dump --format=custom` takes a consistent snapshot of a live database
(one transaction at REPEATABLE READ); `pg_restore --clean --single-transaction` puts it
back, all of it or, on an error, none. Both must be installed (Debian's postgresql-client,
of the server's major version or newer).

A file is restored only if it is a database pdca made: one with pdca's tables and a schema
release this pdca knows. Anything else is refused before the live database is touched.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupRefused(Exception):
    """What cannot be backed up or restored, said as a catalogue key with its values."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class Copy:
    path: Path
    size: int
    revision: str | None


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupRefused("backup_memory")
    return Path(parsed.database)


def _libpq(url: str) -> str:
    """The URL as pg_dump reads it: SQLAlchemy's `+driver` taken off."""
    parsed = make_url(url)
    return parsed.set(drivername=parsed.get_backend_name()).render_as_string(hide_password=False)


def _revision_of(path: Path) -> str | None:
    """The schema release of a SQLite file pdca made; refused if it is not one."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupRefused("backup_damaged", path=str(path))
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"alembic_version", "audit_event", "strategy"} <= tables:
                raise BackupRefused("backup_not_pdca", path=str(path))
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        raise BackupRefused("backup_not_pdca", path=str(path)) from None
    return row[0] if row else None


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupRefused("backup_no_tool", tool=command[0])
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupRefused("backup_tool_failed", tool=command[0], detail=done.stderr.strip()[-500:])


def back_up(url: str, destination: Path, *, overwrite: bool = False) -> Copy:
    """Write a consistent copy of the live database at `url` to `destination`."""
    if destination.exists() and not overwrite:
        raise BackupRefused("backup_exists", path=str(destination))
    if destination.is_dir():
        raise BackupRefused("backup_is_directory", path=str(destination))
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    source_path = _sqlite_path(url)
    if source_path is None:
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={partial}", _libpq(url)])
        os.replace(partial, destination)
        return Copy(destination, destination.stat().st_size, None)
    if not source_path.exists():
        raise BackupRefused("backup_no_database", path=str(source_path))
    partial.unlink(missing_ok=True)
    with sqlite3.connect(source_path) as source, sqlite3.connect(partial) as copy:
        source.backup(copy)
    revision = _revision_of(partial)
    os.replace(partial, destination)
    return Copy(destination, destination.stat().st_size, revision)


def restore(url: str, source: Path, *, known: set[str]) -> Copy:
    """Replace everything in the database at `url` by the copy at `source`. The copy is
    checked first (a SQLite copy's schema release must be one of `known`, this release's);
    the live database is left as it was when it is refused."""
    if not source.is_file():
        raise BackupRefused("backup_no_copy", path=str(source))
    target = _sqlite_path(url)
    if target is None:
        if source.read_bytes()[:5] != b"PGDMP":
            raise BackupRefused("backup_not_pg_dump", path=str(source))
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              f"--dbname={_libpq(url)}", str(source)])
        return Copy(source, source.stat().st_size, None)
    revision = _revision_of(source)
    if revision is not None and revision not in known:
        raise BackupRefused("backup_newer", path=str(source), revision=revision)
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as copy, sqlite3.connect(target) as live:
        live.execute("PRAGMA busy_timeout = 5000")
        copy.backup(live)
    return Copy(source, source.stat().st_size, revision)
