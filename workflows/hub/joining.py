"""Becoming a partner of the hub, as data: anyone may ask on the public page (a citizen, a
group, a business, a school); the strategy's secretariat accepts (the person is registered,
or found, and seated among the partners, and told they may now sign in with their address)
or declines with a reason. The public form opens the request as the system acting for the
applicant, who has no account yet; every step is audited like any other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update

from engine.errors import Said
from engine.runtime import Instance, Workflow
from engine.spec import OPENING, SYSTEM, Changes, Field, Guard, Label, Role, State, Trigger, WorkflowSpec
from workflows import bodies
from workflows.basic import BasicStore
from workflows.models import Council, Membership, PartnerRequest, Person
from workflows.registry import Entry, MessageKind
from workflows.tenants import Tenants

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


def not_asked_twice(ctx: FireContext) -> str | None:
    """One open request per address, and none from someone who already is a partner."""
    email = str(ctx.fields.get("email", "")).strip().lower()
    if _store(ctx).already(ctx.conn, ctx.instance.tenant, email):
        return Said(f"{email} has asked already, or is a partner already",
                    ja=f"{email} からの申込みはすでに受け付けているか、すでに連携主体として登録されています")
    return None


def record_asked(ctx: FireContext) -> Changes:
    f = ctx.fields
    return Changes({"email": f["email"].strip().lower(), "name": f["name"], "organisation": f.get("organisation"),
                    "organisation_kind": f["organisation_kind"], "language": f["language"],
                    "message": f.get("message"), "title": f"{f['name']}（{f.get('organisation') or ''}）"[:300]},
                   [("notify", {"kind": "partner_requested", "roles": [SECRETARIAT]})])


def record_accepted(ctx: FireContext) -> Changes:
    return Changes({}, [("admit", {}), ("notify", {"kind": "partner_welcome", "roles": [APPLICANT]})])


def record_declined(ctx: FireContext) -> Changes:
    return Changes({"declined_reason": ctx.comment})


JOINING = WorkflowSpec(
    "partner_request",
    states=(
        State("requested", Label("確認待ち", "Waiting for the secretariat")),
        State("accepted", Label("登録済", "Registered"), final=True),
        State("declined", Label("お断り", "Declined"), final=True),
    ),
    initial="requested",
    triggers=(
        Trigger("accept", "requested", "accepted", (SECRETARIAT,),
                Label("連携主体として登録する", "Register as a partner"), record=record_accepted),
        Trigger("decline", "requested", "declined", (SECRETARIAT,), Label("お断りする", "Decline"),
                fields=(Field("comment", "longtext", Label("お断りする理由", "Why")),), record=record_declined),
    ),
    roles=(Role(SECRETARIAT, Label("事務局", "The secretariat")), Role(APPLICANT, Label("申込者", "The applicant"))),
    label=Label("情報拠点の連携主体への申込み", "A request to become a partner of the hub"),
    openings=(
        Trigger("ask", OPENING, "requested", (SYSTEM,), Label("連携主体として申し込む", "Ask to become a partner"),
                fields=(Field("name", "text", Label("お名前", "Your name")),
                        Field("email", "text", Label("メールアドレス", "Email address")),
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

    def already(self, conn: Connection, tenant: int | None, email: str) -> bool:
        asked = conn.execute(select(request_table.c.id).where(
            request_table.c.tenant_id == tenant, request_table.c.email == email,
            request_table.c.state == "requested")).first()
        seated = conn.execute(select(Membership.person_id).join(Person, Person.id == Membership.person_id)
                              .join(Council, Council.id == Membership.council_id)
                              .where(Council.strategy_id == tenant, Council.key == bodies.PARTNERS,
                                     Person.email == email)).first()
        return asked is not None or seated is not None

    def holders(self, conn: Connection, instance: Instance, roles: Sequence[str]) -> list[str]:
        applicant = [str(instance.data["email"])] if APPLICANT in roles and instance.data.get("email") else []
        return applicant + super().holders(conn, instance, [r for r in roles if r != APPLICANT])

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


def register(tenants: Tenants) -> Entry:
    store = JoiningStore(tenants)
    return Entry(Workflow(JOINING, store), views=store.views, kinds=(
        MessageKind("partner_requested", "notice", label=Label("連携主体への申込み", "A request to become a partner")),
        MessageKind("partner_welcome", "notice", label=Label("連携主体として登録", "Registered as a partner"))))
