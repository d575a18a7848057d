"""meetings, the exchange, confirmed addresses, sign-in limits, indicator ranges

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

Each council meeting from the calendar (or an extra one the secretariat calls) is a record
with its agenda, attendance, minutes and the decisions taken on its items (`meeting`, an
instance of the meeting workflow). Partners, divisions and council members post topics to
the promotion council's exchange, linked to actions, and reply to them (`exchange_topic`,
`exchange_reply`); public topics and approved minutes are published. Someone asking to
become a partner confirms their address through a link mailed to it before the secretariat
sees the request (`partner_request.confirm_digest`, `confirmed_at`). Sign-in link requests
and password attempts are counted for a day, so their limits hold across processes
(`sign_in_attempt`). An indicator may declare the least and most value it can take
(`indicator.minimum`, `maximum`).
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def _instance_columns() -> list[sa.Column]:
    return [
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        'meeting',
        *_instance_columns(),
        sa.Column('body', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('fy', sa.Integer(), nullable=False),
        sa.Column('held_on', sa.Date(), nullable=False),
        sa.Column('regular', sa.Boolean(), nullable=False),
        sa.Column('agenda', sa.JSON(), nullable=False),
        sa.Column('attendance', sa.JSON(), nullable=True),
        sa.Column('minutes', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('decisions', sa.JSON(), nullable=True),
        sa.Column('returned_comment', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('cancelled_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['strategy.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_meeting_tenant_body_fy', ['tenant_id', 'body', 'fy'], unique=False)
    op.create_table(
        'exchange_topic',
        *_instance_columns(),
        sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('actions', sa.JSON(), nullable=False),
        sa.Column('public', sa.Boolean(), nullable=False),
        sa.Column('posted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('hidden_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['strategy.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('exchange_topic', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_topic_tenant_id'), ['tenant_id'], unique=False)
    op.create_table(
        'exchange_reply',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('topic_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['topic_id'], ['exchange_topic.id'], ),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('exchange_reply', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_reply_topic_id'), ['topic_id'], unique=False)


    with op.batch_alter_table('partner_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirm_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('confirmed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_partner_request_confirm_digest'), ['confirm_digest'], unique=False)


    op.create_table(
        'sign_in_attempt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column('client', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('failed', sa.Boolean(), nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('sign_in_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_attempt_address_at', ['address', 'at'], unique=False)
        batch_op.create_index('ix_sign_in_attempt_client_at', ['client', 'at'], unique=False)


    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.add_column(sa.Column('minimum', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('maximum', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.drop_column('maximum')
        batch_op.drop_column('minimum')
    op.drop_table('sign_in_attempt')
    with op.batch_alter_table('partner_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_request_confirm_digest'))
        batch_op.drop_column('confirmed_at')
        batch_op.drop_column('confirm_digest')
    op.drop_table('exchange_reply')
    op.drop_table('exchange_topic')
    op.drop_table('meeting')
