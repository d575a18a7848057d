"""The hub's simulated partners and curators, for `pdca simulate --actors auto` and the
living sample: through the year a citizen, a citizens' group and a local expert send what
they saw and did (on fixed days, so the same day gives the same history), and a curator who
did not send it takes each item into review two days later and accepts it two days after;
the citizen's first record of a year is returned once for a clearer place and sent again;
an expert verifies the protected salamander's identification. All through the same `open`
and `fire` as people on the web.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select

from engine import db
from engine.clock import from_storage
from engine.runtime import Workflow
from workflows import bodies, service
from workflows.acting import done_on, take_step
from workflows.hub.spec import ACTIVITY, OBSERVATION
from workflows.models import Action, Council, HubItem, Membership, Person
from workflows.tenants import Tenant

ACTING_HOUR = time(10, 0)
TAKE_AFTER = timedelta(days=2)
ACCEPT_AFTER = timedelta(days=2)
RESEND_AFTER = timedelta(days=3)
hub = HubItem.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Sending:
    month_day: tuple[int, int]
    sender: str
    """who sends it: `citizen`, `group` or `expert` (the first partner of that organisation kind)"""
    kind: str
    fields: Mapping[str, Any]


YEAR = (
    Sending((5, 3), "citizen", OBSERVATION, {
        "vernacularName": "ニホンアカガエル", "scientificName": "Rana japonica",
        "speciesGroup": "amphibians_reptiles",
        "decimalLatitude": "35.6213", "decimalLongitude": "139.5208", "coordinateUncertaintyInMeters": "20",
        "locality": "みどり公園", "basisOfRecord": "HumanObservation", "occurrenceStatus": "present",
        "individualCount": "4", "actions": ["2-2-1"]}),
    Sending((6, 7), "group", ACTIVITY, {
        "title": "春の生きもの調査", "locality": "緑川 中流の河川敷", "decimalLatitude": "35.6120",
        "decimalLongitude": "139.5480", "participants": "24",
        "text": "会員と市民で河川敷の植物・昆虫・鳥を調べ、記録を情報拠点に送りました。",
        "actions": ["3-1-1", "1-1-1"]}),
    Sending((7, 20), "group", OBSERVATION, {
        "vernacularName": "トウキョウサンショウウオ", "scientificName": "Hynobius tokyoensis",
        "speciesGroup": "amphibians_reptiles", "decimalLatitude": "35.6588", "decimalLongitude": "139.4821",
        "coordinateUncertaintyInMeters": "10", "locality": "北部の谷戸 湧水池", "basisOfRecord": "HumanObservation",
        "occurrenceStatus": "present", "individualCount": "3", "actions": ["1-2-2"]}),
    Sending((8, 23), "group", ACTIVITY, {
        "title": "夏休み 親子生きもの調査", "locality": "みどり公園 じゃぶじゃぶ池", "decimalLatitude": "35.6209",
        "decimalLongitude": "139.5214", "participants": "28",
        "text": "親子14組で池と草地の生きものを調べ、カエル・トンボ・バッタなど21種を記録しました。",
        "actions": ["3-1-1"]}),
    Sending((9, 15), "expert", OBSERVATION, {
        "vernacularName": "キンラン", "scientificName": "Cephalanthera falcata", "speciesGroup": "plants",
        "decimalLatitude": "35.6402", "decimalLongitude": "139.5011", "coordinateUncertaintyInMeters": "15",
        "locality": "西部の里山林", "basisOfRecord": "HumanObservation", "occurrenceStatus": "present",
        "individualCount": "12", "actions": ["1-1-2"]}),
    Sending((10, 12), "group", ACTIVITY, {
        "title": "秋のトンボ調査", "locality": "緑川 中流", "decimalLatitude": "35.6151",
        "decimalLongitude": "139.5402",
        "participants": "18", "text": "アキアカネなど9種のトンボを確認しました。", "actions": ["3-1-1"]}),
    Sending((11, 3), "citizen", OBSERVATION, {
        "vernacularName": "オオキンケイギク", "scientificName": "Coreopsis lanceolata", "speciesGroup": "plants",
        "decimalLatitude": "35.5978", "decimalLongitude": "139.5633", "coordinateUncertaintyInMeters": "30",
        "locality": "南部の河川堤防", "basisOfRecord": "HumanObservation", "occurrenceStatus": "present",
        "individualCount": "30", "actions": ["1-2-1"], "remarks": "特定外来生物。堤防の法面に群生。"}),
    Sending((1, 24), "group", ACTIVITY, {
        "title": "冬の野鳥調査", "locality": "緑川 下流", "decimalLatitude": "35.6050", "decimalLongitude": "139.5590",
        "participants": "15", "text": "カモ類を中心に24種の野鳥を数えました。", "actions": ["3-1-1"]}),
)
"""What the partners send each fiscal year, by month and day (the group runs its four surveys a
year for action 3-1-1, whose indicator counts their participants)."""
SENDERS = {"citizen": ("citizen",), "group": ("citizens_group",), "expert": ("local_expert", "research")}
RETURNED_ONCE = (5, 3)
"""The sending a curator returns once each year, asking for a clearer place."""


class Actors:
    def __init__(self, engine: Engine, workflow: Workflow, conn: Connection, tenant: Tenant, started: date, *,
                 laggards: Mapping[str, str] | None = None, end: date | None = None) -> None:
        self.engine = engine
        self.workflow = workflow
        self.tenant = tenant
        self.senders = {role: self._partner(conn, kinds) for role, kinds in SENDERS.items()}
        self.curators = self._seated(conn, bodies.CURATORS)
        self.experts = self._seated(conn, bodies.EXPERTS)

    def _seated(self, conn: Connection, body: str) -> list[str]:
        return list(conn.execute(
            select(Person.email).join(Membership, Membership.person_id == Person.id)
            .join(Council, Council.id == Membership.council_id)
            .where(Council.strategy_id == self.tenant.id, Council.key == body, Person.active)
            .order_by(Person.email)).scalars())

    def _partner(self, conn: Connection, kinds: tuple[str, ...]) -> str | None:
        partners = self._seated(conn, bodies.PARTNERS)
        found = conn.execute(select(Person.email).where(Person.email.in_(partners),  # type: ignore[attr-defined]
                                                        Person.organisation_kind.in_(kinds))  # type: ignore[union-attr]
                             .order_by(Person.email)).scalars().first()
        return found

    def act(self, day: date, month: Any) -> None:
        now = datetime.combine(day, ACTING_HOUR, self.tenant.calendar.zone)
        with db.writing(self.engine) as conn:
            for sending in YEAR:
                if (day.month, day.day) == sending.month_day:
                    self._send(conn, sending, now, month)
            self._curate(conn, day, now, month)

    def _send(self, conn: Connection, sending: Sending, now: datetime, month: Any) -> None:
        email = self.senders.get(sending.sender)
        if email is None:
            return
        known = set(conn.execute(select(Action.code).where(Action.strategy_id == self.tenant.id,
                                                           Action.status == "active")).scalars())
        fields = dict(sending.fields) | {"eventDate": (now.date() - timedelta(days=1)).isoformat(),
                                         "actions": [c for c in sending.fields["actions"] if c in known]}
        trigger = "send_observation" if sending.kind == OBSERVATION else "send_activity"
        if done_on(conn, workflow=self.workflow.spec.name, trigger=trigger, actor=email, now=now):
            return  # a replayed day: sent already
        take_step(month, lambda: [self.workflow.open(conn, trigger, service.actor_for(conn, email), fields,
                                                      now=now, tenant=self.tenant.id)])

    def _curate(self, conn: Connection, day: date, now: datetime, month: Any) -> None:
        zone = self.tenant.calendar.zone
        rows = conn.execute(select(hub.c.id, hub.c.state, hub.c.updated_at, hub.c.created_by, hub.c.event_date,
                                   hub.c.scientific_name, hub.c.verified_by, hub.c.returned_comment,
                                   Person.email.label("sender"))  # type: ignore[attr-defined]
                            .join(Person, Person.id == hub.c.created_by)
                            .where(hub.c.tenant_id == self.tenant.id,
                                   hub.c.state.in_(["submitted", "in_review", "returned"]))
                            .order_by(hub.c.id)).all()
        for r in rows:
            waited = day - from_storage(r.updated_at).astimezone(zone).date()
            curator = next((c for c in self.curators if c != r.sender), None)
            if curator is None:
                continue
            if r.state == "submitted" and waited >= TAKE_AFTER:
                self._fire(conn, r.id, "take", curator, {}, now, month)
            elif r.state == "in_review" and r.scientific_name and r.scientific_name.startswith("Hynobius") \
                    and r.verified_by is None:
                expert = next((e for e in self.experts if e != r.sender), None)
                if expert:
                    self._fire(conn, r.id, "verify", expert, {"identifiedAs": r.scientific_name}, now, month)
            elif r.state == "in_review" and waited >= ACCEPT_AFTER:
                sent_on = r.event_date + timedelta(days=1)  # partners send the day after they saw it
                if (sent_on.month, sent_on.day) == RETURNED_ONCE and not self._returned_before(conn, r.id):
                    self._fire(conn, r.id, "return_item", curator,
                               {"comment": "観察した場所を、公園のどのあたりか分かるように書き足してください。"},
                               now, month)
                else:
                    self._fire(conn, r.id, "accept", curator, {}, now, month)
            elif r.state == "returned" and waited >= RESEND_AFTER:
                self._resend(conn, r.id, r.sender, now, month)

    def _returned_before(self, conn: Connection, item: int) -> bool:
        from engine.audit import AuditEvent

        return conn.execute(select(AuditEvent.id).where(
            AuditEvent.workflow == self.workflow.name, AuditEvent.instance_id == item,
            AuditEvent.trigger == "return_item")).first() is not None

    def _resend(self, conn: Connection, item: int, sender: str, now: datetime, month: Any) -> None:
        instance = self.workflow.store.load(conn, item)
        if instance is None:
            return
        sent = self.workflow.store.sent_as(instance)  # type: ignore[attr-defined]
        sent["locality"] = f"{sent['locality']} 北側の池のほとり"
        fields = {f"item.{k}": (v.isoformat() if isinstance(v, date) else v) for k, v in sent.items()
                  if v not in (None, "", [])}
        fields = {k: (v if isinstance(v, list) else str(v)) for k, v in fields.items()}
        self._fire(conn, item, "resend", sender, fields, now, month)

    def _fire(self, conn: Connection, item: int, trigger: str, email: str, fields: dict[str, Any], now: datetime,
              month: Any) -> None:
        take_step(month, lambda: self.workflow.fire_in(conn, item, trigger, service.actor_for(conn, email), fields,
                                                        now=now))

