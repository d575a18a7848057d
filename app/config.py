"""`config.toml`, read and checked. The only module that reads it.

Every problem is reported with its key path (`councils.internal.chair: ...`) so an admin
can find it; nothing is opened or written until the whole file is valid.
"""

from __future__ import annotations

import importlib.util
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from workflows.calendar import CalendarIn
from workflows.directory import AdvisorsIn, BodiesIn, CouncilIn, Directory, HubIn, SecretariatIn, StrategyIn
from workflows.revision import RevisionIn
from workflows.strategy_review.settings import ReviewIn
from workflows.tenants import TenantSetup

DEFAULT_CONFIG = "config.toml"


class ConfigError(Exception):
    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Strict):
    url: str = "sqlite:///var/pdca.sqlite3"

    @field_validator("url")
    @classmethod
    def _parses(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL ({exc})") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError("only sqlite:/// and postgresql+psycopg:// URLs are supported")
        if url.get_backend_name() == "postgresql":
            if url.get_driver_name() not in ("psycopg", "psycopg2"):
                raise ValueError(f"use postgresql+psycopg:// (the {url.get_driver_name()} driver is not supported)")
            # A bare postgresql:// would ask SQLAlchemy for psycopg2; psycopg (3) is the one we ship.
            url = url.set(drivername="postgresql+psycopg")
            if importlib.util.find_spec("psycopg") is None:
                raise ValueError(
                    "PostgreSQL needs its driver, which is not installed: "
                    "run .venv/bin/pip install -e '.[postgres]'")
            return url.render_as_string(hide_password=False)
        return value


class MailSettings(_Strict):
    """Used by the notifications; checked now so a typo is found on day one."""

    backend: Literal["file", "console", "smtp"] = "file"
    dir: str = "var/mail"
    from_address: str = "pdca@localhost"
    reply_to: str | None = None
    host: str = "localhost"
    port: int = Field(default=25, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = None
    base_url: str | None = None
    """Where links in messages point; unset, where `pdca serve` listens ([web] host and port)."""
    connections: int = Field(default=4, ge=1, le=32)
    timeout_seconds: float = Field(default=30, gt=0, le=600)
    max_attempts: int = Field(default=8, ge=1, le=50)
    first_retry_seconds: int = Field(default=60, ge=1)
    longest_wait_seconds: int = Field(default=6 * 3600, ge=60)
    digest_hour: int = Field(default=8, ge=0, le=23)

    @model_validator(mode="after")
    def _smtp_password(self) -> MailSettings:
        if self.backend == "smtp" and self.username and not self.password_env:
            raise ValueError("password_env: name the environment variable that holds the SMTP password")
        return self


class WebSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_dir: str = "var/public"
    sign_in_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_days: int = Field(default=14, ge=1, le=90)


class ExtraStrategyIn(StrategyIn):
    """One more strategy in the same deployment (`[[strategies]]`): the keys of `[strategy]`
    with its own `secretariat`, `councils` and `advisors`; `calendar` and `revision` default
    to the file's own."""

    secretariat: SecretariatIn
    councils: dict[Literal["internal", "promotion"], CouncilIn]
    advisors: AdvisorsIn = AdvisorsIn()
    hub: HubIn = HubIn()
    calendar: CalendarIn | None = None
    revision: RevisionIn | None = None
    review: ReviewIn | None = None

    def bodies(self) -> BodiesIn:
        return BodiesIn(secretariat=self.secretariat, councils=self.councils, advisors=self.advisors, hub=self.hub)

    def strategy(self) -> StrategyIn:
        return StrategyIn(**{name: getattr(self, name) for name in StrategyIn.model_fields})


class Settings(Directory):
    database: DatabaseSettings = DatabaseSettings()
    mail: MailSettings = MailSettings()
    calendar: CalendarIn = CalendarIn()
    web: WebSettings = WebSettings()
    revision: RevisionIn = RevisionIn()
    review: ReviewIn = ReviewIn()
    strategies: list[ExtraStrategyIn] = Field(default_factory=list)

    @model_validator(mode="after")
    def _more_strategies(self) -> Settings:
        codes = [self.strategy.code] + [s.code for s in self.strategies]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"strategies: code {', '.join(dupes)} used more than once")
        named = [pair for i, extra in enumerate(self.strategies)
                 for pair in extra.bodies().named(f"strategies[{i}].")]
        self.check_people(named)
        return self

    def all_strategies(self) -> list[tuple[StrategyIn, BodiesIn]]:
        """Every configured strategy with its bodies, the file's own first."""
        return [(self.strategy, self.first_bodies())] + [(s.strategy(), s.bodies()) for s in self.strategies]

    def tenant_setups(self) -> list[TenantSetup]:
        return [TenantSetup(self.strategy.code, self.calendar, self.revision, self.strategy.grade_meanings,
                            self.review, frozenset(self.hub.sensitive), self.hub.outline)] + [
            TenantSetup(s.code, s.calendar or self.calendar, s.revision or self.revision, s.grade_meanings,
                        s.review or self.review, frozenset(s.hub.sensitive), s.hub.outline)
            for s in self.strategies]

    def admins(self) -> set[str]:
        return super().admins() | {e.lower() for s in self.strategies for e in s.secretariat.members}

    @property
    def links_base(self) -> str:
        """The base of every link in a message: `[mail] base_url`, else the web address."""
        return (self.mail.base_url or web_address(self.web.host, self.web.port)).rstrip("/")


def web_address(host: str, port: int) -> str:
    """The address people open for a server listening on host:port (a wildcard host is
    reached on this machine's loopback)."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "[::1]"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _anchor(url: str, base: Path) -> str:
    """Relative SQLite paths are relative to the config file, not to where pdca runs."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return url
    if parsed.database == ":memory:" or Path(parsed.database).is_absolute():
        return url
    return parsed.set(database=str(base / parsed.database)).render_as_string(hide_password=False)


def _anchored_hub(hub: HubIn, base: Path) -> HubIn:
    """The hub's map outline file as an absolute path: relative to the config file."""
    return hub.model_copy(update={"outline": str(base / hub.outline)}) if hub.outline else hub


def _outline_problem(hub: HubIn, base: Path) -> str | None:
    """Why the configured outline cannot draw a map (missing, not GeoJSON, no polygon), if it cannot."""
    if not hub.outline:
        return None
    from publishing.hub_map import load_outline

    path = base / hub.outline
    try:
        load_outline(path)
    except FileNotFoundError:
        return f"{path} does not exist"
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, IndexError) as exc:
        return f"{path} is not a GeoJSON outline of the city (a Polygon or MultiPolygon): {exc}"
    return None


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    source = Path(path or env.get("PDCA_CONFIG") or DEFAULT_CONFIG)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(source), ["file not found (set PDCA_CONFIG or pass --config)"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(source), [f"not valid TOML: {exc}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(source), [f"cannot be read as UTF-8 text: {exc}"]) from None
    if env.get("PDCA_DATABASE_URL"):
        database = data.setdefault("database", {})
        if not isinstance(database, dict):
            raise ConfigError(str(source), ["database: must be a table ([database] with url = ...)"])
        database["url"] = env["PDCA_DATABASE_URL"]
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{_key_path(err['loc'])}: {err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        ]
        raise ConfigError(str(source), problems) from None
    base = source.resolve().parent
    database = DatabaseSettings(url=_anchor(settings.database.url, base))
    hubs = {"hub": settings.hub, **{f"strategies[{i}].hub": s.hub for i, s in enumerate(settings.strategies)}}
    problems = [f"{where}.outline: {why}" for where, hub in hubs.items() if (why := _outline_problem(hub, base))]
    if problems:
        raise ConfigError(str(source), problems)
    settings = settings.model_copy(update={
        "hub": _anchored_hub(settings.hub, base),
        "strategies": [s.model_copy(update={"hub": _anchored_hub(s.hub, base)}) for s in settings.strategies]})
    return settings.model_copy(update={
        "database": database,
        "mail": settings.mail.model_copy(update={"dir": str(base / settings.mail.dir)}),
        "web": settings.web.model_copy(update={"public_dir": str(base / settings.web.public_dir)}),
    })
