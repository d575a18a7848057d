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
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
