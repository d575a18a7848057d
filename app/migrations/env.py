"""Alembic environment: runs on the engine pdca hands over (see app/bootstrap.py), or on
the URL from `alembic -x url=...` when run by hand."""

from alembic import context
from sqlmodel import SQLModel

import app.web.models  # noqa: F401  (registers the tables)
import workflows.models  # noqa: F401
from app.schema import include_object
from engine import db

config = context.config
engine = config.attributes.get("engine") or db.open_engine(context.get_x_argument(as_dictionary=True)["url"])

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode recreates a table to change it, which foreign keys would refuse while
        # rows point at it; they are checked again below, before the upgrade counts as done.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    try:
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left rows pointing nowhere: {broken[:5]}")
        connection.commit()
    finally:
        if sqlite:
            connection.rollback()
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
