"""a fiscal year's calendar in the database

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Milestone dates fixed for one fiscal year and extra closed dates move from config.toml
into the database, so that admins can set them on the web. `pdca init` copies the
configuration's into a strategy that has none yet.
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'calendar_year',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('strategy_id', sa.Integer(), nullable=False),
        sa.Column('fy', sa.Integer(), nullable=False),
        sa.Column('overrides', sa.JSON(), nullable=False),
        sa.Column('closed_dates', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['strategy_id'], ['strategy.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('strategy_id', 'fy'),
    )
    with op.batch_alter_table('calendar_year', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_year_strategy_id'), ['strategy_id'], unique=False)


def downgrade() -> None:
    op.drop_table('calendar_year')
