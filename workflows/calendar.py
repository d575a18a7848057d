"""The strategy's annual calendar: when each fiscal year's plan and check happen.

The `[calendar]` section of config.toml gives rule dates as month-day; the check of fiscal
year N happens in calendar year N+1, and so does the plan window for FY N+1. A date that
falls on a weekend, a Japanese public holiday, the year-end closure (Dec 29 - Jan 3) or an
extra closed date moves to the previous (or, if configured, next) business day. Councils
fix their meetings each year, so any date can be overridden per fiscal year; an override
is taken as given.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jpholiday
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Connection, select

from engine.calendar import Shifted, to_business_day
from engine.errors import NotFound
from workflows.action_cycle.spec import INTERNAL_CHAIR, OWNER, PROMOTION_CHAIR
from workflows.fiscal import fiscal_year_of, fy_label

MONTH_DAY = re.compile(r"^(\d\d)-(\d\d)$")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SECRETARIAT = "secretariat"
CHECKED_FROM = 2026
INTERNAL = "internal_council"
PROMOTION = "promotion_council"


@dataclass(frozen=True)
class MilestoneKind:
    name: str
    about_next_year: bool
    """True for the plan window: it prepares FY N+1, not FY N's check."""
    concerns: tuple[str, ...]
    what_ja: str
    what_en: str


# The year of one fiscal year's calendar, in order. `{fy}` is the year checked, `{next}` the
# year planned.
MILESTONES = (
    MilestoneKind("plan_window_opens", True, (OWNER, SECRETARIAT),
                  "{next}の年度サイクルを計画作成で開始し、担当課に計画を依頼",
                  "{next} cycles open in plan drafting; owners are asked for their plans"),
    MilestoneKind("plan_due", True, (OWNER, INTERNAL_CHAIR),
                  "{next}の計画の提出期限（事前に担当課へリマインド）",
                  "{next} plans are due (owners are reminded before)"),
    MilestoneKind("year_start", True, (OWNER, SECRETARIAT, INTERNAL_CHAIR),
                  "{next}開始: 承認済みの計画を実施へ、未承認は事務局と庁内推進会議長へエスカレーション",
                  "{next} begins: approved plans start; plans not approved are escalated"),
    MilestoneKind("check_opens", False, (OWNER, SECRETARIAT),
                  "{fy}の点検を開始し、担当課に実施状況報告を依頼",
                  "{fy} checks open; owners are asked for their reports"),
    MilestoneKind("report_due", False, (OWNER, SECRETARIAT),
                  "{fy}の実施状況報告の提出期限（前後にリマインド、遅延はエスカレーション）",
                  "{fy} reports are due (reminders before and after; late ones are escalated)"),
    MilestoneKind("internal_council_meeting", False, (INTERNAL, SECRETARIAT),
                  "庁内推進会議: 提出された報告を会議資料として送付",
                  "Internal council meets: submitted reports are sent to its members as a packet"),
    MilestoneKind("promotion_council_meeting", False, (PROMOTION, SECRETARIAT),
                  "生物多様性推進会議: 点検結果を会議資料として送付",
                  "Promotion council meets: checked results are sent to its members as a packet"),
    MilestoneKind("decisions_due", False, (INTERNAL_CHAIR, SECRETARIAT),
                  "{fy}の対応方針の決定期限（事前に庁内推進会議長へリマインド）",
                  "{fy} decisions are due (the internal chair is reminded before)"),
    MilestoneKind("publication", False, (SECRETARIAT, PROMOTION, INTERNAL),
                  "{fy}の結果の公表",
                  "{fy} results are published"),
)
KINDS = {m.name: m for m in MILESTONES}
RULE_KEYS = tuple(m.name for m in MILESTONES if m.name != "year_start")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _month_day(value: str) -> tuple[int, int]:
    match = MONTH_DAY.match(value)
    if not match:
        raise ValueError(f"write MM-DD, e.g. 05-29 (not {value!r})")
    month, day = int(match[1]), int(match[2])
    try:
        date(2024, month, day)  # a leap year: accepts 02-29, refuses 02-30
    except ValueError:
        raise ValueError(f"{value!r} is not a day of the year") from None
    return month, day


class MilestonesIn(_Strict):
    """Rule dates as MM-DD, all in calendar year N+1 for fiscal year N."""

    plan_window_opens: str = "01-15"
    plan_due: str = "02-28"
    check_opens: str = "04-10"
    report_due: str = "05-29"
    internal_council_meeting: str = "06-19"
    promotion_council_meeting: str = "07-24"
    decisions_due: str = "08-31"
    publication: str = "09-30"

    @field_validator("*")
    @classmethod
    def _valid(cls, value: str) -> str:
        _month_day(value)
        return value


class CalendarIn(_Strict):
    timezone: str = "Asia/Tokyo"
    fiscal_year_start: str = "04-01"
    shift: Literal["previous", "next"] = "previous"
    year_end_closure: bool = True
    closed_dates: list[date] = Field(default_factory=list)
    reminder_days: list[int] = Field(default_factory=lambda: [14, 7, 1])
    repeat_days: int = Field(default=7, ge=1, le=60)
    escalate_after_days: int = Field(default=14, ge=1, le=120)
    tick_hour: int = Field(default=6, ge=0, le=23)
    milestones: MilestonesIn = MilestonesIn()
    overrides: dict[int, dict[str, date]] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("fiscal_year_start")
    @classmethod
    def _start(cls, value: str) -> str:
        _, day = _month_day(value)
        if day > 28:
            raise ValueError("use a day from 01 to 28, so every year has it")
        return value

    @field_validator("reminder_days")
    @classmethod
    def _offsets(cls, value: list[int]) -> list[int]:
        if any(d < 1 or d > 90 for d in value) or len(set(value)) != len(value):
            raise ValueError("days before a due date: distinct whole numbers from 1 to 90")
        return sorted(value, reverse=True)

    @model_validator(mode="after")
    def _in_order(self) -> CalendarIn:
        problems = []
        for fy, dates in self.overrides.items():
            for key in dates:
                if key not in KINDS or key == "year_start":
                    problems.append(f"overrides.{fy}.{key}: no such milestone ({', '.join(RULE_KEYS)})")
        if problems:
            raise ValueError("; ".join(problems))
        calendar = Calendar(self)
        # Weekdays and leap years repeat every 28 years: a rule in order for 28 years
        # is in order for every year; an override is checked for its own year.
        for fy in sorted({*self.overrides, *range(CHECKED_FROM, CHECKED_FROM + 28)}):
            problems += calendar.problems(fy)
            if len(problems) >= 3:
                problems = [*problems[:3], "(and so on in other years)"]
                break
        if problems:
            raise ValueError("; ".join(problems))
        return self


@dataclass(frozen=True)
class Milestone:
    name: str
    fy: int
    when: Shifted
    override: bool

    @property
    def day(self) -> date:
        return self.when.day

    @property
    def kind(self) -> MilestoneKind:
        return KINDS[self.name]

    def what(self, language: str) -> str:
        text = self.kind.what_ja if language == "ja" else self.kind.what_en
        return text.format(fy=fy_label(self.fy), next=fy_label(self.fy + 1))


class Calendar:
    """The resolved calendar: dates by fiscal year, closed days, the city's time zone."""

    def __init__(self, settings: CalendarIn | None = None) -> None:
        self.settings = settings or CalendarIn()
        self.zone = ZoneInfo(self.settings.timezone)
        self.start = _month_day(self.settings.fiscal_year_start)
        self._resolved: dict[tuple[int, str], Milestone] = {}

    @cached_property
    def _extra_closed(self) -> frozenset[date]:
        return frozenset(self.settings.closed_dates)

    def closed(self, day: date) -> str | None:
        if day.weekday() >= 5:
            return WEEKDAYS[day.weekday()]
        name = jpholiday.is_holiday_name(day)
        if name:
            return name
        if self.settings.year_end_closure and ((day.month, day.day) >= (12, 29) or (day.month, day.day) <= (1, 3)):
            return "年末年始 (year-end closure)"
        if day in self._extra_closed:
            return "閉庁日 (closed)"
        return None

    def today(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()

    def fiscal_year(self, now: datetime) -> int:
        return fiscal_year_of(self.today(now), *self.start)

    def year_begins(self, fy: int) -> datetime:
        return datetime.combine(date(fy, *self.start), time(0), self.zone)

    def milestone(self, fy: int, name: str) -> Milestone:
        """Resolved once per year and name: every tick and every page asks again."""
        key = (fy, name)
        if key not in self._resolved:
            self._resolved[key] = self._resolve(fy, name)
        return self._resolved[key]

    def _resolve(self, fy: int, name: str) -> Milestone:
        override = self.settings.overrides.get(fy, {}).get(name)
        if name == "year_start":
            day = date(fy + 1, *self.start)
            return Milestone(name, fy, Shifted(day, day, ()), False)
        if override is not None:
            return Milestone(name, fy, Shifted(override, override, ()), True)
        month, day_of = _month_day(getattr(self.settings.milestones, name))
        rule = _safe_date(fy + 1, month, day_of)
        return Milestone(name, fy, to_business_day(rule, self.closed, self.settings.shift), False)

    def year(self, fy: int) -> list[Milestone]:
        return [self.milestone(fy, m.name) for m in MILESTONES]

    def due(self, fy: int, name: str) -> date:
        return self.milestone(fy, name).day

    def problems(self, fy: int) -> list[str]:
        """Out-of-order or out-of-year dates for the calendar of `fy`, in words."""
        found = []
        resolved = self.year(fy)
        for a, b in itertools.pairwise(resolved):
            if not a.day < b.day:
                found.append(
                    f"FY{fy}: {b.name} ({b.day.isoformat()}) must come after {a.name} ({a.day.isoformat()})"
                )
        for m in resolved:
            if m.day.year != fy + 1:
                where = f"overrides.{fy}.{m.name}" if m.override else f"milestones.{m.name} (FY{fy})"
                found.append(f"{where}: {m.day.isoformat()} is not in {fy + 1}, the year FY{fy} is checked in")
        return found


def _safe_date(year: int, month: int, day: int) -> date:
    """02-29 in a year without it means the last day of February."""
    try:
        return date(year, month, day)
    except ValueError:
        return date(year, month, day - 1)


def concerned_roles(conn: Connection, *, strategy: int, email: str) -> set[str]:
    """Every role a person may hold in a strategy's calendar, regardless of absences: for
    deciding which milestones concern them."""
    from workflows import bodies
    from workflows.models import Action, ActionOwner, Person

    person = conn.execute(select(Person.id).where(Person.email == email.lower(), Person.active)).scalar()
    if person is None:
        raise NotFound(f"{email} is not a person in the config ([[people]])")
    roles: set[str] = set()
    owns = select(ActionOwner.action_id).join(Action, Action.id == ActionOwner.action_id).where(
        ActionOwner.person_id == person, Action.strategy_id == strategy)
    if conn.execute(owns).first():
        roles.add(OWNER)
    councils = {"internal": (INTERNAL, INTERNAL_CHAIR), "promotion": (PROMOTION, PROMOTION_CHAIR)}
    for key, seat in bodies.seats_of(conn, strategy=strategy, person_id=person).items():
        if key in councils:
            member, chair = councils[key]
            roles.add(member)
            if seat in ("chair", "vice_chair"):
                roles.add(chair)
        else:
            roles.add(key)
    return roles


WEEKDAYS_JA = ("月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日", "日曜日")
CLOSURES = {"年末年始 (year-end closure)": ("年末年始", "year-end closure"), "閉庁日 (closed)": ("閉庁日", "closed")}


def reason_words(reason: str, language: str) -> str:
    """Why a date moved, for a person: '2027-05-29 土曜日' (scripts keep the stored form,
    '2027-05-29 Saturday')."""
    day, _, why = reason.partition(" ")
    if why in WEEKDAYS:
        why = WEEKDAYS_JA[WEEKDAYS.index(why)] if language != "en" else why
    elif why in CLOSURES:
        why = CLOSURES[why][1 if language == "en" else 0]
    return f"{day} {why}"
