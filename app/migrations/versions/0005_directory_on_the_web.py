"""people, bodies and reminders set on the web

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

Admins add and edit people, the bodies' seats and the reminder series on the web. `pdca
init` still brings the configuration in, but only over what it wrote itself: each person
and body keeps what the configuration last wrote (`configured`), and a value that differs
from it now was changed on the web and is kept. Existing rows take their current values as
that baseline. A strategy's reminder series (`reminders`) is copied from the configuration
once, like its calendar years.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

PERSON_FIELDS = ("name", "name_en", "division", "language", "admin", "digest", "active")


def upgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('configured', sa.JSON(), nullable=True))
    with op.batch_alter_table('council', schema=None) as batch_op:
        batch_op.add_column(sa.Column('configured', sa.JSON(), nullable=True))
    with op.batch_alter_table('strategy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminders', sa.JSON(), nullable=True))
    _backfill(op.get_bind())


def _backfill(conn: sa.Connection) -> None:
    meta = sa.MetaData()
    person = sa.Table("person", meta, autoload_with=conn)
    council = sa.Table("council", meta, autoload_with=conn)
    membership = sa.Table("membership", meta, autoload_with=conn)
    for row in conn.execute(sa.select(person)).mappings():
        conn.execute(sa.update(person).where(person.c.id == row["id"])
                     .values(configured={name: row[name] for name in PERSON_FIELDS}))
    seats: dict[int, list[list[str]]] = {}
    for council_id, email, role in conn.execute(
        sa.select(membership.c.council_id, person.c.email, membership.c.role)
        .join(person, person.c.id == membership.c.person_id).order_by(person.c.email)
    ):
        seats.setdefault(council_id, []).append([email, role])
    for row in conn.execute(sa.select(council)).mappings():
        conn.execute(sa.update(council).where(council.c.id == row["id"]).values(configured={
            "name_ja": row["name_ja"], "name_en": row["name_en"], "seats": sorted(seats.get(row["id"], []))}))


def downgrade() -> None:
    with op.batch_alter_table('strategy', schema=None) as batch_op:
        batch_op.drop_column('reminders')
    with op.batch_alter_table('council', schema=None) as batch_op:
        batch_op.drop_column('configured')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('configured')
