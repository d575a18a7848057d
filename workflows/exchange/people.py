"""The exchange as people use it in `pdca simulate --actors auto` and the living sample:
each June the citizens' group raises a public topic on the invasive plant its members
keep finding, linked to the action against it; three days later a division owning that
action replies; a month after it was raised the group closes it. Through the same `open`
and `fire` as people on the web.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select

from engine import db
from engine.clock import from_storage
from engine.runtime import Workflow
from workflows import bodies, service
from workflows.acting import done_on, take_step
from workflows.exchange.store import reply_table, topic_table
from workflows.models import Action, ActionOwner, Council, Membership, Person
from workflows.tenants import Tenant

ACTING_HOUR = time(19, 0)
RAISED_ON = (6, 20)
ACTION = "1-2-1"
REPLY_AFTER = timedelta(days=3)
CLOSE_AFTER = timedelta(days=30)
TOPIC = {
    "title": "オオキンケイギクの駆除に市民が加われる機会を",
    "text": ("河川堤防でオオキンケイギクの群生が毎年記録されています（情報拠点の記録のとおり）。"
             "開花前の駆除に市民や団体が参加できる日を設けていただけないでしょうか。道具の貸出があれば会員も参加できます。"),
    "public": "yes",
}
REPLY = ("記録をありがとうございます。来年度は5月に市民参加の駆除作業を2回計画し、道具は市で用意します。"
         "日程が決まりましたら情報拠点でお知らせします。")


class Actors:
    def __init__(self, engine: Engine, workflow: Workflow, conn: Connection, tenant: Tenant, started: date, *,
                 laggards: Mapping[str, str] | None = None, end: date | None = None) -> None:
        self.engine = engine
        self.workflow = workflow
        self.tenant = tenant
        self.group = conn.execute(
            select(Person.email).join(Membership, Membership.person_id == Person.id)
            .join(Council, Council.id == Membership.council_id)
            .where(Council.strategy_id == tenant.id, Council.key == bodies.PARTNERS, Person.active,
                   Person.organisation_kind == "citizens_group")  # type: ignore[arg-type]
            .order_by(Person.email)).scalars().first()
        self.owner = conn.execute(
            select(Person.email).join(ActionOwner, ActionOwner.person_id == Person.id)
            .join(Action, Action.id == ActionOwner.action_id)
            .where(Action.strategy_id == tenant.id, Action.code == ACTION, Action.status == "active", Person.active)
            .order_by(Person.email)).scalars().first()

    def act(self, day: date, month: Any) -> None:
        if self.group is None or self.owner is None:
            return
        now = datetime.combine(day, ACTING_HOUR, self.tenant.calendar.zone)
        zone = self.tenant.calendar.zone
        t = topic_table.c
        open_topics = select(t.id, t.posted_at).where(t.tenant_id == self.tenant.id, t.state == "open",
                                                      t.title == TOPIC["title"])
        if (day.month, day.day) != RAISED_ON:
            with db.reading(self.engine) as conn:  # most days there is nothing to answer or close
                if conn.execute(open_topics.limit(1)).first() is None:
                    return
        with db.writing(self.engine) as conn:
            if (day.month, day.day) == RAISED_ON and not done_on(
                    conn, workflow=self.workflow.spec.name, trigger="post", actor=self.group, now=now):
                take_step(month, lambda: [self.workflow.open(
                    conn, "post", service.actor_for(conn, self.group), TOPIC | {"actions": [ACTION]}, now=now,
                    tenant=self.tenant.id)])
            for topic_id, posted_at in conn.execute(open_topics).all():
                raised = from_storage(posted_at).astimezone(zone).date()
                replied = conn.execute(select(reply_table.c.id).where(reply_table.c.topic_id == topic_id)).first()
                if replied is None and day >= raised + REPLY_AFTER:
                    take_step(month, lambda topic=topic_id: self.workflow.fire_in(
                        conn, topic, "reply", service.actor_for(conn, self.owner), {"text": REPLY}, now=now))
                elif replied is not None and day >= raised + CLOSE_AFTER:
                    take_step(month, lambda topic=topic_id: self.workflow.fire_in(
                        conn, topic, "close", service.actor_for(conn, self.group), {}, now=now))

