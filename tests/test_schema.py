"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from app.bootstrap import Pdca
from tests.conftest import settings_for


def test_migrations_match_the_models(database_url: str) -> None:
    pdca = Pdca(settings_for(database_url))
    try:
        pdca.migrate()  # again: upgrading an up-to-date schema changes nothing
        with pdca.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
            tables = set(inspect(conn).get_table_names())
        assert diff == []
        assert {"cycle", "audit_event", "action", "indicator", "measurement", "person"} <= tables
    finally:
        pdca.close()


def test_sqlite_is_opened_with_wal_foreign_keys_and_a_busy_timeout(sqlite_url: str) -> None:
    pdca = Pdca(settings_for(sqlite_url))
    try:
        with pdca.engine.connect() as conn:
            pragmas = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                       for name in ("journal_mode", "foreign_keys", "busy_timeout")}
        assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000}
    finally:
        pdca.close()
