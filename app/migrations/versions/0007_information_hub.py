"""the information hub: what partners send, and who they are

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

Partners send observations (with their Darwin Core terms) and activity reports to the
city's information hub, where curators accept, return or reject them (`hub_item`, an
instance of the hub's workflow). A person may belong to an organisation of a kind (a
citizens' group, a university, the museum, ...: `organisation`, `organisation_kind`).
The hub's bodies (curators, experts, partners) are bodies like the councils, in `council`.
An indicator may take its yearly value from the hub (`hub_measure`). Photos sent with an
item are kept re-encoded from their pixels, without the camera's metadata (`hub_photo`).
Anyone may ask to become a partner; the secretariat accepts or declines (`partner_request`).
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('organisation_kind', sqlmodel.sql.sqltypes.AutoString(length=32),
                                      nullable=True))
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hub_measure', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    op.create_table(
        'hub_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('occurrence_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column('event_date', sa.Date(), nullable=False),
        sa.Column('scientific_name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column('vernacular_name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column('species_group', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column('latitude', sa.Float(), nullable=True),
        sa.Column('longitude', sa.Float(), nullable=True),
        sa.Column('uncertainty_m', sa.Float(), nullable=True),
        sa.Column('locality', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('basis_of_record', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column('occurrence_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column('individual_count', sa.Integer(), nullable=True),
        sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column('remarks', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('participants', sa.Integer(), nullable=True),
        sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('actions', sa.JSON(), nullable=False),
        sa.Column('curator', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column('verified_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column('verified_name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column('returned_comment', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('rejected_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('withdrawn_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('accepted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('extra', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['created_by'], ['person.id'], ),
        sa.ForeignKeyConstraint(['tenant_id'], ['strategy.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('occurrence_id'),
    )
    with op.batch_alter_table('hub_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hub_item_tenant_id'), ['tenant_id'], unique=False)
    op.create_table(
        'hub_photo',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['hub_item.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('item_id', 'seq'),
    )
    with op.batch_alter_table('hub_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hub_photo_item_id'), ['item_id'], unique=False)


    op.create_table(
        'partner_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('organisation', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column('organisation_kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column('message', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('declined_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['strategy.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('partner_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_request_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    op.drop_table('partner_request')
    op.drop_table('hub_photo')
    with op.batch_alter_table('hub_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hub_item_tenant_id'))
    op.drop_table('hub_item')
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.drop_column('hub_measure')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('organisation_kind')
        batch_op.drop_column('organisation')
