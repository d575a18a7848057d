"""Wiring delivery from `[mail]`: the renderer's identity, the sender the backend names,
the retry policy, and the people directory."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app.bootstrap import Pdca
from engine.clock import to_storage
from engine.outbox import OutboxMessage, dedupe_key_text
from notifications.drain import Delivery, Policy
from notifications.render import Identity, Renderer
from notifications.senders import ConsoleSender, FileSender, Sender, SmtpSender, SmtpSettings
from workflows.messages import Links, MessageDirectory


def sender_factory(pdca: Pdca) -> Callable[[], Sender]:
    mail = pdca.settings.mail
    if mail.backend == "file":
        return lambda: FileSender(mail.dir)
    if mail.backend == "console":
        return ConsoleSender
    password = os.environ.get(mail.password_env, "") if mail.password_env else None
    smtp = SmtpSettings(host=mail.host, port=mail.port, security=mail.security, username=mail.username,
                        password=password, timeout=mail.timeout_seconds, connections=mail.connections)
    return lambda: SmtpSender(smtp)


def delivery(pdca: Pdca, *, sender: Callable[[], Sender] | None = None) -> Delivery:
    s = pdca.settings
    identity = Identity(
        from_address=s.mail.from_address, from_name=s.strategy.name_ja, reply_to=s.mail.reply_to,
        list_name=s.strategy.name_ja, list_id=f"{s.strategy.code}.{s.mail.from_address.rpartition('@')[2]}",
    )
    policy = Policy(
        max_attempts=s.mail.max_attempts, first_retry=timedelta(seconds=s.mail.first_retry_seconds),
        longest_wait=timedelta(seconds=s.mail.longest_wait_seconds), digest_hour=s.mail.digest_hour,
        in_flight=s.mail.connections,
        timezone=s.calendar.timezone,
    )
    directory = MessageDirectory(registry=pdca.registry, tenants=pdca.tenants, links=Links(s.links_base, pdca.tenants))
    return Delivery(pdca.engine, Renderer(identity), directory, sender or sender_factory(pdca), policy)


def queue_now(pdca: Pdca, conn: Connection, *, kind: str, email: str, extra: dict[str, Any], now: datetime) -> None:
    """Queue a message rendered at once, for what exists only at this moment (a sign-in
    link's secret is never stored, so it can only be written into the message now)."""
    d = delivery(pdca)
    day = pdca.calendar.today(now)
    scope = f"person:{email}"
    step = secrets.token_hex(6)
    key = dedupe_key_text(kind, scope, day, step, email)
    row = OutboxMessage(dedupe_key=key, kind=kind, recipient=email, due=day, step=step, status="queued",
                        attempts=0, created_at=to_storage(now))
    session = Session(bind=conn)
    session.add(row)
    session.flush()
    context = d.directory.contexts(conn, [row])[row.id] | extra  # type: ignore[index]
    rendered = d.renderer.render(context)
    row.message_id = d.renderer.message_id(key)
    row.raw = d.renderer.build(rendered, recipient=email, name=context["recipient"]["name"], dedupe_key=key, now=now)
    session.flush()
