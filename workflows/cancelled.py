"""Why a queued message was cancelled, in words: a date moved, a reminder series changed,
an action handed to other owners, a seat given up. The reason is kept on the message
(`last_error`) in a form for programs; the outbox page and `pdca outbox` say it with this."""

from __future__ import annotations

from typing import Any

from words.catalogue import has, say
from workflows import calendar_admin, people_admin, service


def series_words(values: dict[str, Any], language: str) -> str:
    """A reminder series as people read it: 'days before, every N days after, escalated M days late'."""
    return say("history.series", language, days="・".join(map(str, values.get("reminder_days", []))),
               repeat=values.get("repeat_days", ""), escalate=values.get("escalate_after_days", ""))


def _series(text: str, language: str) -> str:
    """'14,7,1/7/14' (as a cancelled message's reason keeps it) in words."""
    days, repeat, escalate = text.split("/")
    return series_words({"reminder_days": days.split(","), "repeat_days": repeat, "escalate_after_days": escalate},
                        language)


def _seat(role: str, language: str) -> str:
    return say(f"seat.{role}", language) if role else say("page.seat_none", language)


def cancelled_words(error: str | None, language: str) -> str | None:
    """A message's last error; a cancellation said in words, anything else as it is."""
    if not error:
        return error
    parts = error.split("|")
    if error.startswith(people_admin.SEAT_CHANGED) and len(parts) == 5:
        _, body, email, old, new = parts
        return say("outbox.cancelled_by_seat", language,
                   body=say(f"body.{body}", language) if has(f"body.{body}") else body, email=email,
                   old=_seat(old, language), new=_seat(new, language))
    if error.startswith(calendar_admin.REMINDERS_REASON) and len(parts) == 3:
        return say("outbox.cancelled_by_reminders", language, old=_series(parts[1], language),
                   new=_series(parts[2], language))
    if error.startswith(service.OWNERS_CHANGED) and len(parts) == 4:
        _, code, removed, added = parts
        return say("outbox.cancelled_by_owners", language, code=code, old=removed, new=added)
    if error.startswith(calendar_admin.REASON_PREFIX) and len(parts) == 4:
        _, milestone, old, new = parts
        return say("outbox.cancelled_by_calendar", language, milestone=say(f"milestone.{milestone}", language),
                   old=old, new=new)
    return error


__all__ = ["cancelled_words", "series_words"]
