"""The composition root: settings in, wired parts out. Nothing is opened until asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

import app.web.models  # noqa: F401  (the web's tables belong to the schema too)
from app.config import Settings
from engine import db
from engine.runtime import Workflow
from workflows.action_cycle import ACTION_CYCLE
from workflows.calendar import Calendar
from workflows.directory import sync_directory
from workflows.store import CycleStore

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


@dataclass
class Pdca:
    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)
    create: bool = True
    """False: a SQLite database that does not exist is an error (`db.MissingDatabase`);
    only `pdca init` makes one."""

    @cached_property
    def engine(self) -> Engine:
        return self._engine or db.open_engine(self.settings.database.url, create=self.create)

    @cached_property
    def calendar(self) -> Calendar:
        return Calendar(self.settings.calendar)

    @cached_property
    def workflow(self) -> Workflow:
        return Workflow(ACTION_CYCLE, CycleStore(self.calendar, self.settings.revision))

    @property
    def strategy_code(self) -> str:
        return self.settings.strategy.code

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest revision."""
        command.upgrade(alembic_config(self.engine), "head")

    def schema_state(self) -> Literal["current", "missing", "behind", "unknown"]:
        """Whether the database holds this release's schema: `missing` before `pdca init`,
        `behind` when an upgrade is due, `unknown` for a revision this release does not know
        (a newer release migrated it)."""
        script = ScriptDirectory.from_config(alembic_config(self.engine))
        with self.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        if current is None:
            return "missing"
        if current == script.get_current_head():
            return "current"
        known = {rev.revision for rev in script.walk_revisions()}
        return "behind" if current in known else "unknown"

    def sync(self) -> int:
        with db.writing(self.engine) as conn:
            return sync_directory(conn, self.settings)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
