"""Who is signed in, and how: one-time sign-in links, browser sessions, API tokens.

Secrets are never stored: only their SHA-256 digests, so a copy of the database signs
nobody in.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SignInLink(SQLModel, table=True):
    __tablename__ = "sign_in_link"

    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(max_length=64, unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    next_url: str = Field(default="/", max_length=500)
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


class WebSession(SQLModel, table=True):
    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(max_length=64, unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    csrf: str = Field(max_length=64)
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(max_length=64, unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    name: str = Field(max_length=100)
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class Password(SQLModel, table=True):
    """An admin's password, as an argon2 hash (`pdca password EMAIL`)."""

    __tablename__ = "admin_password"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    hash: str = Field(max_length=200)
    updated_at: datetime


class Draft(SQLModel, table=True):
    """A form saved without firing: an owner's report in progress, or a council member's
    evaluation that the chair will approve. Of any workflow's instance."""

    __tablename__ = "draft"

    workflow: str = Field(max_length=64, primary_key=True)
    instance_id: int = Field(primary_key=True)
    trigger: str = Field(max_length=64, primary_key=True)
    values: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    saved_by: str = Field(max_length=320)
    saved_at: datetime


class SignInAttempt(SQLModel, table=True):
    """A request for a sign-in link or a password attempt, kept a day so that limits hold
    across every process and node that shares the database."""

    __tablename__ = "sign_in_attempt"
    __table_args__ = (Index("ix_sign_in_attempt_address_at", "address", "at"),
                      Index("ix_sign_in_attempt_client_at", "client", "at"))

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    """link | password"""
    address: str = Field(max_length=320)
    client: str = Field(max_length=64)
    failed: bool = False
    at: datetime
