"""people, bodies and reminders set on the web; the strategy's own process

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

Admins add and edit people, the bodies' seats and the reminder series on the web. `pdca
init` still brings the configuration in, but only over what it wrote itself: each person
and body keeps what the configuration last wrote (`configured`), and a value that differs
from it now was changed on the web and is kept. Existing rows take their current values as
that baseline. A strategy's reminder series (`reminders`) is copied from the configuration
once, like its calendar years.

A strategy is an instance of a workflow of its own (`strategy_process`: active, the final
review in its target year, the next strategy's drafting, finishing, superseded), may be the
successor of another (`predecessor_id`), and keeps what the configuration last wrote of it
(`configured`) so that an approved extension of its period survives `pdca init`. The final
review's package is frozen and hashed (`review_package`), a new version for a correction.
Actions and indicators are tagged with the framework targets they serve (`framework_tag`); an
indicator carried into a next strategy keeps how its target was set (`target_basis`); a cycle
keeps the interim progress its owners posted during the year (`interim`).
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


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
        batch_op.add_column(sa.Column('configured', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('predecessor_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_strategy_predecessor', 'strategy', ['predecessor_id'], ['id'])
    op.create_table(
        'strategy_process',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('review_summary', sa.String(), nullable=True),
        sa.Column('mid_review_summary', sa.String(), nullable=True),
        sa.Column('extension', sa.JSON(), nullable=True),
        sa.Column('draft', sa.JSON(), nullable=True),
        sa.Column('returned_comment', sa.String(), nullable=True),
        sa.Column('next_strategy_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['strategy.id']),
        sa.ForeignKeyConstraint(['next_strategy_id'], ['strategy.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant_id'),
    )
    op.create_table(
        'review_package',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('strategy_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('note', sa.String(), nullable=True),
        sa.Column('content', sa.JSON(), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['strategy_id'], ['strategy.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('strategy_id', 'version'),
    )
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_basis', sa.JSON(), nullable=True))
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('interim', sa.JSON(), nullable=True))
    op.create_table(
        'framework_tag',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('strategy_id', sa.Integer(), nullable=False),
        sa.Column('action_code', sa.String(length=32), nullable=False),
        sa.Column('indicator_code', sa.String(length=32), nullable=False),
        sa.Column('framework', sa.String(length=32), nullable=False),
        sa.Column('target', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['strategy_id'], ['strategy.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('strategy_id', 'action_code', 'indicator_code', 'framework', 'target'),
    )
    with op.batch_alter_table('framework_tag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_framework_tag_strategy_id'), ['strategy_id'], unique=False)
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
    strategy = sa.Table("strategy", meta, autoload_with=conn)
    for row in conn.execute(sa.select(strategy)).mappings():
        conn.execute(sa.update(strategy).where(strategy.c.id == row["id"]).values(configured={
            k: row[k] for k in ("name_ja", "name_en", "first_fy", "target_fy", "grades")}))
    for row in conn.execute(sa.select(council)).mappings():
        conn.execute(sa.update(council).where(council.c.id == row["id"]).values(configured={
            "name_ja": row["name_ja"], "name_en": row["name_en"], "seats": sorted(seats.get(row["id"], []))}))


def downgrade() -> None:
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.drop_column('interim')
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.drop_column('target_basis')
    op.drop_table('framework_tag')
    op.drop_table('review_package')
    op.drop_table('strategy_process')
    with op.batch_alter_table('strategy', schema=None) as batch_op:
        batch_op.drop_constraint('fk_strategy_predecessor', type_='foreignkey')
        batch_op.drop_column('predecessor_id')
        batch_op.drop_column('configured')
        batch_op.drop_column('reminders')
    with op.batch_alter_table('council', schema=None) as batch_op:
        batch_op.drop_column('configured')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('configured')
