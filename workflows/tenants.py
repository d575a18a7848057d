"""The strategies of a deployment, each a tenant: its calendar, its grade scale and its
revision rules. A prefecture or a shared service hosts several municipalities' strategies
in one database, and a city runs its old strategy's last year beside the next one; every
query is scoped by one of them.

The configuration names them; the database gives their ids (after `pdca init`). A
strategy that is in the database but no longer in the configuration keeps its history
readable, with the default calendar and rules.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from engine.errors import NotFound
from workflows.calendar import Calendar, CalendarIn
from workflows.calendar_store import StoredYear, apply_years, read_reminders, read_years
from workflows.models import Strategy
from workflows.report_fields import ReportFieldIn
from workflows.revision import RevisionIn
from workflows.strategy_review.settings import ReviewIn


@dataclass(frozen=True)
class Tenant:
    id: int
    code: str
    name_ja: str
    name_en: str
    calendar: Calendar
    rules: RevisionIn
    grades: tuple[str, ...]
    configured: bool = True
    grade_meanings: dict[str, tuple[str, str]] = field(default_factory=dict)
    first_fy: int = 0
    target_fy: int = 9999
    """The strategy's period: its cycles open for these fiscal years only."""
    review: ReviewIn = field(default_factory=ReviewIn)
    predecessor_id: int | None = None
    report_fields: tuple[ReportFieldIn, ...] = ()
    """What the strategy's yearly report asks beyond the cycle's own fields (stored with it)."""
    sensitive: frozenset[str] = frozenset()
    """The hub's sensitive species (scientific names, as configured): generalised in public."""
    outline: str | None = None
    """The GeoJSON file of the city's outline for the hub's maps (None: the sample city's)."""

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_ja


@dataclass(frozen=True)
class TenantSetup:
    """What the configuration says of one strategy beyond its row: its calendar and rules."""

    code: str
    calendar: CalendarIn
    rules: RevisionIn
    grade_meanings: dict[str, tuple[str, str]] = field(default_factory=dict)
    review: ReviewIn = field(default_factory=ReviewIn)
    sensitive: frozenset[str] = frozenset()
    """The hub's sensitive species (scientific names): their places are generalised in public."""
    outline: str | None = None
    """The hub's map outline (a GeoJSON file's absolute path), if configured."""


class Tenants:
    def __init__(self, setups: list[TenantSetup]) -> None:
        self._setups = {s.code: s for s in setups}
        self._order = [s.code for s in setups]
        self._calendars = {s.code: Calendar(s.calendar) for s in setups}
        self._stored_calendars: dict[str, tuple[str, Calendar]] = {}
        """Per strategy, the calendar last built from stored years and reminders, and what
        it was built from: every tick reads them again, and they rarely change."""
        self._by_id: dict[int, Tenant] = {}
        self._by_code: dict[str, Tenant] = {}
        self._lock = threading.Lock()

    @property
    def codes(self) -> list[str]:
        """The configured strategies, the first (the file's own `[strategy]`) first."""
        return list(self._order)

    @property
    def default_code(self) -> str:
        return self._order[0]

    def calendar_of(self, code: str) -> Calendar:
        """A configured strategy's calendar, without the database."""
        return self._calendars.get(code) or Calendar()

    def _calendar_from(self, code: str, stored: list[StoredYear], reminders: dict[str, Any] | None) -> Calendar:
        """The configured calendar, with the fiscal years and the reminder series stored in
        the database (set by `pdca init` from the config, then by admins on the web) in
        place of its overrides, closed dates and reminders."""
        if not stored and not reminders:
            return self._calendars.get(code) or Calendar()
        built_from = repr((stored, reminders))
        kept = self._stored_calendars.get(code)
        if kept is not None and kept[0] == built_from:
            return kept[1]  # validated once, its resolved dates kept with it
        setup = self._setups.get(code)
        calendar = Calendar(apply_years(setup.calendar if setup else CalendarIn(), stored, reminders))
        self._stored_calendars[code] = (built_from, calendar)
        return calendar

    def _load(self, conn: Connection) -> None:
        stored = read_years(conn)
        reminders = read_reminders(conn)
        rows = {r.id: r for r in conn.execute(select(
            Strategy.id, Strategy.code, Strategy.name_ja, Strategy.name_en, Strategy.grades, Strategy.first_fy,
            Strategy.target_fy, Strategy.predecessor_id, Strategy.report_fields))}
        by_id, by_code = {}, {}
        for row in rows.values():
            setup = self._setup_of(row, rows)
            tenant = Tenant(
                row.id, row.code, row.name_ja, row.name_en,
                self._calendar_from(setup.code if setup else row.code, stored.get(row.id, []),
                                    reminders.get(row.id)),
                setup.rules if setup else RevisionIn(),
                tuple(row.grades), configured=setup is not None,
                grade_meanings=dict(setup.grade_meanings) if setup else {},
                first_fy=row.first_fy, target_fy=row.target_fy, review=setup.review if setup else ReviewIn(),
                predecessor_id=row.predecessor_id,
                report_fields=tuple(ReportFieldIn(**f) for f in row.report_fields or []),
                sensitive=setup.sensitive if setup else frozenset(), outline=setup.outline if setup else None,
            )
            by_id[row.id], by_code[row.code] = tenant, tenant
        with self._lock:
            self._by_id, self._by_code = by_id, by_code

    def _setup_of(self, row: Any, rows: dict[int, Any]) -> TenantSetup | None:
        """A strategy's own setup in the configuration, or, for the next strategy adopted in
        the database, the one it follows from (its calendar, rules and reviews)."""
        seen: set[int] = set()
        while row is not None and row.id not in seen:
            if row.code in self._setups:
                return self._setups[row.code]
            seen.add(row.id)
            row = rows.get(row.predecessor_id) if row.predecessor_id else None
        return None

    def forget(self) -> None:
        """After `pdca init` changed the strategies' rows, or an admin a stored calendar."""
        with self._lock:
            self._by_id, self._by_code = {}, {}

    def get(self, conn: Connection, tenant_id: int) -> Tenant:
        tenant = self._by_id.get(tenant_id)
        if tenant is None:
            self._load(conn)
            tenant = self._by_id.get(tenant_id)
        if tenant is None:
            raise NotFound(f"no strategy with id {tenant_id}")
        return tenant

    def by_code(self, conn: Connection, code: str) -> Tenant:
        tenant = self._by_code.get(code)
        if tenant is None:
            self._load(conn)
            tenant = self._by_code.get(code)
        if tenant is None:
            known = ", ".join(self._order)
            hint = "run `pdca init`" if code in self._setups else f"the configured strategies are: {known}"
            raise NotFound(f"strategy {code!r} is not in the database; {hint}")
        return tenant

    def configured(self, conn: Connection) -> list[Tenant]:
        """The configured strategies that are in the database, in the configuration's order,
        then those adopted in the database as their successors."""
        self._load(conn)
        found = [self._by_code[c] for c in self._order if c in self._by_code]
        return found + sorted((t for t in self._by_id.values() if t.configured and t.code not in self._setups),
                              key=lambda t: t.id)

    def all(self, conn: Connection) -> list[Tenant]:
        self._load(conn)
        return sorted(self._by_id.values(), key=lambda t: (not t.configured, t.id))

    def calendar(self, conn: Connection, tenant_id: int) -> Calendar:
        return self.get(conn, tenant_id).calendar

    def __repr__(self) -> str:
        return f"Tenants({self._order!r})"


__all__ = ["Tenant", "TenantSetup", "Tenants"]
