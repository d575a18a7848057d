"""The year's milestones as an iCalendar file a person's calendar client can import."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, Event

from workflows.calendar import Milestone

ALARM_DAYS = {"plan_due": 7, "report_due": 7, "decisions_due": 7}


def milestones_ics(
    milestones: Iterable[Milestone], *, strategy: str, title: str, language: str, stamp: datetime
) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//pdca//strategy calendar//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", title)
    for m in milestones:
        event = Event()
        event.add("uid", f"{m.name}-{m.fy}@{strategy}.pdca")
        event.add("dtstamp", stamp)
        event.add("dtstart", m.day)
        event.add("dtend", m.day + timedelta(days=1))
        event.add("summary", m.what(language))
        if m.when.moved:
            note = "（休日のため変更）" if language == "ja" else " (moved from a closed day)"
            event.add("description", f"{m.when.rule.isoformat()} → {m.day.isoformat()}{note}: "
                      + "; ".join(m.when.reasons))
        event.add("categories", [m.name])
        for days in sorted({1, ALARM_DAYS.get(m.name, 1)}):
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", m.what(language))
            alarm.add("trigger", timedelta(days=-days))
            event.add_component(alarm)
        cal.add_component(event)
    return cal.to_ical()
