"""Refusals: every way a request to move an instance can be turned down, each with the
facts a person (or a script) needs to do the right thing next."""

from __future__ import annotations

from collections.abc import Sequence


class Refused(Exception):
    """Base of every refusal. `code` is stable for scripts; `str()` is for people."""

    code = "refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{name}: {why}" for name, why in self.problems))


class GuardRefused(Refused):
    code = "guard"

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = tuple(reasons)
        super().__init__("; ".join(self.reasons))


class Stale(Refused):
    """Someone else changed the instance since it was read."""

    code = "stale"
