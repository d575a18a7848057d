"""A fiscal year's calendar as the database holds it: seeded from config.toml at `pdca
init`, changed by admins on the web, and never undone by init run again."""

from __future__ import annotations

from datetime import date

import pytest

from engine import db
from tests.conftest import Year
from workflows.calendar import CalendarIn
from workflows.calendar_store import StoredYear, apply_years, store_year, stored_year


def test_init_seeds_the_configured_overrides_and_a_rerun_keeps_a_stored_change(sqlite_year: Year) -> None:
    pdca = sqlite_year.pdca
    with db.reading(pdca.engine) as conn:
        seeded = stored_year(conn, sqlite_year.strategy, 2026)
    assert seeded.overrides == {"promotion_council_meeting": date(2027, 7, 30)}
    with db.writing(pdca.engine) as conn:
        store_year(conn, sqlite_year.strategy, StoredYear(2026, {"report_due": date(2027, 5, 31)}, ()))
    pdca.tenants.forget()
    with db.reading(pdca.engine) as conn:
        assert pdca.tenants.get(conn, sqlite_year.strategy).calendar.due(2026, "report_due") == date(2027, 5, 31)
    pdca.sync()  # what `pdca init` runs again
    with db.reading(pdca.engine) as conn:
        calendar = pdca.tenants.get(conn, sqlite_year.strategy).calendar
    assert calendar.due(2026, "report_due") == date(2027, 5, 31)
    assert calendar.due(2026, "promotion_council_meeting") == date(2027, 7, 23)  # the rule again: no override


def test_stored_years_are_validated_as_the_configuration_is() -> None:
    with pytest.raises(ValueError, match="must come after report_due"):
        apply_years(CalendarIn(), [StoredYear(2026, {"report_due": date(2027, 6, 30)}, ())])
    closed = apply_years(CalendarIn(), [StoredYear(2026, {}, (date(2027, 5, 28),))])
    assert closed.closed_dates == [date(2027, 5, 28)]
