"""the report's own fields, declared per strategy

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

A strategy declares in its configuration what its yearly report asks beyond the cycle's own
fields (課題及び今後の見通し, an outlook grade, 予算額・決算額): `pdca init` keeps that list
with the strategy (`report_fields`), and a cycle keeps what its report said in them
(`report_details`). Existing rows have none: their reports asked for nothing more.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_details', sa.JSON(), nullable=True))
    with op.batch_alter_table('strategy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_fields', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('strategy', schema=None) as batch_op:
        batch_op.drop_column('report_fields')
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.drop_column('report_details')
