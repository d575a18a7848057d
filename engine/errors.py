"""Refusals: every way a request to move an instance can be turned down, each with the
facts a person (or a script) needs to do the right thing next.

Every refusal and every field problem is a `Said`: English text, for scripts, logs and
the CLI, that also carries a catalogue key and its parameters (and, for words a workflow
writes itself, the Japanese), so pages and mail can say it in the person's language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class Said(str):
    """English text that knows how to be said in another language: by its catalogue `key`
    and `params`, or by the `ja` its author wrote beside it."""

    key: str
    params: dict[str, Any]
    ja: str | None

    def __new__(cls, english: str, key: str = "", *, ja: str | None = None, **params: Any) -> Said:
        said = super().__new__(cls, english)
        said.key = key
        said.params = params
        said.ja = ja
        return said


def said(english: str | Said) -> Said:
    """A text as a `Said` (plain text stays as it is, in every language)."""
    return english if isinstance(english, Said) else Said(english)


class Refused(Exception):
    """Base of every refusal. `code` is stable for scripts; `str()` is for people."""

    code = "refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.said = said(message)


class NotFound(Refused):
    code = "not_found"


class NotAllowedNow(Refused):
    """The trigger does not exist from the current state; `allowed` lists what does."""

    code = "not_allowed_now"

    def __init__(self, message: str, *, state: str, allowed: Sequence[str]) -> None:
        super().__init__(message)
        self.state = state
        self.allowed = tuple(allowed)


class WrongRole(Refused):
    code = "wrong_role"

    def __init__(self, message: str, *, roles: Sequence[str], holders: Sequence[str]) -> None:
        super().__init__(message)
        self.roles = tuple(roles)
        self.holders = tuple(holders)


class InvalidFields(Refused):
    code = "invalid_field"

    def __init__(self, problems: Sequence[tuple[str, str]], *, labels: Mapping[str, Any] | None = None) -> None:
        self.problems = tuple((name, said(why)) for name, why in problems)
        self.labels = dict(labels or {})
        """Words for names the trigger itself does not declare (a fieldset's fields, which
        the store supplies): name -> its Label, for whoever says the problems."""
        super().__init__("; ".join(f"{name}: {why}" for name, why in self.problems))
        self.said = Said(self.message, "refused.invalid_fields", count=len(self.problems))


class GuardRefused(Refused):
    code = "guard"

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = tuple(said(r) for r in reasons)
        super().__init__("; ".join(self.reasons))
        self.said = Said(self.message, "refused.guard", reasons=list(self.reasons))


class Stale(Refused):
    """Someone else changed the instance since it was read."""

    code = "stale"
