"""Becoming a partner of the hub, as data: anyone may ask on the public page (a citizen, a
group, a business, a school) and confirms their address through the link mailed to it;
then the strategy's secretariat is told, and accepts (the person is registered, or found,
and seated among the partners, and told they may now sign in with their address) or
declines with a reason, which the applicant is told by mail. A request whose address is
not confirmed within a week lapses. The public form opens the request, and the link
confirms it, as the system acting for the applicant, who has no account yet; every step
is audited like any other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, String, insert, literal, select, update

from engine.clock import from_storage, to_storage
from engine.errors import Said
from engine.outbox import dedupe_key, queue
from engine.runtime import Instance, Workflow
from engine.spec import OPENING, SYSTEM, Changes, Field, Guard, Label, Role, State, Trigger, WorkflowSpec
from workflows import bodies
from workflows.basic import BasicStore
from workflows.messages import message_columns
from workflows.models import Council, Membership, PartnerRequest, Person
from workflows.registry import Entry, MessageKind
from workflows.tenants import Tenants
from workflows.tick import TickContext

if TYPE_CHECKING:
    from engine.runtime import FireContext

request_table = PartnerRequest.__table__  # type: ignore[attr-defined]

SECRETARIAT = "secretariat"
APPLICANT = "applicant"
KINDS = {
    "citizen": Label("市民", "A citizen"), "citizens_group": Label("市民団体", "A citizens' group"),
    "business": Label("事業者", "A business"), "research": Label("大学・研究機関", "A university or institute"),
    "local_expert": Label("地元の有識者", "A local expert"), "agency": Label("行政機関", "An agency"),
    "museum": Label("博物館", "A museum"), "zoo_garden": Label("動植物園", "A zoo or botanical garden"),
    "environment_centre": Label("環境センター", "An environment centre"),
}


def _store(ctx: FireContext) -> JoiningStore:
    return ctx.store  # type: ignore[return-value]


CONFIRM_WITHIN = timedelta(days=7)
"""How long the mailed link confirms the address; an unconfirmed request lapses after it."""


def not_asked_twice(ctx: FireContext) -> str | None:
    """One confirmed request per address, and none from someone who already is a partner."""
    email = str(ctx.fields.get("email") or ctx.instance.data.get("email") or "").strip().lower()
    if _store(ctx).already(ctx.conn, ctx.instance.tenant, email, besides=ctx.instance.id):
        return Said(f"{email} has asked already, or is a partner already",
                    ja=f"{email} からの申込みはすでに受け付けているか、すでに連携主体として登録されています")
    return None


def record_asked(ctx: FireContext) -> Changes:
    f = ctx.fields
    return Changes({"email": f["email"].strip().lower(), "name": f["name"], "organisation": f.get("organisation"),
                    "organisation_kind": f["organisation_kind"], "language": f["language"],
                    "message": f.get("message"), "title": f"{f['name']}（{f.get('organisation') or ''}）"[:300]})


def record_confirmed(ctx: FireContext) -> Changes:
    return Changes({"confirmed_at": to_storage(ctx.now), "confirm_digest": None},
                   [("notify", {"kind": "partner_requested", "roles": [SECRETARIAT]})])


def record_accepted(ctx: FireContext) -> Changes:
    return Changes({}, [("admit", {}), ("notify", {"kind": "partner_welcome", "roles": [APPLICANT]})])


def record_declined(ctx: FireContext) -> Changes:
    return Changes({"declined_reason": ctx.comment},
                   [("notify", {"kind": "partner_declined", "roles": [APPLICANT]})])


def record_lapsed(ctx: Any) -> Changes:
    return Changes({"confirm_digest": None})



_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def an_address(value: Any, ctx: Any) -> str | None:
    """One mail address and nothing else: a line break or a second address in it would
    become headers of the message sent to it."""
    if _ADDRESS.fullmatch(str(value or "").strip()) is None:
        return "is not one email address (name@example.jp)"
    return None

JOINING = WorkflowSpec(
    "partner_request",
    states=(
        State("unconfirmed", Label("メールアドレスの確認待ち", "Waiting for the address to be confirmed")),
        State("requested", Label("事務局の確認待ち", "Waiting for the secretariat")),
        State("accepted", Label("登録済", "Registered"), final=True),
        State("declined", Label("お断り", "Declined"), final=True),
        State("lapsed", Label("確認されず失効", "Lapsed unconfirmed"), final=True),
    ),
    initial="unconfirmed",
    triggers=(
        Trigger("confirm", "unconfirmed", "requested", (SYSTEM,),
                Label("メールアドレスを確認する", "Confirm the address"),
                guards=(Guard("not_asked_twice", not_asked_twice),), record=record_confirmed),
        Trigger("lapse", "unconfirmed", "lapsed", (SYSTEM,), Label("確認されず失効する", "Lapse unconfirmed"),
                record=record_lapsed),
        Trigger("accept", "requested", "accepted", (SECRETARIAT,),
                Label("連携主体として登録する", "Register as a partner"), record=record_accepted),
        Trigger("decline", "requested", "declined", (SECRETARIAT,), Label("お断りする", "Decline"),
                fields=(Field("comment", "longtext", Label("お断りする理由", "Why")),), record=record_declined),
    ),
    roles=(Role(SECRETARIAT, Label("事務局", "The secretariat")), Role(APPLICANT, Label("申込者", "The applicant"))),
    label=Label("情報拠点の連携主体への申込み", "A request to become a partner of the hub"),
    openings=(
        Trigger("ask", OPENING, "unconfirmed", (SYSTEM,), Label("連携主体として申し込む", "Ask to become a partner"),
                fields=(Field("name", "text", Label("お名前", "Your name")),
                        Field("email", "text", Label("メールアドレス", "Email address"), check=an_address),
                        Field("organisation", "text", Label("団体・組織の名前（個人の方は空欄）",
                                                            "Organisation (empty for a citizen)"), required=False),
                        Field("organisation_kind", "choice", Label("区分", "Who you are"), choices=tuple(KINDS),
                              labels=KINDS),
                        Field("language", "choice", Label("お知らせの言語", "Language of messages"),
                              choices=("ja", "en"), labels={"ja": Label("日本語", "Japanese"),
                                                            "en": Label("英語", "English")}),
                        Field("message", "longtext", Label("活動の紹介やご質問", "About you, or a question"),
                              required=False)),
                guards=(Guard("not_asked_twice", not_asked_twice),), record=record_asked),
    ),
)


class JoiningStore(BasicStore):
    def __init__(self, tenants: Tenants) -> None:
        super().__init__(request_table, JOINING, tenants, members={SECRETARIAT: bodies.SECRETARIAT})

    def already(self, conn: Connection, tenant: int | None, email: str, *, besides: int = 0) -> bool:
        asked = conn.execute(select(request_table.c.id).where(
            request_table.c.tenant_id == tenant, request_table.c.email == email, request_table.c.id != besides,
            request_table.c.state == "requested")).first()
        seated = conn.execute(select(Membership.person_id).join(Person, Person.id == Membership.person_id)
                              .join(Council, Council.id == Membership.council_id)
                              .where(Council.strategy_id == tenant, Council.key == bodies.PARTNERS,
                                     Person.email == email)).first()
        return asked is not None or seated is not None

    def holders(self, conn: Connection, instance: Instance, roles: Sequence[str]) -> list[str]:
        applicant = [str(instance.data["email"])] if APPLICANT in roles and instance.data.get("email") else []
        return applicant + super().holders(conn, instance, [r for r in roles if r != APPLICANT])

    # -- the link that confirms the address ------------------------------------------------------

    def set_confirmation(self, conn: Connection, request_id: int, digest: str) -> None:
        """Keep the digest of the secret just mailed (the secret itself only the mail has)."""
        conn.execute(update(request_table).where(request_table.c.id == request_id).values(confirm_digest=digest))

    def by_confirmation(self, conn: Connection, digest: str, *, now: datetime) -> Instance | None:
        """The unconfirmed request this link confirms, while the link is young enough."""
        row = conn.execute(select(request_table.c.id, request_table.c.updated_at).where(
            request_table.c.confirm_digest == digest, request_table.c.state == JOINING.initial)).first()
        if row is None or to_storage(now) - from_storage(row.updated_at) > CONFIRM_WITHIN:
            return None
        return self.load(conn, row.id)

    def notify(self, conn: Connection, instance: Instance, kind: str, roles: Sequence[str], now: datetime,
               step: str | None = None, exclude: Sequence[str] = ()) -> int:
        """The applicant is an address, not yet a person: their message is queued to it, in the
        language and with the name they gave."""
        queued = super().notify(conn, instance, kind, [r for r in roles if r != APPLICANT], now, step, exclude)
        if APPLICANT not in roles or not instance.data.get("email"):
            return queued
        d = instance.data
        step = step or f"v{instance.version + 1}"
        today = self.tenants.calendar(conn, instance.tenant).today(now) if instance.tenant else now.date()
        address = literal(d["email"], String)
        rows = select(
            dedupe_key(kind, literal(f"{self.scope}:{instance.id}", String), today, step, address).label("dedupe_key"),
            address.label("recipient"), literal(instance.id).label("instance_id"),
            *message_columns(kind, workflow=self.spec.name, tenant=instance.tenant,
                             payload={"language": d["language"], "name": d["name"]}, due=today, step=step,
                             at=to_storage(now)))
        return queued + queue(conn, rows)

    def apply(self, conn: Connection, instance: Instance, effects: Sequence[tuple[str, Mapping[str, Any]]],
              ctx: FireContext) -> None:
        for kind, _ in effects:
            if kind == "admit":
                self._admit(conn, instance)
        super().apply(conn, instance, [e for e in effects if e[0] != "admit"], ctx)

    def _admit(self, conn: Connection, instance: Instance) -> None:
        """The applicant as a person (found by address, or added) seated among the partners."""
        d = instance.data
        person = conn.execute(select(Person.id, Person.organisation).where(Person.email == d["email"])).first()
        if person is None:
            person_id = conn.execute(insert(Person).values(
                email=d["email"], name=d["name"], language=d["language"], organisation=d["organisation"],
                organisation_kind=d["organisation_kind"], active=True)).inserted_primary_key[0]  # type: ignore[index]
        else:
            person_id = person.id
            if person.organisation is None:
                conn.execute(update(Person).where(Person.id == person_id).values(  # type: ignore[arg-type]
                    organisation=d["organisation"], organisation_kind=d["organisation_kind"], active=True))
        council = conn.execute(select(Council.id).where(Council.strategy_id == instance.tenant,
                                                        Council.key == bodies.PARTNERS)).scalar_one()
        conn.execute(insert(Membership).values(council_id=council, person_id=person_id, role="member"))


def clock(t: TickContext) -> None:
    """Requests whose address was not confirmed within a week lapse (their link with them);
    most days there is none, and one indexed look says so."""
    cutoff = to_storage(t.now - CONFIRM_WITHIN)
    r = request_table.c
    if t.conn.execute(select(r.id).where(r.tenant_id == t.tenant.id, r.state == JOINING.initial,
                                         r.updated_at < cutoff).limit(1)).first() is not None:
        t.fire("lapse", r.updated_at < cutoff)


def register(tenants: Tenants) -> Entry:
    store = JoiningStore(tenants)
    return Entry(Workflow(JOINING, store), views=store.views, clock=clock, kinds=(
        MessageKind("partner_confirm", "application", label=Label("メールアドレスの確認", "Confirm your address")),
        MessageKind("partner_requested", "notice", label=Label("連携主体への申込み", "A request to become a partner")),
        MessageKind("partner_welcome", "application", label=Label("連携主体として登録", "Registered as a partner")),
        MessageKind("partner_declined", "application", label=Label("連携主体へのお申込みについて",
                                                                   "About your request to become a partner"))))
