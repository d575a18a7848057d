"""Draining the outbox: claim what is due, render it once, send it, record the outcome.

- A claim marks rows `sending` (on PostgreSQL with FOR UPDATE SKIP LOCKED, so several
  senders share the work); a claim older than the lease is taken again, so a sender that
  died mid-batch loses nothing. The rendered bytes are stored before sending, so the resend
  is the same message with the same Message-ID, recognisable as a duplicate.
- Failures for now (4xx, dropped connections) are retried with exponential backoff and
  jitter up to a limit; failures for good (5xx, refused recipients) are `dead` at once,
  with the reason. While anything is dead, the admins get one message a day about it.
- People who chose a daily digest get their reminders folded into one message a day.
"""

from __future__ import annotations

import asyncio
import random
import time as time_module
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, and_, bindparam, func, literal, or_, select, update
from sqlalchemy.orm import Session

from engine import db
from engine.clock import to_storage
from engine.outbox import OutboxMessage, dedupe_key_text, outbox_table, queue
from notifications.render import Renderer
from notifications.senders import Outgoing, Result, Sender

DEAD_LETTERS = "dead_letters"
DIGEST = "digest"


class Directory(Protocol):
    """What delivery needs to know about people, from whoever knows them."""

    def contexts(self, conn: Connection, rows: Sequence[OutboxMessage]) -> dict[int, dict[str, Any]]: ...

    def digest_recipients(self, conn: Connection) -> set[str]: ...

    def admins(self, conn: Connection) -> list[str]: ...

    def tenants_of_admin(self, conn: Connection, email: str) -> set[int] | None:
        """The tenants whose mail this admin looks after; None: all of it."""
        ...

    digestible: frozenset[str]


@dataclass(frozen=True)
class Policy:
    max_attempts: int = 8
    first_retry: timedelta = timedelta(minutes=1)
    longest_wait: timedelta = timedelta(hours=6)
    batch: int = 200
    lease: timedelta = timedelta(minutes=10)
    in_flight: int = 4
    """How many messages a sender has on the wire at once (`[mail] connections`)."""
    digest_hour: int = 8
    timezone: str = "Asia/Tokyo"


@dataclass
class DrainReport:
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    folded: int = 0
    errors: list[str] = field(default_factory=list)


class _Run:
    """One drain: a token that marks its claims, and a clock that starts at the given `now`
    and advances with real time, so a long run's later claims are stamped when they happen."""

    def __init__(self, now: datetime) -> None:
        self.token = uuid.uuid4().hex
        self.started = now
        self._mono = time_module.monotonic()

    def now(self) -> datetime:
        return self.started + timedelta(seconds=time_module.monotonic() - self._mono)


SENT = (update(outbox_table)
        .where(outbox_table.c.id == bindparam("row_id"), outbox_table.c.status == "sending",
               outbox_table.c.claimed_by == bindparam("token"))
        .values(status="sent", sent_at=bindparam("at"), last_error=None, claimed_at=None, claimed_by=None))
"""One delivery recorded, where this run still holds the claim."""


class Delivery:
    def __init__(
        self,
        engine: Engine,
        renderer: Renderer,
        directory: Directory,
        sender: Callable[[], Sender],
        policy: Policy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.renderer = renderer
        self.directory = directory
        self.new_sender = sender
        self.policy = policy or Policy()
        self.zone = ZoneInfo(self.policy.timezone)
        self.rng = rng or random.Random()

    # -- the drain -----------------------------------------------------------------------

    def drain(self, now: datetime) -> DrainReport:
        """Send everything due by `now`; the one function the scheduler calls every minute."""
        return asyncio.run(self.drain_async(now))

    async def drain_async(self, now: datetime) -> DrainReport:
        report = DrainReport()
        self._fold_digests(now, report)
        self._notice_dead(now)
        run = _Run(now)
        sender = self.new_sender()
        recorder = self.engine.connect().execution_options(pdca_write=True)
        # While one batch is on the wire, the next is claimed and rendered in a thread:
        # rendering is the larger cost, and the sends mostly wait on the network.
        upcoming: asyncio.Future[list[Outgoing]] | None = asyncio.ensure_future(
            asyncio.to_thread(self._claim_and_render, run))
        try:
            while upcoming is not None:
                outgoing = await upcoming
                upcoming = None
                if not outgoing:
                    break
                if len(outgoing) == self.policy.batch:
                    upcoming = asyncio.ensure_future(asyncio.to_thread(self._claim_and_render, run))
                told: set[int] = set()

                def done(result: Result, told: set[int] = told) -> None:
                    self._record_one(result, run, report, recorder)
                    told.add(result.id)

                results = await sender.send(outgoing, done)
                self._record([r for r in results if r.id not in told], run, report)  # a sender that never told
        except BaseException as exc:
            if upcoming is not None:
                await asyncio.gather(upcoming, return_exceptions=True)
            self._release(run, f"{type(exc).__name__}: {exc}")
            raise
        finally:
            recorder.close()
            await sender.close()
        return report

    def _due(self, now: datetime) -> Any:
        """Queued and due, or claimed by a sender whose lease ran out (it died)."""
        at = to_storage(now)
        o = OutboxMessage
        return or_(
            and_(o.status == "queued", or_(o.next_attempt_at.is_(None), o.next_attempt_at <= at)),  # type: ignore[union-attr]
            and_(o.status == "sending", o.claimed_at < to_storage(now - self.policy.lease)),  # type: ignore[operator]
        )

    def _requeue_unsent(self, conn: Connection, now: datetime) -> None:
        """A sender that died leaves its claims `sending`, each counted as an attempt. Only
        the first `in_flight` of each dead claim, by id, can have been on the wire (a sender
        takes them in order, and records each outcome before taking the next): those are
        taken again as they are, their attempt counted, so a message that keeps killing its
        sender is still given up. The others never left: they are queued again and the
        attempt given back, so crashes alone never use up a message's attempts."""
        o = outbox_table.c
        dead_claim = and_(o.status == "sending", o.claimed_at < to_storage(now - self.policy.lease))
        expired = conn.execute(select(o.id, o.claimed_by).where(dead_claim).order_by(o.id)).all()
        claims: dict[str | None, list[int]] = defaultdict(list)
        for row_id, token in expired:
            claims[token].append(row_id)
        unsent = [i for ids in claims.values() for i in ids[self.policy.in_flight:]]
        for chunk in range(0, len(unsent), 500):
            conn.execute(update(outbox_table).where(o.id.in_(unsent[chunk:chunk + 500]), dead_claim).values(
                status="queued", attempts=o.attempts - 1, claimed_at=None, claimed_by=None))

    def _claim_and_render(self, run: _Run) -> list[Outgoing]:
        """Claim a batch for this run, counting the attempt now: a message whose sender keeps
        dying is still given up after `max_attempts`."""
        now = run.now()
        with db.writing(self.engine) as conn:
            self._requeue_unsent(conn, now)
            chosen = select(OutboxMessage.id, OutboxMessage.attempts).where(self._due(now))
            chosen = chosen.order_by(OutboxMessage.id).limit(self.policy.batch)  # type: ignore[arg-type]
            if conn.dialect.name == "postgresql":
                chosen = chosen.with_for_update(skip_locked=True)
            found = conn.execute(chosen).all()
            spent = [i for i, tries in found if tries >= self.policy.max_attempts]
            if spent:
                conn.execute(update(outbox_table).where(outbox_table.c.id.in_(spent)).values(
                    status="dead", claimed_by=None,
                    last_error=f"no outcome after {self.policy.max_attempts} attempts (the sender stopped each time)"))
            ids = [i for i, tries in found if tries < self.policy.max_attempts]
            if not ids:
                return []
            conn.execute(
                update(outbox_table).where(outbox_table.c.id.in_(ids))
                .values(status="sending", claimed_at=to_storage(now), claimed_by=run.token,
                        attempts=outbox_table.c.attempts + 1)
            )
        # Rendering is the long part: done in a read transaction, so the outcomes being
        # recorded meanwhile (one write each, as replies arrive) never wait behind it; the
        # bytes are then kept in a short write of their own, before anything is sent.
        with db.reading(self.engine) as conn:
            session = Session(bind=conn, expire_on_commit=False, autoflush=False)
            claimed = select(OutboxMessage).where(OutboxMessage.id.in_(ids))  # type: ignore[union-attr]
            rows = list(session.scalars(claimed.order_by(OutboxMessage.id)))  # type: ignore[arg-type]
            fresh = [r for r in rows if r.raw is None]
            self._render(conn, session, fresh, now)
            session.expunge_all()
        if fresh:
            with db.writing(self.engine) as conn:
                conn.execute(update(outbox_table).where(outbox_table.c.id == bindparam("row_id"))
                             .values(raw=bindparam("raw_bytes"), message_id=bindparam("mid")),
                             [{"row_id": r.id, "raw_bytes": r.raw, "mid": r.message_id} for r in fresh])
        return [Outgoing(r.id, self.renderer.identity.from_address, r.recipient, r.message_id or "", r.raw or b"")  # type: ignore[arg-type]
                for r in rows]

    def _render(self, conn: Connection, session: Session, rows: list[OutboxMessage], now: datetime) -> None:
        if not rows:
            return
        contexts = self.directory.contexts(conn, rows)
        for row in rows:
            context = contexts[row.id]  # type: ignore[index]
            if row.kind == DIGEST:
                context["entries"] = self._digest_entries(conn, row)
            elif row.kind == DEAD_LETTERS:
                context["entries"] = self._dead_entries(conn, self.directory.tenants_of_admin(conn, row.recipient))
            rendered = self.renderer.render(context)
            row.message_id = self.renderer.message_id(row.dedupe_key)
            row.raw = self.renderer.build(rendered, recipient=row.recipient, name=context["recipient"]["name"],
                                          dedupe_key=row.dedupe_key, now=now)

    def _digest_entries(self, conn: Connection, digest: OutboxMessage) -> list[dict[str, Any]]:
        folded = list(Session(bind=conn).scalars(
            select(OutboxMessage).where(OutboxMessage.digest_id == digest.id).order_by(OutboxMessage.id)  # type: ignore[arg-type]
        ))
        contexts = self.directory.contexts(conn, folded)
        entries = []
        for row in folded:
            context = contexts[row.id]  # type: ignore[index]
            item = context["item"] or {}
            url = item.get("url", context["base_url"])
            entries.append({"subject": self.renderer.render(context).subject, "url": url})
        return entries

    @staticmethod
    def _dead(scope: set[int] | None) -> Any:
        """Dead messages an admin of these tenants sees (all of them for None)."""
        dead = and_(outbox_table.c.status == "dead", outbox_table.c.kind != DEAD_LETTERS)
        return dead if scope is None else and_(dead, outbox_table.c.tenant_id.in_(sorted(scope)))

    def _dead_entries(self, conn: Connection, scope: set[int] | None) -> list[dict[str, Any]]:
        rows = conn.execute(
            select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.recipient, OutboxMessage.last_error)
            .where(self._dead(scope)).order_by(OutboxMessage.id).limit(100)  # type: ignore[arg-type]
        )
        return [{"id": r.id, "kind": r.kind, "recipient": r.recipient, "error": r.last_error or ""} for r in rows]

    def _record_one(self, result: Result, run: _Run, report: DrainReport, recorder: Connection) -> None:
        """Write one outcome as its reply arrives, so that a crash re-sends only what was on
        the wire: a delivery in one statement of its own transaction on the drain's recording
        connection (kept open for the drain: one commit a message is the cost), the rarer
        outcomes as `_record` writes them."""
        if not result.delivered:
            self._record([result], run, report)
            return
        with recorder.begin():
            sent = recorder.execute(SENT, {"row_id": result.id, "token": run.token, "at": to_storage(run.now())},
                                    execution_options={"preserve_rowcount": True}).rowcount
        report.sent += sent

    def _record(self, results: Sequence[Result], run: _Run, report: DrainReport) -> None:
        """Write each outcome, only where this run still holds the claim."""
        if not results:
            return
        now = run.now()
        at = to_storage(now)
        mine = and_(outbox_table.c.status == "sending", outbox_table.c.claimed_by == run.token)
        with db.writing(self.engine) as conn:
            attempts = dict(conn.execute(
                select(outbox_table.c.id, outbox_table.c.attempts)
                .where(outbox_table.c.id.in_([r.id for r in results]), mine)
            ).all())
            delivered = [r.id for r in results if r.delivered and r.id in attempts]
            if delivered:  # the common case, in one statement
                conn.execute(update(outbox_table).where(outbox_table.c.id.in_(delivered), mine).values(
                    status="sent", sent_at=at, last_error=None, claimed_at=None, claimed_by=None))
                report.sent += len(delivered)
            for result in results:
                if result.delivered or result.id not in attempts:
                    continue
                tries = attempts[result.id]
                if result.permanent or tries >= self.policy.max_attempts:
                    values: dict[str, Any] = {"status": "dead", "last_error": result.error}
                    report.dead += 1
                    report.errors.append(f"#{result.id}: {result.error}")
                else:
                    values = {"status": "queued", "last_error": result.error,
                              "next_attempt_at": to_storage(now + self.backoff(tries))}
                    report.retrying += 1
                conn.execute(update(outbox_table).where(outbox_table.c.id == result.id, mine)
                             .values(claimed_at=None, claimed_by=None, **values))

    def _release(self, run: _Run, error: str) -> None:
        """A run that stops halfway puts back what it claimed and did not record, to be
        tried again after the usual wait."""
        now = run.now()
        with db.writing(self.engine) as conn:
            conn.execute(
                update(outbox_table)
                .where(outbox_table.c.status == "sending", outbox_table.c.claimed_by == run.token)
                .values(status="queued", claimed_at=None, claimed_by=None, last_error=error,
                        next_attempt_at=to_storage(now + self.backoff(1)))
            )

    def backoff(self, attempts: int) -> timedelta:
        """1, 2, 4, 8 ... minutes (capped), each stretched by up to a quarter at random so
        that many failures do not all come back at the same moment."""
        wait = min(self.policy.first_retry * (2 ** (attempts - 1)), self.policy.longest_wait)
        return wait * (1 + self.rng.random() / 4)

    # -- digests and the daily dead-letter notice ------------------------------------------

    def _next_digest(self, now: datetime) -> datetime:
        local = now.astimezone(self.zone)
        today = datetime.combine(local.date(), time(self.policy.digest_hour), self.zone)
        return today if local < today else today + timedelta(days=1)

    def _fold_digests(self, now: datetime, report: DrainReport) -> None:
        with db.writing(self.engine) as conn:
            people = self.directory.digest_recipients(conn)
            if not people:
                return
            # Only messages never tried: one waiting to retry goes on by itself.
            foldable = and_(
                outbox_table.c.status == "queued", outbox_table.c.digest_id.is_(None),
                outbox_table.c.attempts == 0, outbox_table.c.kind.in_(self.directory.digestible),
            )
            waiting = select(outbox_table.c.recipient).where(foldable, outbox_table.c.recipient.in_(people))
            recipients = set(conn.execute(waiting.distinct()).scalars())
            for email in sorted(recipients):
                digest_id = self._open_digest(conn, email, now)
                folded = conn.execute(
                    update(outbox_table).where(foldable, outbox_table.c.recipient == email)
                    .values(status="folded", digest_id=digest_id),
                    execution_options={"preserve_rowcount": True},
                ).rowcount
                report.folded += folded

    def _open_digest(self, conn: Connection, email: str, now: datetime) -> int:
        """The person's next digest that is still open: not yet rendered nor claimed (on
        PostgreSQL, locked while we fold into it); if today's went out, tomorrow's."""
        send_at = self._next_digest(now)
        while True:
            digest_id = self._queue_one(conn, DIGEST, email, send_at, now)
            lock = select(outbox_table.c.status, outbox_table.c.raw.is_(None)).where(outbox_table.c.id == digest_id)
            if conn.dialect.name == "postgresql":
                lock = lock.with_for_update()
            status, unrendered = conn.execute(lock).one()
            if status == "queued" and unrendered:
                return digest_id
            send_at += timedelta(days=1)

    def _notice_dead(self, now: datetime) -> None:
        """Each admin hears of what is dead among the mail they look after, once a day."""
        with db.writing(self.engine) as conn:
            if not conn.execute(select(outbox_table.c.id).where(self._dead(None)).limit(1)).first():
                return
            for email in self.directory.admins(conn):
                scope = self.directory.tenants_of_admin(conn, email)
                if conn.execute(select(outbox_table.c.id).where(self._dead(scope)).limit(1)).first():
                    self._queue_one(conn, DEAD_LETTERS, email, now, now)

    def _queue_one(self, conn: Connection, kind: str, email: str, send_at: datetime, now: datetime) -> int:
        """A message to one person about the outbox itself: one per person and day."""
        day = send_at.astimezone(self.zone).date()
        key = dedupe_key_text(kind, f"person:{email}", day, "", email)
        rows = select(
            literal(key).label("dedupe_key"), literal(kind).label("kind"), literal(email).label("recipient"),
            literal(day).label("due"), literal("").label("step"), literal("queued").label("status"),
            literal(0).label("attempts"), literal(to_storage(now), outbox_table.c.created_at.type).label("created_at"),
            literal(to_storage(send_at), outbox_table.c.next_attempt_at.type).label("next_attempt_at"),
        )
        queue(conn, rows)
        return int(conn.execute(select(outbox_table.c.id).where(outbox_table.c.dedupe_key == key)).scalar_one())


def list_messages(
    conn: Connection, *, status: str | None = None, limit: int = 200, tenant: int | None = None,
    untenanted: bool = True, kind: str | None = None, recipient: str | None = None,
    since: datetime | None = None, until: datetime | None = None, offset: int = 0,
) -> list[dict[str, Any]]:
    """The newest messages; with `tenant`, only that tenant's, and those of no tenant
    (sign-in links, digests, dead-letter notices) if `untenanted`. `since` (inclusive) and
    `until` (exclusive) bound when a message was queued; `offset` pages back in time."""
    query = select(
        OutboxMessage.id, OutboxMessage.kind, OutboxMessage.recipient, OutboxMessage.status, OutboxMessage.attempts,
        OutboxMessage.due, OutboxMessage.step, OutboxMessage.next_attempt_at, OutboxMessage.last_error,
        OutboxMessage.created_at, OutboxMessage.sent_at, OutboxMessage.message_id,
    ).order_by(OutboxMessage.id.desc()).limit(limit).offset(offset)  # type: ignore[union-attr]
    if status:
        query = query.where(OutboxMessage.status == status)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    if recipient:
        query = query.where(func.lower(OutboxMessage.recipient) == recipient.strip().lower())
    if since is not None:
        query = query.where(OutboxMessage.created_at >= to_storage(since))  # type: ignore[operator]
    if until is not None:
        query = query.where(OutboxMessage.created_at < to_storage(until))  # type: ignore[operator]
    if tenant is not None:
        query = query.where(_theirs(tenant, untenanted))
    return [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row._mapping.items()}
        for row in conn.execute(query)
    ]


def _theirs(tenant: int, untenanted: bool) -> Any:
    """A tenant's messages, and those of no tenant if `untenanted`."""
    mine = OutboxMessage.tenant_id == tenant
    return or_(mine, OutboxMessage.tenant_id.is_(None)) if untenanted else mine  # type: ignore[union-attr]


def message_kinds(conn: Connection, *, tenant: int, untenanted: bool = True) -> list[str]:
    """The kinds of message the outbox holds, for the filter's choices."""
    query = select(OutboxMessage.kind).where(_theirs(tenant, untenanted)).distinct().order_by(OutboxMessage.kind)
    return [row[0] for row in conn.execute(query)]


def retry(conn: Connection, *, ids: Sequence[int] = (), all_dead: bool = False, tenant: int | None = None,
          untenanted: bool = True) -> int:
    """Queue dead messages again, with a fresh count of attempts; their rendered bytes (and
    so their Message-ID) stay the same. With `tenant`, only that tenant's (and those of no
    tenant if `untenanted`)."""
    chosen = outbox_table.c.status == "dead"
    if tenant is not None:
        mine = outbox_table.c.tenant_id == tenant
        chosen = and_(chosen, or_(mine, outbox_table.c.tenant_id.is_(None)) if untenanted else mine)
    if not all_dead:
        chosen = and_(chosen, outbox_table.c.id.in_(list(ids)))
    return conn.execute(
        update(outbox_table).where(chosen).values(status="queued", attempts=0, next_attempt_at=None, claimed_at=None),
        execution_options={"preserve_rowcount": True},
    ).rowcount


def subjects(conn: Connection, ids: Sequence[int]) -> dict[int, str]:
    """The subject each rendered message went out with (unrendered ones have none yet)."""
    from email import message_from_bytes
    from email.header import decode_header, make_header

    found = {}
    for row_id, raw in conn.execute(select(outbox_table.c.id, outbox_table.c.raw)
                                    .where(outbox_table.c.id.in_(list(ids)), outbox_table.c.raw.is_not(None))):
        head = bytes(raw).split(b"\r\n\r\n", 1)[0]
        subject = message_from_bytes(head)["Subject"]
        found[row_id] = str(make_header(decode_header(subject))) if subject else ""
    return found
