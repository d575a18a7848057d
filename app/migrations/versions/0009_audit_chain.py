"""the audit trail as a hash chain per strategy

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

Each audit row takes its place in its strategy's chain (`seq`) and carries the hash of the
row before it (`prev_hash`) and the SHA-256 of that link with its own place and content
(`hash`), so that a row edited, inserted, deleted or moved after it was written is found
(`pdca audit verify`). The rows already there are sealed here, in the order they were
written; a yearly publication made from now on records its strategy's chain head.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

from engine.audit import seal_all

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index('ix_audit_event_chain', ['tenant_id', 'seq'], unique=False)
        batch_op.create_index('ix_audit_event_unsealed', ['tenant_id', 'id'], unique=False,
                              sqlite_where=sa.text('hash IS NULL'), postgresql_where=sa.text('hash IS NULL'))
    seal_all(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_unsealed', sqlite_where=sa.text('hash IS NULL'),
                            postgresql_where=sa.text('hash IS NULL'))
        batch_op.drop_index('ix_audit_event_chain')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
