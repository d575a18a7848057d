"""What went wrong with the database, in words a person can act on.

A driver's error says what failed in its own terms; an admin needs to know which of a few
things to fix: start the server, create the database, fix the URL or the password, or run
`pdca init`. Only an error that really means "the tables are not there" suggests `init`.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

UNDEFINED_TABLE = "42P01"
INVALID_CATALOG = "3D000"
AUTH_FAILED = ("28P01", "28000")


def _where(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"the SQLite file {parsed.database}"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"


def explain(exc: DBAPIError, url: str) -> str:
    """One line for a person: what is wrong with the database and what to do about it."""
    orig = exc.orig
    text = str(orig).strip()
    lowered = text.lower()
    state = getattr(orig, "sqlstate", None)
    parsed = make_url(url)
    if state == UNDEFINED_TABLE or "no such table" in lowered or (
        "relation" in lowered and "does not exist" in lowered
    ):
        return "the database has no pdca tables yet (or older ones): run `pdca init`"
    if state == INVALID_CATALOG or (parsed.database and f'database "{parsed.database}" does not exist' in text):
        return (f"the database {parsed.database!r} does not exist on {_where(url)}: create it "
                f"(createdb {parsed.database}) or fix [database] url")
    if state in AUTH_FAILED or "password authentication failed" in lowered or "authentication failed" in lowered:
        return f"the database server at {_where(url)} refused user {parsed.username!r}: check [database] url"
    if "connection refused" in lowered or "could not connect" in lowered or "timeout expired" in lowered \
            or "name or service not known" in lowered or "could not translate host name" in lowered:
        return (f"cannot reach the database server at {_where(url)} (is it running? is [database] url right?): "
                + text.splitlines()[-1].strip())
    if "unable to open database file" in lowered:
        return f"cannot open {_where(url)}: check that its folder exists and may be written"
    if "database is locked" in lowered:
        return "the database is busy with another pdca process; try again in a moment"
    if "readonly database" in lowered or "read-only" in lowered:
        return f"{_where(url)} may not be written by this user"
    return f"database error: {text.splitlines()[0] if text else type(orig).__name__}"
