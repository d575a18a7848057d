"""Alembic environment: runs on the engine pdca hands over (see app/bootstrap.py), or on
the URL from `alembic -x url=...` when run by hand."""

from alembic import context
from sqlmodel import SQLModel

import workflows.models  # noqa: F401  (registers the tables)
from engine import db


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    """Autogenerate leaves alone the tables other tools own (e.g. the scheduler's jobs)."""
    if type_ == "table" and reflected and compare_to is None:
        return name in SQLModel.metadata.tables
    return True


config = context.config
engine = config.attributes.get("engine") or db.open_engine(context.get_x_argument(as_dictionary=True)["url"])

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
