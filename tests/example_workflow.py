"""A small workflow written only in the tests, to show that a new workflow is its spec, its
table and its registration: a note to the file (記録メモ) that the secretariat writes and
the internal council's chair acknowledges, or returns with a comment.

Nothing in engine/, the pages, the CLI or the API knows it; `register` adds it to the
deployment's registry the way `app/bootstrap.py` adds the city's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text

from engine.runtime import Workflow
from engine.spec import OPENING, STAND_IN, Changes, Field, Label, Role, State, Trigger, WorkflowSpec
from workflows.basic import BasicStore
from workflows.registry import Entry, MessageKind
from workflows.tenants import Tenants

if TYPE_CHECKING:
    from engine.runtime import FireContext

metadata = MetaData()
note_table = Table(
    "example_note", metadata,
    Column("id", Integer, primary_key=True),
    Column("state", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True)),
    Column("tenant_id", Integer, nullable=False),
    Column("created_by", Integer),
    Column("title", String(200), nullable=False),
    Column("text", Text),
    Column("reply", Text),
)

AUTHOR = "author"
WRITER = "writer"
READER = "reader"


def record_written(ctx: FireContext) -> Changes:
    return Changes({"title": ctx.fields["title"], "text": ctx.fields.get("text"),
                    "created_by": ctx.actor.person_id})


def record_submitted(ctx: FireContext) -> Changes:
    return Changes({}, [("notify", {"kind": "example_submitted", "roles": [READER]})])


def record_reply(ctx: FireContext) -> Changes:
    return Changes({"reply": ctx.fields["reply"]}, [("notify", {"kind": "example_acknowledged", "roles": [AUTHOR]})])


EXAMPLE = WorkflowSpec(
    "example",
    states=(
        State("draft", Label("下書き", "Draft")),
        State("submitted", Label("確認待ち", "Waiting to be read")),
        State("acknowledged", Label("確認済", "Acknowledged"), final=True),
    ),
    initial="draft",
    triggers=(
        Trigger("submit", "draft", "submitted", (AUTHOR,), Label("提出する", "Submit"), record=record_submitted),
        Trigger("acknowledge", "submitted", "acknowledged", (READER,), Label("確認する", "Acknowledge"),
                fields=(Field("reply", "longtext", Label("返信", "Reply")),), record=record_reply),
        Trigger("send_back", "submitted", "draft", (READER,), Label("差し戻す", "Send back"),
                fields=(Field("comment", "longtext", Label("理由", "Why")),)),
    ),
    roles=(
        Role(AUTHOR, Label("書いた人", "Author")),
        Role(WRITER, Label("事務局", "Secretariat")),
        Role(READER, Label("庁内推進会議の会長", "Chair of the internal council"), body="internal"),
    ),
    label=Label("記録メモ", "A note to the file"),
    openings=(
        Trigger("write", OPENING, "draft", (WRITER, STAND_IN), Label("メモを書く", "Write a note"),
                fields=(Field("title", "text", Label("件名", "Title")),
                        Field("text", "longtext", Label("本文", "Text"), required=False)),
                record=record_written),
    ),
)


def register(tenants: Tenants) -> Entry:
    store = BasicStore(note_table, EXAMPLE, tenants, creator=AUTHOR, members={WRITER: "secretariat"})
    return Entry(Workflow(EXAMPLE, store), views=store.views,
                 kinds=(MessageKind("example_submitted", "notice"), MessageKind("example_acknowledged", "notice")))
