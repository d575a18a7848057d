"""many workflows, many strategies

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

The audit and the outbox name the workflow and the tenant (strategy) of what they concern;
the outbox's fiscal year moves into its payload. Councils, the secretariat and (new) the
advisors become bodies of one strategy; a person's advisor flag becomes a seat. An opinion
request is an instance of its own workflow (state, version). Drafts belong to any
workflow's instance.

Existing rows are carried over: a database made by an earlier release has one strategy,
which every row then belongs to.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

CYCLE_KINDS = (
    "plan_requested", "report_requested", "plan_reminder", "report_reminder", "plan_overdue", "report_overdue",
    "plan_escalation", "report_escalation", "internal_packet", "promotion_packet", "decision_reminder",
    "decision_overdue", "returned", "decided", "revision_requested", "publication_done",
)
UQ = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    conn = op.get_bind()
    postgres = conn.dialect.name == "postgresql"

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tenant_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_audit_event_tenant', ['tenant_id', 'id'], unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('workflow', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('tenant_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('payload', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_tenant_id'), ['tenant_id'], unique=False)

    if postgres:
        op.drop_constraint("council_key_key", "council", type_="unique")
        op.add_column("council", sa.Column('strategy_id', sa.Integer(), nullable=True))
    else:
        with op.batch_alter_table('council', schema=None, naming_convention=UQ) as batch_op:
            batch_op.drop_constraint("uq_council_key", type_="unique")
            batch_op.add_column(sa.Column('strategy_id', sa.Integer(), nullable=True))

    with op.batch_alter_table('opinion_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True))

    _carry_over(conn)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('payload', existing_type=sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        batch_op.drop_column('fy')
    with op.batch_alter_table('council', schema=None) as batch_op:
        batch_op.alter_column('strategy_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_council_strategy_id'), ['strategy_id'], unique=False)
        batch_op.create_unique_constraint('uq_council_strategy_id', ['strategy_id', 'key'])
        batch_op.create_foreign_key('fk_council_strategy_id_strategy', 'strategy', ['strategy_id'], ['id'])
    with op.batch_alter_table('opinion_request', schema=None) as batch_op:
        batch_op.alter_column('state', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        batch_op.alter_column('version', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('advisor')

    op.create_table('draft_next',
    sa.Column('workflow', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('saved_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('saved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('workflow', 'instance_id', 'trigger', name='draft_pkey_v3'),
    )
    meta = sa.MetaData()
    old = sa.Table("draft", meta, autoload_with=conn)
    new = sa.Table("draft_next", meta, autoload_with=conn)
    conn.execute(sa.insert(new).from_select(
        ["workflow", "instance_id", "trigger", "values", "saved_by", "saved_at"],
        sa.select(sa.literal("action_cycle"), old.c.cycle_id, old.c.trigger, old.c["values"], old.c.saved_by,
                  old.c.saved_at)))
    op.drop_table('draft')
    op.rename_table('draft_next', 'draft')


def _carry_over(conn: sa.Connection) -> None:
    meta = sa.MetaData()
    strategy = sa.Table("strategy", meta, autoload_with=conn)
    council = sa.Table("council", meta, autoload_with=conn)
    membership = sa.Table("membership", meta, autoload_with=conn)
    person = sa.Table("person", meta, autoload_with=conn)
    action = sa.Table("action", meta, autoload_with=conn)
    cycle = sa.Table("cycle", meta, autoload_with=conn)
    audit = sa.Table("audit_event", meta, autoload_with=conn)
    outbox = sa.Table("outbox", meta, autoload_with=conn)
    opinion = sa.Table("opinion_request", meta, autoload_with=conn)
    first = conn.execute(sa.select(sa.func.min(strategy.c.id))).scalar()

    # Bodies belong to the (only) strategy; the advisors become a body of it.
    conn.execute(sa.update(council).values(strategy_id=first))
    if first is not None:
        advisors = [r.id for r in conn.execute(sa.select(person.c.id).where(person.c.advisor.is_(True)))]
        body = conn.execute(sa.insert(council).values(
            strategy_id=first, key="advisors", name_ja="有識者", name_en="Advisors")).inserted_primary_key[0]
        if advisors:
            conn.execute(sa.insert(membership), [{"council_id": body, "person_id": p, "role": "member"}
                                                 for p in advisors])
    else:
        conn.execute(sa.delete(membership))
        conn.execute(sa.delete(council))

    # Opinion requests are instances: answered ones moved twice.
    conn.execute(sa.update(opinion).values(state="asked", version=1, updated_at=opinion.c.asked_at))
    conn.execute(sa.update(opinion).where(opinion.c.answered_at.is_not(None))
                 .values(state="answered", version=2, updated_at=opinion.c.answered_at))

    # The audit's tenant: the strategy of the instance.
    cycle_strategy = sa.select(action.c.strategy_id).join(cycle, cycle.c.action_id == action.c.id) \
        .where(cycle.c.id == audit.c.instance_id).scalar_subquery()
    opinion_strategy = sa.select(action.c.strategy_id).join(cycle, cycle.c.action_id == action.c.id) \
        .join(opinion, opinion.c.cycle_id == cycle.c.id).where(opinion.c.id == audit.c.instance_id).scalar_subquery()
    action_strategy = sa.select(action.c.strategy_id).where(action.c.id == audit.c.instance_id).scalar_subquery()
    conn.execute(sa.update(audit).where(audit.c.workflow == "action_cycle").values(tenant_id=cycle_strategy))
    conn.execute(sa.update(audit).where(audit.c.workflow == "opinion").values(tenant_id=opinion_strategy))
    conn.execute(sa.update(audit).where(audit.c.workflow == "action").values(tenant_id=action_strategy))

    # The outbox: the fiscal year moves into the payload; each row names its workflow; an
    # opinion's messages name the request (its id is in their step: o12, o12:-7).
    rows = conn.execute(sa.select(outbox.c.id, outbox.c.kind, outbox.c.fy, outbox.c.step, outbox.c.instance_id,
                                  outbox.c.dedupe_key)).all()
    general, cycles, opinions = [], [], []
    for row in rows:
        values = {"_id": row.id, "payload": {"fy": row.fy} if row.fy is not None else {}}
        if row.kind.startswith("opinion_"):
            head = (row.step or "").split(":", 1)[0]
            request = int(head[1:]) if head.startswith("o") and head[1:].isdigit() else row.instance_id
            opinions.append(values | {"request": request})
        elif row.kind in CYCLE_KINDS:
            # A message to a person now names its strategy in its key (person:7@1), so the
            # same kind to the same person from two strategies is two messages.
            parts = row.dedupe_key.split("|")
            if len(parts) >= 5 and parts[1].startswith("person:") and "@" not in parts[1]:
                parts[1] += f"@{first}"
            cycles.append(values | {"key": "|".join(parts)})
        else:
            general.append(values)
    by_id = outbox.c.id == sa.bindparam("_id")
    if general:
        conn.execute(sa.update(outbox).where(by_id).values(payload=sa.bindparam("payload")), general)
    if cycles:
        conn.execute(sa.update(outbox).where(by_id).values(
            payload=sa.bindparam("payload"), workflow="action_cycle", tenant_id=first,
            dedupe_key=sa.bindparam("key")), cycles)
    if opinions:
        conn.execute(sa.update(outbox).where(by_id).values(
            payload=sa.bindparam("payload"), workflow="opinion", tenant_id=first,
            instance_id=sa.bindparam("request")), opinions)


def downgrade() -> None:
    raise NotImplementedError("0003 carries rows over to many workflows and strategies; restore a backup to go back")
