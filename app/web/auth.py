"""Signing people in: a one-time link by email, then a session cookie; API tokens for
scripts. Every secret is random, single-purpose and stored only as a digest."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, bindparam, delete, func, insert, select, true, update
from sqlalchemy.orm import Session

from app.web.models import ApiToken, Password, SignInAttempt, SignInLink, WebSession, digest
from engine import db
from engine.clock import to_storage
from engine.runtime import Actor
from workflows.bodies import administers_any
from workflows.models import Person


@dataclass(frozen=True)
class Visitor:
    """A signed-in person, as pages and the API see them."""

    person_id: int
    email: str
    name: str
    language: str
    admin: bool
    """The deployment's admin; who administers a strategy is asked page by page."""
    csrf: str = ""

    @property
    def actor(self) -> Actor:
        return Actor(email=self.email, person_id=self.person_id, is_admin=self.admin)


def safe_next(url: str | None) -> str:
    """Only a path on this site: a link must never send someone elsewhere after sign-in."""
    if not url:
        return "/"
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith("/") or url.startswith("//"):
        return "/"
    return url


def _person(conn: Connection, *, email: str | None = None, person_id: int | None = None) -> Person | None:
    query = select(Person).where(Person.active)
    query = query.where(Person.email == email.strip().lower()) if email else query.where(Person.id == person_id)
    return Session(bind=conn).scalars(query).first()


WINDOW = timedelta(minutes=15)
LIMITS = {"link": (5, 60), "password": (5, 30)}
"""Per kind, (per address, per client) within `WINDOW`: sign-in links asked for, and failed
passwords. Past a limit the request is refused (429) until the window has moved on; an
address that is no person's counts the same, so the answer tells nobody who has an account.
Behind a reverse proxy the client is the proxy unless uvicorn is told to trust its
forwarded address (`--proxy-headers`), so the per-client limit is generous."""


def too_many(conn: Connection, *, kind: str, address: str, client: str, now: datetime) -> bool:
    """Whether this address or this client is past its limit of `kind` right now."""
    per_address, per_client = LIMITS[kind]
    since = to_storage(now - WINDOW)
    counted = SignInAttempt.failed.is_(True) if kind == "password" else true()  # type: ignore[attr-defined]
    a = SignInAttempt
    by_address = conn.execute(select(func.count()).select_from(a).where(
        a.kind == kind, a.address == address.strip().lower(), a.at >= since, counted)).scalar_one()
    by_client = conn.execute(select(func.count()).select_from(a).where(
        a.kind == kind, a.client == client, a.at >= since, counted)).scalar_one()
    return by_address >= per_address or by_client >= per_client


def note_attempt(conn: Connection, *, kind: str, address: str, client: str, now: datetime,
                 failed: bool = False) -> None:
    """Count one attempt (and forget those older than a day)."""
    conn.execute(delete(SignInAttempt).where(SignInAttempt.at < to_storage(now - timedelta(days=1))))  # type: ignore[arg-type]
    conn.execute(insert(SignInAttempt).values(kind=kind, address=address.strip().lower()[:320],
                                              client=client[:64], failed=failed, at=to_storage(now)))


def same_secret(expected: str, given: str | None) -> bool:
    """Whether a secret someone sent is the one expected, in constant time; any text may be
    sent (a form with `csrf=é` is simply wrong, never an error)."""
    return secrets.compare_digest(expected.encode("utf-8", "replace"), (given or "").encode("utf-8", "replace"))


def _visitor(person: Person, csrf: str = "") -> Visitor:
    name = (person.name_en or person.name) if person.language == "en" else person.name
    return Visitor(person.id or 0, person.email, name, person.language, person.admin, csrf)


def create_link(
    conn: Connection, *, email: str, next_url: str, now: datetime, minutes: int
) -> tuple[str, Visitor] | None:
    """A fresh sign-in secret for this person (None when there is no such person: the
    page says the same either way, so it does not reveal who has an account)."""
    person = _person(conn, email=email)
    if person is None:
        return None
    secret = secrets.token_urlsafe(32)
    conn.execute(insert(SignInLink).values(
        digest=digest(secret), person_id=person.id, next_url=safe_next(next_url),
        created_at=to_storage(now), expires_at=to_storage(now + timedelta(minutes=minutes)),
    ))
    return secret, _visitor(person)


def redeem_link(conn: Connection, secret: str, *, now: datetime, session_days: int) -> tuple[str, str] | None:
    """Spend a link: (session secret, where to go), or None if it is unknown, used or old."""
    link = Session(bind=conn).scalars(
        select(SignInLink).where(SignInLink.digest == digest(secret)).with_for_update()
    ).first()
    if link is None:
        return None
    at = to_storage(now)
    if link.used_at is not None or to_storage(link.expires_at) < at:
        return None
    spent = conn.execute(
        update(SignInLink).where(SignInLink.id == link.id, SignInLink.used_at.is_(None)).values(used_at=at),  # type: ignore[union-attr]
        execution_options={"preserve_rowcount": True},
    ).rowcount
    if spent != 1:
        return None
    return _new_session(conn, link.person_id, now, session_days), link.next_url


def session_visitor(conn: Connection, secret: str | None, *, now: datetime) -> Visitor | None:
    if not secret:
        return None
    session = Session(bind=conn).scalars(
        select(WebSession).where(WebSession.digest == digest(secret), WebSession.ended_at.is_(None))  # type: ignore[union-attr]
    ).first()
    if session is None or to_storage(session.expires_at) < to_storage(now):
        return None
    person = _person(conn, person_id=session.person_id)
    return _visitor(person, session.csrf) if person else None


def end_sessions_of(conn: Connection, *, email: str, now: datetime) -> int:
    """Sign a person out everywhere (a lost phone, someone leaving): every open session of
    theirs ends now, and their unused sign-in links with them. Returns how many sessions."""
    person = _person(conn, email=email)
    if person is None:
        return 0
    at = to_storage(now)
    conn.execute(update(SignInLink).where(SignInLink.person_id == person.id, SignInLink.used_at.is_(None))  # type: ignore[union-attr]
                 .values(used_at=at))
    return conn.execute(update(WebSession).where(WebSession.person_id == person.id, WebSession.ended_at.is_(None))  # type: ignore[union-attr]
                        .values(ended_at=at), execution_options={"preserve_rowcount": True}).rowcount


def end_session(conn: Connection, secret: str | None, *, now: datetime) -> None:
    if secret:
        conn.execute(update(WebSession).where(WebSession.digest == digest(secret)).values(ended_at=to_storage(now)))


def create_api_token(conn: Connection, *, email: str, name: str, now: datetime) -> str | None:
    person = _person(conn, email=email)
    if person is None:
        return None
    secret = "pdca_" + secrets.token_urlsafe(32)
    conn.execute(insert(ApiToken).values(digest=digest(secret), person_id=person.id, name=name,
                                         created_at=to_storage(now)))
    return secret


TOKEN_USE_RESOLUTION = timedelta(minutes=5)


@cache
def _token_query() -> db.Prepared:
    """Compiled once: every API request asks it."""
    return db.Prepared(
        select(ApiToken.id.label("token_id"), ApiToken.last_used_at, Person.id.label("person_id"),  # type: ignore[union-attr]
               Person.email, Person.name, Person.name_en, Person.language, Person.admin)
        .join(Person, Person.id == ApiToken.person_id)
        .where(ApiToken.digest == bindparam("digest"), ApiToken.revoked_at.is_(None), Person.active)  # type: ignore[union-attr]
    )


@dataclass(frozen=True)
class TokenUse:
    visitor: Visitor
    token_id: int
    last_used_at: datetime | None

    def worth_recording(self, now: datetime) -> bool:
        """Use is recorded to the nearest few minutes: a write on every request would
        serialise all of them behind the database's write lock."""
        last = self.last_used_at
        return last is None or to_storage(last) < to_storage(now) - TOKEN_USE_RESOLUTION


def list_tokens(conn: Connection, *, email: str | None = None) -> list[dict[str, Any]]:
    """Every API token (never its secret: only its digest is kept), newest first; for one
    person with `email`."""
    query = (select(ApiToken.id, Person.email, ApiToken.name, ApiToken.created_at, ApiToken.last_used_at,
                    ApiToken.revoked_at).join(Person, Person.id == ApiToken.person_id)
             .order_by(ApiToken.id.desc()))  # type: ignore[union-attr]
    if email:
        query = query.where(Person.email == email.strip().lower())
    return [{k: (to_storage(v).isoformat() if isinstance(v, datetime) else v) for k, v in r._mapping.items()}
            for r in conn.execute(query)]


def revoke_token(conn: Connection, token_id: int, *, now: datetime) -> bool:
    """End a token at once (a lost laptop, a script retired); False if there is no such
    token or it was revoked already."""
    ended = conn.execute(update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))  # type: ignore[union-attr]
                         .values(revoked_at=to_storage(now)), execution_options={"preserve_rowcount": True})
    return ended.rowcount == 1


def find_token(conn: Connection, secret: str | None) -> TokenUse | None:
    """Read-only: who this token acts for, if it is known and not revoked."""
    if not secret:
        return None
    found = _token_query().first(conn, {"digest": digest(secret)})
    if found is None:
        return None
    name = (found["name_en"] or found["name"]) if found["language"] == "en" else found["name"]
    visitor = Visitor(found["person_id"], found["email"], name, found["language"], found["admin"])
    return TokenUse(visitor, found["token_id"], found["last_used_at"])


def record_token_use(conn: Connection, token_id: int, *, now: datetime) -> None:
    conn.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=to_storage(now)))


_hasher = PasswordHasher()


def set_password(conn: Connection, *, email: str, password: str, now: datetime) -> bool:
    """Admins only (of the deployment or of a strategy): others sign in by link. Returns
    False for anyone else."""
    person = _person(conn, email=email)
    if person is None or not administers_any(conn, person_id=person.id or 0):
        return False
    hashed = _hasher.hash(password)
    exists = conn.execute(select(Password.person_id).where(Password.person_id == person.id)).first()
    if exists:
        conn.execute(update(Password).where(Password.person_id == person.id)
                     .values(hash=hashed, updated_at=to_storage(now)))
    else:
        conn.execute(insert(Password).values(person_id=person.id, hash=hashed, updated_at=to_storage(now)))
    return True


def password_session(
    conn: Connection, *, email: str, password: str, now: datetime, session_days: int
) -> str | None:
    """A session for an admin whose password matches, else None (the same for every failure)."""
    person = _person(conn, email=email)
    stored = None
    if person is not None and administers_any(conn, person_id=person.id or 0):
        stored = conn.execute(select(Password.hash).where(Password.person_id == person.id)).scalar()
    try:
        _hasher.verify(stored or _dummy(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if stored is None or person is None:
        return None
    return _new_session(conn, person.id or 0, now, session_days)


def _new_session(conn: Connection, person_id: int, now: datetime, session_days: int) -> str:
    secret = secrets.token_urlsafe(32)
    conn.execute(insert(WebSession).values(
        digest=digest(secret), person_id=person_id, csrf=secrets.token_urlsafe(24),
        created_at=to_storage(now), expires_at=to_storage(now + timedelta(days=session_days)),
    ))
    return secret


@cache
def _dummy() -> str:
    """Verified against when there is no such admin, so a wrong email costs the same time."""
    return _hasher.hash("a password nobody has")
