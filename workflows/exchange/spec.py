"""The promotion council's exchange of information (情報交換), as data: read the tables at
the bottom as the process.

The promotion council is where the city, citizens, groups, businesses, universities and
other agencies exchange information on how the strategy goes. Anyone with a part in the
strategy (a partner of the hub, a division owning an action, a council member, the
secretariat) raises a topic, linked to the actions it concerns, public or for those taking
part only; others reply to it. Its author or the secretariat closes it; the secretariat may
hide one that should not be shown (with the reason, kept in the audit). Nobody is waited
for: an open topic asks for replies, it does not put work on anyone's list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from engine.clock import to_storage
from engine.errors import Said
from engine.spec import OPENING, Changes, Field, Label, Role, State, Trigger, WorkflowSpec

if TYPE_CHECKING:
    from engine.runtime import FireContext
    from workflows.exchange.store import ExchangeStore

AUTHOR = "author"
PARTICIPANT = "participant"
SECRETARIAT = "secretariat"
THREAD = "thread"
"""Not a role anyone fires with: whoever is in a topic's conversation (its author and those
who replied), who are told of a new reply."""
OWNERS = "owners"
"""Not a role either: the owners of the actions a topic concerns, told when it is raised."""
PUBLIC_CHOICES = {
    "yes": Label("公開する（お名前または団体名と投稿が、公開ページに載ります）",
                 "Public (your name or organisation and the post are published)"),
    "no": Label("参加者だけ（会議の委員・連携主体・市の担当者が読めます）",
                "Participants only (council members, partners and the city's staff)"),
}


def _store(ctx: FireContext) -> ExchangeStore:
    return cast("ExchangeStore", ctx.store)


# -- checks -----------------------------------------------------------------------------


def known_actions(value: Any, ctx: FireContext) -> str | None:
    unknown = _store(ctx).unknown_actions(ctx.conn, ctx.instance.tenant, value)
    if not unknown:
        return None
    return Said(f"no such action in this strategy: {', '.join(unknown)}",
                ja=f"この戦略に取組{'、'.join(unknown)}はありません")


# -- recorders ---------------------------------------------------------------------------


def record_posted(ctx: FireContext) -> Changes:
    f = ctx.fields
    return Changes({"created_by": ctx.actor.person_id, "title": f["title"][:300], "text": f["text"],
                    "actions": list(f.get("actions") or []), "public": f["public"] == "yes",
                    "posted_at": to_storage(ctx.now)},
                   [("notify", {"kind": "exchange_posted", "roles": [SECRETARIAT, OWNERS],
                                "except": ctx.actor.email})])


def record_reply(ctx: FireContext) -> Changes:
    return Changes({}, [("reply", {"text": ctx.fields["text"]}),
                        ("notify", {"kind": "exchange_replied", "roles": [THREAD], "except": ctx.actor.email})])


def record_hidden(ctx: FireContext) -> Changes:
    return Changes({"hidden_reason": ctx.comment}, [("notify", {"kind": "exchange_hidden", "roles": [AUTHOR]})])


# -- the process -------------------------------------------------------------------------

ROLES = (
    Role(AUTHOR, Label("話題を出した人", "Whoever raised the topic")),
    Role(PARTICIPANT, Label("参加者（連携主体・担当課・会議の委員・事務局）",
                            "A participant (a partner, a division, a council member, the secretariat)")),
    Role(SECRETARIAT, Label("事務局", "The secretariat")),
)

STATES = (
    State("open", Label("意見交換中", "Open for replies")),
    State("closed", Label("終了", "Closed")),
    State("hidden", Label("非公開（事務局の判断）", "Hidden by the secretariat"), final=True),
)

OPENINGS = (
    Trigger("post", OPENING, "open", (PARTICIPANT,), Label("話題を出す", "Raise a topic"),
            fields=(
                Field("title", "text", Label("話題", "Topic")),
                Field("text", "longtext", Label("内容", "What you want to share or ask")),
                Field("actions", "lines", Label("関係する取組（番号）", "Actions it concerns (codes)"), required=False,
                      check=known_actions),
                Field("public", "choice", Label("公開", "Who may read it"), choices=tuple(PUBLIC_CHOICES),
                      labels=PUBLIC_CHOICES),
            ), record=record_posted),
)

TRIGGERS = (
    Trigger("reply", "open", "open", (PARTICIPANT,), Label("返信する", "Reply"),
            fields=(Field("text", "longtext", Label("返信", "Your reply")),), record=record_reply, optional=True),
    Trigger("close", "open", "closed", (AUTHOR, SECRETARIAT), Label("話題を終える", "Close the topic"),
            optional=True),
    *(Trigger("hide", source, "hidden", (SECRETARIAT,), Label("非公開にする", "Hide it"),
              fields=(Field("comment", "longtext", Label("非公開にする理由", "Why it is hidden")),),
              record=record_hidden, optional=True, confirm=True) for source in ("open", "closed")),
)

EXCHANGE = WorkflowSpec("exchange_topic", STATES, "open", TRIGGERS, ROLES,
                        Label("推進会議の情報交換", "The promotion council's exchange of information"), OPENINGS)
