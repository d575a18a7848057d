"""The strategy's records: who, what, and each action's yearly cycle.

SQLModel tables, so the web and scripts get typed rows; the hot path reads and writes the
same tables through SQLAlchemy Core (`Model.__table__`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Integer, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.audit import AuditEvent
from engine.outbox import OutboxItem, OutboxMessage


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    name: str = Field(max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    division: str | None = Field(default=None, max_length=200)
    language: str = Field(default="ja", max_length=2)
    admin: bool = Field(default=False, description="an admin of the whole deployment (every strategy)")
    absent: bool = Field(default=False, description="a chair marked absent lets the vice chair act")
    digest: bool = Field(default=False, description="reminders come as one message a day")
    active: bool = Field(default=True, description="false once removed from the config or on the web")
    organisation: str | None = Field(default=None, max_length=200,
                                     description="a partner's organisation (とんぼの会, みどり市立博物館)")
    organisation_kind: str | None = Field(default=None, max_length=32,
                                          description="a partner's kind of organisation (directory.ORGANISATION_KINDS)")
    configured: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True),
        description="what the config last wrote; None: added on the web. A field that differs now was "
                    "changed on the web, and `pdca init` keeps it")


class Council(SQLModel, table=True):
    """A body of one strategy: its two councils, its secretariat, its advisors."""

    __table_args__ = (UniqueConstraint("strategy_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    strategy_id: int = Field(foreign_key="strategy.id", index=True)
    key: str = Field(max_length=32, description="internal | promotion | secretariat | advisors")
    name_ja: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    configured: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True),
        description="the names and seats ([email, role]) the config last wrote: seats that differ now were "
                    "changed on the web, and `pdca init` keeps them")


class Membership(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("council_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(max_length=16, description="chair | vice_chair | member")


class Strategy(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name_ja: str = Field(max_length=300)
    name_en: str = Field(max_length=300)
    first_fy: int
    target_fy: int
    grades: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reminders: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True),
        description="the reminder series (reminder_days, repeat_days, escalate_after_days) as stored: "
                    "copied from the config once, then set by admins on the web")
    configured: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True),
        description="what the config last wrote: a field that differs now (an approved extension's target_fy) "
                    "is kept by `pdca init`")
    predecessor_id: int | None = Field(default=None, foreign_key="strategy.id",
                                       description="the strategy this one follows (adopted from its draft)")
    report_fields: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True),
        description="what its yearly report asks beyond the cycle's own fields ([[strategy.report_fields]]), "
                    "kept with the strategy so that every page, message and publication reads the same")


class Action(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("strategy_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    strategy_id: int = Field(foreign_key="strategy.id", index=True)
    code: str = Field(max_length=32, description="e.g. 2-1-3: basic policy 2, measure 1, action 3")
    basic_policy: str = Field(max_length=300)
    basic_policy_en: str | None = Field(default=None, max_length=300)
    title_ja: str = Field(max_length=300)
    title_en: str | None = Field(default=None, max_length=300)
    division: str = Field(max_length=200, description="the owner division (担当課)")
    plan: str = Field(default="", description="the current plan; a revision replaces it")
    status: str = Field(default="active", max_length=16, description="active | completed | discontinued")
    ended_fy: int | None = None
    imported: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True),
        description="what the last import wrote: a field that differs now was changed since by someone else")


class ActionOwner(SQLModel, table=True):
    __tablename__ = "action_owner"

    action_id: int = Field(foreign_key="action.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True, index=True)


class Indicator(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("action_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="action.id", index=True)
    code: str = Field(max_length=32)
    name_ja: str = Field(max_length=300)
    name_en: str | None = Field(default=None, max_length=300)
    unit: str = Field(default="", max_length=40)
    direction: str = Field(max_length=4, description="up | down: which way is better")
    baseline_value: float | None = None
    baseline_year: int | None = None
    target_value: float | None = None
    target_year: int | None = None
    hub_measure: str | None = Field(default=None, max_length=32,
                                    description="the hub's measure its yearly value comes from (hub.measures)")
    minimum: float | None = Field(default=None, description="the least value it can take (unset: 0, or none "
                                                            "for a signed unit)")
    maximum: float | None = Field(default=None, description="the most it can take (unset: 100 for %, else none)")
    imported: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True), description="what the last import wrote")
    target_basis: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True),
        description="how a next strategy's target was set: the proposal's method and figures, an edit's reason")


_cycle_version = Column("version", Integer, nullable=False, default=1)
"""Optimistic lock: ORM writes check it too, so no path overwrites a newer cycle."""


class Cycle(SQLModel, table=True):
    """One action in one fiscal year: the state-machine instance."""

    __table_args__ = (
        UniqueConstraint("action_id", "fy"),
        Index("ix_cycle_fy_state", "fy", "state"),
    )
    __mapper_args__ = {"version_id_col": _cycle_version}

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="action.id")
    fy: int
    state: str = Field(max_length=64)
    version: int = Field(default=1, sa_column=_cycle_version)
    plan: str = ""
    report_status: str | None = Field(default=None, max_length=32)
    report_content: str | None = None
    self_grade: str | None = Field(default=None, max_length=8)
    internal_comment: str | None = None
    council_grade: str | None = Field(default=None, max_length=8)
    evaluation: str | None = None
    decision: str | None = Field(default=None, max_length=16)
    decision_reason: str | None = None
    revised_plan: str | None = None
    returned_comment: str | None = Field(default=None, description="the latest return's comment")
    return_count: int = 0
    flags: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    interim: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True),
        description="interim progress posted during the year: [{day, values, comment}]")
    report_details: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True),
        description="what the report said in the fields its strategy asks for: {key: value}")
    created_at: datetime | None = None
    updated_at: datetime | None = Field(default=None, description="when the state last changed")
    check_opened_at: datetime | None = None
    closed_at: datetime | None = None


class Measurement(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("indicator_id", "fy"),)

    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id")
    fy: int
    cycle_id: int | None = Field(default=None, foreign_key="cycle.id", index=True)
    value: float | None = None
    reason: str | None = Field(default=None, description="why there is no value this year")


class Proposal(SQLModel, table=True):
    """One improvement the promotion council proposed; answered in the act phase."""

    __table_args__ = (UniqueConstraint("cycle_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    seq: int
    text: str
    answer: str | None = None


__all__ = [
    "Action",
    "ActionOwner",
    "AuditEvent",
    "Council",
    "Cycle",
    "FrameworkTag",
    "Indicator",
    "Measurement",
    "Membership",
    "OpinionRequest",
    "OutboxItem",
    "OutboxMessage",
    "Person",
    "Proposal",
    "Publication",
    "ReviewPackage",
    "Strategy",
    "StrategyProcess",
]


_opinion_version = Column("version", Integer, nullable=False, default=1)


class OpinionRequest(SQLModel, table=True):
    """An advisor asked for a scientific or local-knowledge opinion on a cycle, by a date:
    an instance of the opinion workflow."""

    __tablename__ = "opinion_request"
    __mapper_args__ = {"version_id_col": _opinion_version}

    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(default="asked", max_length=64)
    version: int = Field(default=1, sa_column=_opinion_version)
    updated_at: datetime | None = None
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    advisor_id: int = Field(foreign_key="person.id", index=True)
    asked_by: str = Field(max_length=320)
    question: str
    due: date
    asked_at: datetime
    answer: str | None = None
    answered_at: datetime | None = None
    withdrawn_reason: str | None = None


class Publication(SQLModel, table=True):
    """One fiscal year's results as published (公表): frozen, hashed, never changed. A
    correction is a new version with a note; every version stays readable."""

    __table_args__ = (UniqueConstraint("strategy_id", "fy", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    strategy_id: int = Field(foreign_key="strategy.id")
    fy: int
    version: int
    published_at: datetime
    note: str | None = None
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    content_hash: str = Field(max_length=64)


class CalendarYear(SQLModel, table=True):
    """One fiscal year's calendar as the secretariat set it: the milestone dates the
    councils fixed for that year (`overrides`, name -> ISO date) and the extra closed dates
    in it. Stored rather than read from config.toml so that an admin can change them on
    the web and a re-run of `pdca init` never undoes it."""

    __tablename__ = "calendar_year"
    __table_args__ = (UniqueConstraint("strategy_id", "fy"),)

    id: int | None = Field(default=None, primary_key=True)
    strategy_id: int = Field(foreign_key="strategy.id", index=True)
    fy: int
    overrides: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    closed_dates: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class StrategyProcess(SQLModel, table=True):
    """A strategy as an instance of its own workflow (`workflows/strategy_review`): active
    through its period, reviewed in its target year, the next strategy drafted and adopted,
    then finishing its last check and superseded."""

    __tablename__ = "strategy_process"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(max_length=64)
    version: int = 1
    updated_at: datetime | None = None
    tenant_id: int = Field(foreign_key="strategy.id")
    created_by: int | None = None
    title: str = Field(max_length=300)
    review_summary: str | None = None
    mid_review_summary: str | None = None
    extension: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True),
                                             description="the extension asked for: new target year, why, targets")
    draft: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True),
                                         description="the next strategy as drafted: code, names, period")
    returned_comment: str | None = None
    next_strategy_id: int | None = Field(default=None, foreign_key="strategy.id")


class ReviewPackage(SQLModel, table=True):
    """A strategy's final review as published: frozen and hashed like a year's results; a
    correction is a new version with a note."""

    __tablename__ = "review_package"
    __table_args__ = (UniqueConstraint("strategy_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    strategy_id: int = Field(foreign_key="strategy.id")
    version: int
    published_at: datetime
    note: str | None = None
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    content_hash: str = Field(max_length=64)


class FrameworkTag(SQLModel, table=True):
    """An action (or one of its indicators) of a strategy serves a framework target: a
    Kunming-Montreal target, a national-strategy target (`workflows/frameworks`)."""

    __tablename__ = "framework_tag"
    __table_args__ = (UniqueConstraint("strategy_id", "action_code", "indicator_code", "framework", "target"),)

    id: int | None = Field(default=None, primary_key=True)
    strategy_id: int = Field(foreign_key="strategy.id", index=True)
    action_code: str = Field(max_length=32)
    indicator_code: str = Field(default="", max_length=32, description="empty: the action as a whole")
    framework: str = Field(max_length=32)
    target: str = Field(max_length=16)


class HubItem(SQLModel, table=True):
    """What a partner sent to the information hub (情報拠点), an instance of its curation
    workflow (`workflows/hub`): an observation with its Darwin Core terms, or an activity
    report with the actions it serves. Public once accepted; exact coordinates of a species
    on the strategy's sensitive list never leave the database."""

    __tablename__ = "hub_item"

    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(max_length=64)
    version: int = 1
    updated_at: datetime | None = None
    tenant_id: int = Field(foreign_key="strategy.id", index=True)
    created_by: int | None = Field(default=None, foreign_key="person.id")
    title: str = Field(max_length=300)
    kind: str = Field(max_length=16, description="observation | activity")
    occurrence_id: str = Field(max_length=64, unique=True,
                               description="urn:uuid:..., stable: Darwin Core's occurrenceID")
    source: str = Field(default="web", max_length=16, description="web | dwca | inaturalist | ikimonolog | csv")
    source_id: str | None = Field(default=None, max_length=300, description="its id where it was imported from")
    event_date: date
    scientific_name: str | None = Field(default=None, max_length=300)
    vernacular_name: str | None = Field(default=None, max_length=300)
    species_group: str | None = Field(default=None, max_length=32, description="spec.SPECIES_GROUPS")
    latitude: float | None = None
    longitude: float | None = None
    uncertainty_m: float | None = None
    locality: str = Field(max_length=300)
    basis_of_record: str | None = Field(default=None, max_length=32)
    occurrence_status: str | None = Field(default=None, max_length=16)
    individual_count: int | None = None
    recorded_by: str | None = Field(default=None, max_length=300)
    remarks: str | None = None
    participants: int | None = None
    text: str | None = None
    actions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    curator: str | None = Field(default=None, max_length=320)
    verified_by: str | None = Field(default=None, max_length=320)
    verified_name: str | None = Field(default=None, max_length=300)
    returned_comment: str | None = None
    rejected_reason: str | None = None
    withdrawn_reason: str | None = None
    accepted_at: datetime | None = None
    sent_at: datetime | None = None
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False),
                                  description="what an import brought beside the terms (obscured, quality grade)")


class HubPhoto(SQLModel, table=True):
    """A photo sent with a hub item, as kept: encoded again from its pixels (workflows/hub/
    photos.py), so no location or other metadata the camera wrote is in it."""

    __tablename__ = "hub_photo"
    __table_args__ = (UniqueConstraint("item_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="hub_item.id", index=True)
    seq: int
    content_type: str = Field(max_length=32)
    width: int
    height: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class PartnerRequest(SQLModel, table=True):
    """Someone asking on the public page to become a partner of a strategy's hub: an
    instance of `workflows/hub/joining.py`, accepted or declined by the secretariat."""

    __tablename__ = "partner_request"

    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(max_length=64)
    version: int = 1
    updated_at: datetime | None = None
    tenant_id: int = Field(foreign_key="strategy.id", index=True)
    created_by: int | None = None
    title: str = Field(max_length=300)
    email: str = Field(max_length=320)
    name: str = Field(max_length=200)
    organisation: str | None = Field(default=None, max_length=200)
    organisation_kind: str = Field(max_length=32)
    language: str = Field(default="ja", max_length=2)
    message: str | None = None
    declined_reason: str | None = None
    confirm_digest: str | None = Field(default=None, max_length=64, index=True)
    """The digest of the secret in the link mailed to the address (the secret is never kept)."""
    confirmed_at: datetime | None = None


class Meeting(SQLModel, table=True):
    """One meeting of a council (会議): convened by the calendar on the council's meeting day
    (or by the secretariat, an extra one), with the items waiting for the council then as its
    agenda; the secretariat records who attended and the minutes, with the decisions taken on
    the agenda's items; the chair approves the minutes and they are published. An instance of
    `workflows/meeting`."""

    __tablename__ = "meeting"
    __table_args__ = (Index("ix_meeting_tenant_body_fy", "tenant_id", "body", "fy"),)

    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(max_length=64)
    version: int = 1
    updated_at: datetime | None = None
    tenant_id: int = Field(foreign_key="strategy.id", index=True)
    created_by: int | None = None
    title: str = Field(max_length=300)
    body: str = Field(max_length=64)
    """The council's key in the strategy (`internal`, `promotion`)."""
    fy: int
    """The fiscal year whose items it takes up."""
    held_on: date
    regular: bool = True
    """Convened by the calendar; False for an extra meeting the secretariat called."""
    agenda: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    """The cycles waiting for the council on the day it was convened (its packet)."""
    attendance: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """Each member then seated: email, name, seat, present."""
    minutes: str | None = None
    decisions: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """The council's steps on the agenda's items from the meeting day to the minutes, as the
    audit has them (program names; pages say them in words)."""
    returned_comment: str | None = None
    cancelled_reason: str | None = None
    published_at: datetime | None = None


class ExchangeTopic(SQLModel, table=True):
    """A topic of the promotion council's exchange of information (情報交換): posted by a
    partner, a division or a council member, linked to the actions it concerns, replied to
    by others; public topics are published with their replies. An instance of
    `workflows/exchange`."""

    __tablename__ = "exchange_topic"

    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(max_length=64)
    version: int = 1
    updated_at: datetime | None = None
    tenant_id: int = Field(foreign_key="strategy.id", index=True)
    created_by: int | None = None
    title: str = Field(max_length=300)
    text: str
    actions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    public: bool = False
    posted_at: datetime | None = None
    hidden_reason: str | None = None


class ExchangeReply(SQLModel, table=True):
    """One reply to an exchange topic, kept in the order written."""

    __tablename__ = "exchange_reply"

    id: int | None = Field(default=None, primary_key=True)
    topic_id: int = Field(foreign_key="exchange_topic.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    text: str
    at: datetime
