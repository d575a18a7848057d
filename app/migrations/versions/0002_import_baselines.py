"""what the last import wrote, and the actions' own trail

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

An import updates only what it still owns: a field that differs from what the last import
wrote was changed since by a step or an admin, and is kept. Existing rows take their
current values as that baseline, except a plan that an approved revision replaced; the
adoptions and endings so far are copied from the cycles' audit into the actions' own
trail, so a later import can say who changed what, and when.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

ACTION_FIELDS = ("basic_policy", "basic_policy_en", "title_ja", "title_en", "division", "plan")
INDICATOR_FIELDS = ("name_ja", "name_en", "unit", "direction", "baseline_value", "baseline_year",
                    "target_value", "target_year")


def upgrade() -> None:
    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.add_column(sa.Column('imported', sa.JSON(), nullable=True))
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.add_column(sa.Column('imported', sa.JSON(), nullable=True))
    _backfill(op.get_bind())


def _backfill(conn: sa.Connection) -> None:
    meta = sa.MetaData()
    action = sa.Table("action", meta, autoload_with=conn)
    indicator = sa.Table("indicator", meta, autoload_with=conn)
    owner = sa.Table("action_owner", meta, autoload_with=conn)
    person = sa.Table("person", meta, autoload_with=conn)
    cycle = sa.Table("cycle", meta, autoload_with=conn)
    audit = sa.Table("audit_event", meta, autoload_with=conn)
    owners: dict[int, list[str]] = {}
    for action_id, email in conn.execute(
        sa.select(owner.c.action_id, person.c.email).join(person, person.c.id == owner.c.person_id)
        .order_by(person.c.email)
    ):
        owners.setdefault(action_id, []).append(email)
    steps = conn.execute(
        sa.select(cycle.c.action_id, cycle.c.fy, cycle.c.id, audit.c.trigger, audit.c.actor, audit.c.at)
        .join(audit, sa.and_(audit.c.workflow == "action_cycle", audit.c.instance_id == cycle.c.id))
        .where(audit.c.trigger.in_(["approve_revision", "decide_complete", "decide_discontinue"]))
        .order_by(audit.c.id)
    ).all()
    for row in conn.execute(sa.select(action)).mappings():
        adoptions = [s for s in steps if s.action_id == row["id"] and s.trigger == "approve_revision"]
        endings = [s for s in steps if s.action_id == row["id"] and s.trigger != "approve_revision"]
        baseline = {name: row[name] for name in ACTION_FIELDS}
        baseline["owners"] = owners.get(row["id"], [])
        if adoptions:
            baseline["plan"] = None  # replaced by a revision: not the file's any more
            last = adoptions[-1]
            _trail(conn, audit, row["id"], last, "adopt_plan", {"plan": [None, row["plan"]]}, row["status"])
        if endings and row["status"] != "active":
            _trail(conn, audit, row["id"], endings[0], "end_action", {"status": ["active", row["status"]]},
                   "active", to_state=row["status"])
        conn.execute(sa.update(action).where(action.c.id == row["id"]).values(imported=baseline))
    for row in conn.execute(sa.select(indicator)).mappings():
        conn.execute(sa.update(indicator).where(indicator.c.id == row["id"])
                     .values(imported={name: row[name] for name in INDICATOR_FIELDS}))


def _trail(conn, audit, action_id, step, trigger, changes, status, to_state=None) -> None:  # type: ignore[no-untyped-def]
    conn.execute(sa.insert(audit).values(
        workflow="action", instance_id=action_id, at=step.at, actor=step.actor, trigger=trigger,
        from_state=status, to_state=to_state or status, version=0, comment=None,
        fields={"changes": changes, "by": step.trigger, "fy": step.fy, "cycle": step.id},
    ))


def downgrade() -> None:
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.drop_column('imported')
    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.drop_column('imported')
