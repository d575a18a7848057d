"""Exchange topics in words, for their page and for the public: the topic, who raised it
(by name with their organisation or division, never their address), the actions it
concerns with their titles, and the replies in order. Only public topics that are open or
closed reach the public (`published`, `one`); a hidden one never does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

from engine.clock import from_storage
from engine.spec import Label
from workflows.exchange.spec import EXCHANGE
from workflows.models import Action, ExchangeReply, ExchangeTopic, Person

if TYPE_CHECKING:
    from workflows.exchange.store import ExchangeStore

topic_table = ExchangeTopic.__table__  # type: ignore[attr-defined]
SHOWN = ("open", "closed")
WORDS = {
    "topic": Label("話題", "Topic"), "text": Label("内容", "What was shared or asked"),
    "by": Label("投稿", "Posted by"), "actions": Label("関係する取組", "Actions concerned"),
    "public": Label("公開", "Who may read it"), "replies": Label("返信", "Replies"),
    "hidden": Label("非公開にした理由", "Why it was hidden"), "none": Label("（なし）", "(none)"),
}


def who(name: str, name_en: str | None, organisation: str | None, division: str | None) -> dict[str, str]:
    """A person as the exchange names them: by name, with their organisation or division."""
    where = organisation or division
    return {"ja": f"{name}（{where}）" if where else name,
            "en": f"{name_en or name} ({where})" if where else (name_en or name)}


def view(conn: Connection, store: ExchangeStore, data: Mapping[str, Any], tenant: int | None) -> dict[str, Any]:
    author = conn.execute(select(Person.name, Person.name_en, Person.organisation, Person.division)
                          .where(Person.id == data["created_by"])).first()
    codes = list(data.get("actions") or [])
    titles = {r.code: {"ja": r.title_ja, "en": r.title_en or r.title_ja} for r in conn.execute(
        select(Action.code, Action.title_ja, Action.title_en).where(
            Action.strategy_id == tenant, Action.code.in_(codes)))} if codes else {}  # type: ignore[attr-defined]
    replies = [{"by": who(r["name"], r["name_en"], r["organisation"], r["division"]), "text": r["text"],
                "at": r["at"].isoformat(), "day": r["at"].date().isoformat()}
               for r in store.replies(conn, data["id"])]
    posted = _when(data.get("posted_at"))
    return {
        "id": data["id"], "state": data["state"], "title": data["title"], "text": data["text"],
        "by": who(*author) if author else {"ja": "", "en": ""}, "posted_at": posted,
        "day": (posted or "")[:10], "public": bool(data.get("public")),
        "actions": [{"code": c, "title": titles.get(c, {"ja": "", "en": ""})} for c in codes],
        "replies": replies, "closed": data["state"] == "closed", "hidden_reason": data.get("hidden_reason"),
        "state_label": {"ja": EXCHANGE.state(data["state"]).label.ja, "en": EXCHANGE.state(data["state"]).label.en},
    }


def record_rows(conn: Connection, store: ExchangeStore, data: Mapping[str, Any], tenant: int | None
                ) -> list[dict[str, Any]]:
    """The topic as label/value rows for its page (the generic instance page)."""
    from workflows.exchange.spec import PUBLIC_CHOICES

    v = view(conn, store, data, tenant)
    both = {"ja": v["text"], "en": v["text"]}
    rows = [
        {"label": _both(WORDS["by"]), "value": {lang: f"{v['by'][lang]} {v['day']}" for lang in ("ja", "en")}},
        {"label": _both(WORDS["text"]), "value": both},
        {"label": _both(WORDS["public"]), "value": _both(PUBLIC_CHOICES["yes" if v["public"] else "no"])},
    ]
    if v["actions"]:
        rows.append({"label": _both(WORDS["actions"]), "value": {
            lang: "\n".join(f"{a['code']} {a['title'][lang]}" for a in v["actions"]) for lang in ("ja", "en")}})
    rows.append({"label": _both(WORDS["replies"]), "value": {
        lang: "\n\n".join(f"{r['by'][lang]} {r['day']}\n{r['text']}" for r in v["replies"]) or WORDS["none"](lang)
        for lang in ("ja", "en")}})
    if v["hidden_reason"]:
        rows.append({"label": _both(WORDS["hidden"]), "value": {"ja": v["hidden_reason"], "en": v["hidden_reason"]}})
    return rows


def published(conn: Connection, store: ExchangeStore, tenant: int) -> list[dict[str, Any]]:
    """The strategy's public topics (open or closed), the latest first, each with its count of replies."""
    t = topic_table.c
    replies = (select(func.count()).select_from(ExchangeReply)
               .where(ExchangeReply.topic_id == t.id).scalar_subquery())
    rows = conn.execute(
        select(t.id, t.title, t.posted_at, t.state, t.actions, replies.label("reply_count"),
               Person.name, Person.name_en, Person.organisation, Person.division)
        .outerjoin(Person, Person.id == t.created_by)  # type: ignore[arg-type]
        .where(t.tenant_id == tenant, t.public.is_(True), t.state.in_(SHOWN))
        .order_by(t.posted_at.desc(), t.id.desc()))
    out = []
    for r in rows:
        posted = _when(r.posted_at)
        out.append({"id": r.id, "title": r.title,
                    "by": who(r.name, r.name_en, r.organisation, r.division) if r.name else {"ja": "", "en": ""},
                    "day": (posted or "")[:10], "reply_count": r.reply_count, "closed": r.state == "closed",
                    "codes": list(r.actions or [])})
    return out


def one(conn: Connection, store: ExchangeStore, tenant: int, topic_id: int) -> dict[str, Any] | None:
    t = topic_table.c
    row = conn.execute(select(topic_table).where(t.id == topic_id, t.tenant_id == tenant, t.public.is_(True),
                                                 t.state.in_(SHOWN))).mappings().first()
    return view(conn, store, row, tenant) if row else None


def _both(label: Label) -> dict[str, str]:
    return {"ja": label.ja, "en": label.en}


def _when(value: Any) -> str | None:
    return from_storage(value).isoformat() if isinstance(value, datetime) else value
