"""Real databases for every test: a SQLite file per test, and PostgreSQL when
PDCA_TEST_DATABASE_URL names a server (a scratch database is created and dropped)."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from app.bootstrap import Pdca
from app.config import Settings, load_settings
from app.importing import import_actions
from engine import db
from engine.runtime import Fired
from workflows import service
from workflows.tick import open_year

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.toml"
SAMPLE = ROOT / "app" / "sample" / "actions.csv"
PG_ENV = "PDCA_TEST_DATABASE_URL"

# Now is in FY2026 (令和8年度), after the year began.
NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)

OWNER = "nourin@city.example.jp"  # owns 1-1-2 and 2-1-1
CHAIR = "fukushichou@city.example.jp"  # internal council chair
VICE_CHAIR = "kankyo.kyokucho@city.example.jp"
PROMOTION_CHAIR = "prof.mori@univ.example.ac.jp"
PROMOTION_VICE = "dr.kawa@univ.example.ac.jp"
ADMIN = "kankyo.admin@city.example.jp"
MEMBER = "kasen@city.example.jp"  # internal council member, owner of 1-1-1


@pytest.fixture(scope="session", autouse=True)
def cli_in_english() -> Iterator[None]:
    """The CLI speaks the machine's language (Japanese under a ja_JP locale); the suite reads
    its English on every machine, and tests/test_cli_words.py asks for Japanese itself."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PDCA_LANG", "en")
        yield


def settings_for(url: str) -> Settings:
    """The sample config on this database; files it writes (mail, public sites) go beside a
    SQLite database, or to a temporary folder, never into the repository."""
    settings = load_settings(CONFIG, env={"PDCA_DATABASE_URL": url})
    parsed = make_url(url)
    base = Path(parsed.database).parent if parsed.get_backend_name() == "sqlite" and parsed.database \
        else Path(tempfile.mkdtemp(prefix="pdca-test-"))
    return settings.model_copy(update={
        "mail": settings.mail.model_copy(update={"dir": str(base / "mail")}),
        "web": settings.web.model_copy(update={"public_dir": str(base / "public")}),
    })


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once; each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("template") / "pdca.sqlite3"
    pdca = Pdca(settings_for(f"sqlite:///{path}"))
    pdca.migrate()
    with pdca.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    pdca.close()
    return path


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests skipped: set {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    name = f"pdca_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # A test database needs correctness, not durability: commits do not wait for the disk.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    pdca = Pdca(settings_for(url))
    pdca.migrate()
    pdca.close()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _empty_pg(url: str) -> None:
    """pdca's tables emptied; any other table a test made (a scheduler's job store, the
    example workflow's) dropped, so the next test in this worker finds the schema as
    migrated."""
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        for other in set(inspect(conn).get_table_names()) - set(SQLModel.metadata.tables) - {"alembic_version"}:
            conn.execute(text(f'DROP TABLE IF EXISTS "{other}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "pdca.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_url")
    _empty_pg(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "pdca.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


class Year:
    """The sample strategy in one database, with the words a test needs to tell a year."""

    def __init__(self, url: str, fy: int = 2026, settings: Settings | None = None) -> None:
        self.pdca = Pdca(settings or settings_for(url))
        self.fy = fy
        self.strategy = self.pdca.sync()
        with db.writing(self.pdca.engine) as conn:
            import_actions(conn, strategy=self.strategy, path=SAMPLE, now=NOW)
            open_year(conn, self.pdca.registry, self.tenant(conn), fy=fy, now=NOW)

    @property
    def engine(self) -> Any:
        return self.pdca.engine

    @property
    def cycles(self) -> Any:
        """The registry's entry of the strategy's yearly process."""
        return self.pdca.registry.primary

    def tenant(self, conn: Any) -> Any:
        return self.pdca.tenants.get(conn, self.strategy)

    def cycle_id(self, code: str, fy: int | None = None) -> int:
        with db.reading(self.engine) as conn:
            return self.cycles.store.find(conn, tenant=self.strategy, key=code, fy=fy or self.fy)

    def fire(
        self, code: str, trigger: str, who: str, *, fy: int | None = None, now: datetime = NOW,
        version: int | None = None, **fields: Any,
    ) -> list[Fired]:
        cycle = self.cycle_id(code, fy)
        with db.writing(self.engine) as conn:
            actor = service.actor_for(conn, who)
            return self.pdca.workflow.fire_in(
                conn, cycle, trigger, actor, fields, now=now, expected_version=version
            )

    def story(self, code: str, fy: int | None = None) -> dict[str, Any]:
        with db.reading(self.engine) as conn:
            return service.story(conn, self.cycles, self.cycle_id(code, fy))

    def state(self, code: str, fy: int | None = None) -> str:
        return self.story(code, fy)["state"]

    def actions(self, fy: int = 2026) -> list[dict[str, Any]]:
        with db.reading(self.engine) as conn:
            return service.listing(conn, self.cycles, tenant=self.strategy, fy=fy)

    def set_absent(self, email: str, absent: bool = True) -> None:
        with db.writing(self.engine) as conn:
            service.set_absent(conn, email=email, absent=absent, now=NOW, by=service.actor_for(conn, ADMIN))

    def open(self, fy: int, now: datetime = NOW, codes: list[str] | None = None) -> int:
        with db.writing(self.engine) as conn:
            return open_year(conn, self.pdca.registry, self.tenant(conn), fy=fy, now=now, codes=codes)

    def close(self) -> None:
        self.pdca.close()


@pytest.fixture
def year(database_url: str) -> Iterator[Year]:
    y = Year(database_url)
    yield y
    y.close()


@pytest.fixture
def sqlite_year(sqlite_url: str) -> Iterator[Year]:
    y = Year(sqlite_url)
    yield y
    y.close()
