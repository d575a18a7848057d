"""`pdca`: the command line of the strategy's progress management.

Exit codes: 0 done; 1 refused or not found (the reason is printed); 2 bad usage or an
invalid config (the key is named, nothing is touched).

Everything a person reads here comes from the catalogue (`words/cli.py`, and the engine's
refusals said as the pages say them), in Japanese or English: see `choose_language`.
Program names appear in `--json` output, and in brackets where the next command needs them.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app.bootstrap import Pdca
from app.config import ConfigError, load_settings, web_address
from app.database_errors import explain as explain_database_error
from app.diagram import mermaid
from app.ics import milestones_ics
from app.importing import Imported, ImportRefused, Kept, import_actions, kept_words
from app.mail import delivery as mail_delivery
from app.simulate import Replay, copy_to
from app.simulate import simulate as run_simulation
from engine import db
from engine.clock import utc_now
from engine.db import MissingDatabase
from engine.errors import InvalidFields, NotFound, Refused, Said, WrongRole
from engine.runtime import Actor
from engine.spec import WorkflowSpec
from notifications.drain import list_messages, retry
from words.catalogue import has, join, render, say
from workflows import bodies, service
from workflows.calendar import Calendar, concerned_roles, reason_words
from workflows.cancelled import cancelled_words
from workflows.fiscal import fy_label
from workflows.registry import Entry
from workflows.tenants import Tenant
from workflows.tick import open_year
from workflows.tick import tick as run_tick

# Help texts are plain (rich_markup_mode=None) and the consoles print text as it is
# (markup=False): help and messages name config sections such as [web] and [[people]],
# and titles may hold brackets, none of which may be taken for markup and vanish.
cli = typer.Typer(
    help="pdca: yearly plan-do-check-act cycles of a biodiversity strategy's actions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
out = Console(soft_wrap=True, markup=False, highlight=False)
err = Console(stderr=True, soft_wrap=True, markup=False, highlight=False)

LANGUAGES = ("ja", "en")
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


class UnknownLanguage(ValueError):
    """--lang or PDCA_LANG names a language pdca does not speak."""

    def __init__(self, source: str, value: str) -> None:
        super().__init__(f"{source} {value}")
        self.source = source
        self.value = value


def choose_language(option: str | None, environ: Mapping[str, str]) -> str:
    """The CLI's language: `--lang`, else PDCA_LANG, else the locale (LC_ALL, LC_MESSAGES,
    LANG: the first one set) when it starts with `ja`, else English.

    Why the locale decides last: a server often runs with C.UTF-8, where English suits the
    operators who read its logs, while a city's staff machine runs ja_JP.UTF-8, where the
    staff read Japanese; each gets its own without typing a flag, and either can ask for
    the other. An unknown `--lang` or PDCA_LANG raises UnknownLanguage (a config error)."""
    for source, value in (("--lang", option), ("PDCA_LANG", environ.get("PDCA_LANG") or None)):
        if value is not None:
            if value.strip().lower() not in LANGUAGES:
                raise UnknownLanguage(source, value)
            return value.strip().lower()
    found = next((environ[name] for name in LOCALE_VARIABLES if environ.get(name)), "")
    return "ja" if found.lower().startswith("ja") else "en"


def _styled(*parts: str | tuple[str, str]) -> Text:
    """A line with some parts emphasised: ("refused", "bold red"), " (stale): ..."."""
    return Text.assemble(*parts)


class _Options:
    """Options given before the command, for the command to use."""

    config: Path | None = None
    strategy: str | None = None
    language: str = "en"
    spec: WorkflowSpec | None = None
    """The workflow the command acts on: refusals name its steps and states in words."""


_state = _Options()


@cli.callback()
def _main(
    config: Annotated[
        Path | None, typer.Option("--config", help="config.toml to use (else PDCA_CONFIG, else ./config.toml)")
    ] = None,
    strategy: Annotated[
        str | None, typer.Option("--strategy", help="the strategy's code ([strategy] code, or one of [[strategies]]); "
                                                    "default: the only one")
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="ja or en: the language of what pdca prints (else PDCA_LANG, else "
                                                "ja when the locale LC_ALL, LC_MESSAGES or LANG starts with ja)")
    ] = None,
) -> None:
    _state.config = config
    _state.strategy = strategy
    _state.spec = None
    _set_language(lang)


def _set_language(option: str | None) -> None:
    """An unknown language is a config error (exit 2), said in the locale's language."""
    try:
        _state.language = choose_language(option, os.environ)
    except UnknownLanguage as exc:
        _state.language = _fallback_language(os.environ)
        err.print(_styled((_say("bad_language", source=exc.source, value=exc.value), "bold red")))
        raise typer.Exit(2) from None


def _fallback_language(environ: Mapping[str, str]) -> str:
    """The language to say that a language is unknown in: PDCA_LANG if it is one, else the locale's."""
    try:
        return choose_language(None, environ)
    except UnknownLanguage:
        return choose_language(None, {k: environ[k] for k in LOCALE_VARIABLES if k in environ})


# -- words ---------------------------------------------------------------------------------


def _say(key: str, **values: Any) -> str:
    """One of the CLI's sentences (words/cli.py) in the CLI's language."""
    return say(f"cli.{key}", _state.language, **values)


def _english() -> bool:
    return _state.language == "en"


def _join(items: Sequence[str]) -> str:
    return join(list(items), _state.language)


def _name(kind: str, code: str) -> str:
    """A step, state or role of the workflow at hand in words (the program name only when
    it has none); roles every workflow shares (the calendar, an admin) from the catalogue."""
    words = _state.spec.name_of(kind, code, _state.language) if _state.spec is not None else code
    if words == code and kind == "role" and has(f"role.{code}"):
        return say(f"role.{code}", _state.language)
    return words


def _names(kind: str, code: str, language: str) -> str:
    """`_name` as the catalogue's `render` asks for it."""
    return _name(kind, code)


def _said(text: Any) -> str:
    """A refusal, problem or note the engine wrote: its English as written (scripts and the
    tests read it), or said from its catalogue key, as the pages say it."""
    if _english():
        return str(text)
    return render(getattr(text, "said", text), _state.language, _names)


def _who(actor: str) -> str:
    return say("history.system_actor", _state.language) if actor == "system" else actor


def _step_of(pdca: Pdca, trigger: str) -> str:
    """A step of any workflow in words (the clock's report names steps of every workflow)."""
    for entry in pdca.registry:
        words = entry.spec.name_of("trigger", trigger, _state.language)
        if words != trigger:
            return words
    return say(f"clock.{trigger}", _state.language) if has(f"clock.{trigger}") else trigger


def _kind_of(pdca: Pdca, kind: str) -> str:
    """A kind of message in words, as the outbox page names it."""
    found = pdca.registry.kind_label(kind, _state.language)
    if found:
        return found
    return say(f"kind.{kind}", _state.language) if has(f"kind.{kind}") else kind


def _milestone(name: str) -> str:
    return say(f"milestone.{name}", _state.language) if has(f"milestone.{name}") else name


def _counts(counts: Mapping[str, int], words: Callable[[str], str]) -> str:
    """'年度サイクルを開始 12件、…' from a count by program name; `words` names each."""
    items = [_say("count_item", what=words(k), count=v) for k, v in sorted(counts.items()) if v]
    return _join(items) or _say("none")


# -- the session -----------------------------------------------------------------------------


@contextmanager
def _pdca(*, create: bool = False) -> Iterator[Pdca]:
    """Settings first: an invalid config stops here, before any database is opened. Only
    `create` (pdca init) may make a SQLite file that is not there yet."""
    try:
        settings = load_settings(_state.config)
    except ConfigError as exc:
        err.print(_styled((_say("invalid_config", source=exc.source), "bold red")))
        for problem in exc.problems:
            err.print(f"  {problem}")
        raise typer.Exit(2) from None
    codes = [s.code for s in settings.tenant_setups()]
    if _state.strategy is not None and _state.strategy not in codes:
        err.print(_say("unknown_strategy", code=_state.strategy, codes=", ".join(codes)))
        raise typer.Exit(2)
    pdca = Pdca(settings, create=create, strategy=_state.strategy)
    _state.spec = pdca.registry.primary.spec
    try:
        yield pdca
    except Refused as exc:
        _refuse(exc)
    except MissingDatabase as exc:
        err.print(_styled((_say("no_database", path=exc.path), "bold red")))
        raise typer.Exit(1) from None
    except DBAPIError as exc:
        err.print(_styled((_say("database", detail=explain_database_error(exc, settings.database.url)), "bold red")))
        raise typer.Exit(1) from None
    finally:
        pdca.close()


def _refuse(exc: Refused) -> None:
    """The reason, as the web page says it; field problems each beside its field's name."""
    if isinstance(exc, InvalidFields):
        err.print(_styled((_say("field_problems", code=exc.code, count=len(exc.problems)), "bold red")))
        for name, why in exc.problems:
            err.print(_say("field_problem", field=_field_named(name, exc.labels), why=_said(why)))
    else:
        err.print(_styled((_say("refused", code=exc.code, why=_said(exc)), "bold red")))
    raise typer.Exit(1)


def _field_named(name: str, labels: dict[str, Any] | None = None) -> str:
    """A field as its form labels it, with the name `--field` takes: '指標の実績 S1 (indicators.S1)',
    '予算額（千円） (details.budget)' for a field the strategy asks (its words come with the refusal)."""
    if labels and name in labels:
        return _say("field_named", label=labels[name](_state.language), name=name)
    head, _, item = name.partition(".")
    spec = _state.spec
    triggers = (*spec.triggers, *spec.openings) if spec is not None else ()
    label = next((f.label(_state.language) for t in triggers for f in t.fields if f.name == head), None)
    if label is None:
        return name
    label += f" {item.removesuffix('.reason')}" if item else ""
    return _say("field_named", label=label, name=name)


def _code(pdca: Pdca) -> str:
    """The strategy a command acts on: --strategy, else the only one. With several and none
    named, say which there are (exit 2)."""
    if _state.strategy is None and len(pdca.tenants.codes) > 1:
        err.print(_say("several_strategies", codes=", ".join(pdca.tenants.codes)))
        raise typer.Exit(2)
    return pdca.strategy_code


def _tenant(pdca: Pdca, conn: Any) -> Tenant:
    return pdca.tenants.by_code(conn, _code(pdca))


def _workflow(pdca: Pdca, name: str) -> Entry:
    """A workflow by its name; an unknown name is refused with the names there are."""
    entry = pdca.registry.get(name)
    if entry is None:
        names = ", ".join(e.name for e in pdca.registry)
        raise NotFound(Said(f"there is no workflow {name!r} (there are: {names})", "cli.no_workflow",
                            name=name, names=names))
    _state.spec = entry.spec
    return entry


def _entry(pdca: Pdca, workflow: str | None) -> Entry:
    return _workflow(pdca, workflow) if workflow else pdca.registry.primary


def _actor(conn: Any, email: str) -> Actor:
    """The person acting; one the config does not know is refused in words."""
    try:
        return service.actor_for(conn, email)
    except NotFound as exc:
        raise NotFound(Said(exc.message, "cli.not_a_person", email=email)) from None


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


# -- commands ------------------------------------------------------------------------------


@cli.command()
def init(
    sample: Annotated[bool, typer.Option(
        "--sample", help="also build the sample city: its actions, with their history replayed up to today")] = False,
    as_of: Annotated[datetime | None, typer.Option(
        "--as-of", formats=["%Y-%m-%d"], help="with --sample: the day the sample's history leads up to")] = None,
) -> None:
    """Create or upgrade the schema and load [strategy], [[people]], [secretariat],
    [councils.internal], [councils.promotion] and [advisors] from the config. Safe to run
    again: nothing a step or an admin changed is undone."""
    with _pdca(create=True) as pdca:
        if pdca.schema_state() == "unknown":  # a newer pdca migrated it: never downgrade, never guess
            err.print(_styled((_say("schema_unknown"), "bold red")))
            raise typer.Exit(1)
        pdca.migrate()
        strategy = pdca.sync()
        out.print(_say("initialized", people=len(pdca.settings.people), codes=", ".join(pdca.tenants.codes)))
        for kind, who, what, _ in pdca.last_sync.kept if pdca.last_sync else []:
            out.print(_say(f"kept_{kind}", who=who, field=say(f"sync_field.{what}", _state.language)))
        if not sample:
            return
        _build_sample(pdca, strategy, as_of.date() if as_of else pdca.calendar.today(utc_now()))


def _build_sample(pdca: Pdca, strategy: int, as_of: date) -> None:
    from app.sample_city import build_sample

    with Progress(console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(_say("sample_progress"), total=None)
        report = build_sample(
            pdca, strategy=strategy, as_of=as_of,
            total=lambda days: bar.update(task, total=days),
            progress=lambda day: bar.update(task, advance=1, description=day.isoformat()))
    _print_imported(report.imported, "sample_imported", pdca.calendar.zone)
    if report.replay is None:
        out.print(_say("sample_exists"))
        return
    totals = report.replay.totals()
    out.print(_say("sample_replayed", start=report.start, end=report.end, steps=sum(totals.transitions.values()),
                   sent=report.sent, dir=pdca.settings.mail.dir))
    with db.reading(pdca.engine) as conn:
        rows = service.listing(conn, pdca.registry.primary, tenant=strategy)
    spec = pdca.registry.primary.spec
    waiting: Counter[tuple[int, str]] = Counter((r["fy"], r["state"]) for r in rows if not spec.state(r["state"]).final)
    said = [_say("sample_waiting", fy=fy_label(fy), state=_name("state", state), count=n)
            for (fy, state), n in sorted(waiting.items())]
    out.print(_say("sample_now", waiting=_join(said) or _say("all_closed")))
    out.print(_say("sample_next"))


def _print_imported(result: Imported, key: str = "imported", zone: Any = None) -> None:
    total = result.created + result.updated + result.unchanged
    out.print(_say(key, total=total, created=result.created, updated=result.updated, unchanged=result.unchanged,
                   indicators=result.indicators))
    for kept in result.kept:
        out.print(_kept(kept, zone))


def _kept(kept: Kept, zone: Any) -> str:
    """A field the import left alone: in English as scripts read it (`kept: CODE FIELD
    (why)`), else as the import page says it (who changed it, when, by which step)."""
    if _english():
        return str(kept)
    return kept_words(kept, _state.language, names={}, zone=zone or UTC,
                      step_name=lambda step: _name("trigger", step))


@cli.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV (UTF-8 or Shift_JIS) or XLSX")],
    open_fy: Annotated[int | None, typer.Option("--open-fy", help="also open the cycles of this fiscal year")] = None,
) -> None:
    """Import actions and indicators: all rows or none."""
    with _pdca() as pdca:
        now = utc_now()
        try:
            with db.writing(pdca.engine) as conn:
                tenant = _tenant(pdca, conn)
                result = import_actions(conn, strategy=tenant.id, path=file, now=now, zone=tenant.calendar.zone)
                opened = 0
                if open_fy is not None:
                    opened = open_year(conn, pdca.registry, tenant, fy=open_fy, now=now, codes=result.codes)
        except ImportRefused as exc:
            err.print(_styled((_say("nothing_imported", count=len(exc.problems), file=file), "bold red")))
            for problem in exc.problems:
                err.print(f"  {_said(problem)}")
            raise typer.Exit(1) from None
        _print_imported(result, zone=tenant.calendar.zone)
        if open_fy is not None:
            out.print(_say("opened", count=opened, fy=fy_label(open_fy)))


WORKFLOW_HELP = "the workflow (default: the yearly action cycle); `pdca workflows` lists them"


@cli.command()
def actions(
    fy: Annotated[int | None, typer.Option("--fy", help="fiscal year, e.g. 2026")] = None,
    state: Annotated[str | None, typer.Option("--state", help="a state, or a phase: plan, do, check, act")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="a JSON list for scripts")] = False,
    workflow: Annotated[str | None, typer.Option("--workflow", help=WORKFLOW_HELP)] = None,
) -> None:
    """List the cycles: which action, which year, where it stands, who owns it (or the
    instances of another workflow)."""
    with _pdca() as pdca, db.reading(pdca.engine) as conn:
        entry = _entry(pdca, workflow)
        rows = service.listing(conn, entry, tenant=_tenant(pdca, conn).id, fy=fy, state=state)
    if as_json:
        _print_json(rows)
        return
    table = Table(*(_say(f"col_{c}") for c in ("code", "fy", "state", "owner", "title")))
    for r in rows:
        title = (r.get("title_en") if _english() else None) or r.get("title_ja") or r["title"]
        table.add_row(r["key"], r.get("fy_label") or "", _name("state", r["state"]), r.get("owner") or "", title)
    out.print(table)
    if entry is pdca.registry.primary:
        out.print(_say("count_cycles", count=len(rows)))
    else:
        out.print(_say("count_of", label=entry.spec.label(_state.language) or entry.name, count=len(rows)))


@cli.command()
def workflows() -> None:
    """The workflows this deployment runs: their states, who acts in them, what they open."""
    with _pdca() as pdca:
        for entry in pdca.registry:
            spec = entry.spec
            _state.spec = spec
            parent = pdca.registry.get(entry.parent)
            about = _say("workflow_about", parent=parent.spec.label(_state.language)) if parent else ""
            out.print(_styled((_say("workflow", name=spec.name, about=about, ja=spec.label.ja, en=spec.label.en),
                               "bold")))
            for state in spec.states:
                roles = [_name("role", r) for r in spec.waits_on(state.name)]
                waits = _say("waits_on", roles=_join(roles)) if roles else ""
                out.print(_say("workflow_state", name=state.name, ja=state.label.ja, en=state.label.en, waits=waits))


def _instance_id(pdca: Pdca, conn: Any, entry: Entry, key: str, fy: int | None) -> int:
    """The instance by its key (and year); one that is not there is refused in words."""
    found = _located(pdca, conn, entry, key, fy, whole=False)
    return found if isinstance(found, int) else found.id


def _located(pdca: Pdca, conn: Any, entry: Entry, key: str, fy: int | None, *, whole: bool = True) -> Any:
    """`whole`: the instance itself where its store reads it in one query (for `fire_in`)."""
    try:
        if whole:
            return entry.locate(conn, tenant=_tenant(pdca, conn).id, key=key, fy=fy)
        return entry.store.find(conn, tenant=_tenant(pdca, conn).id, key=key, fy=fy)
    except NotFound as exc:
        if fy is None:
            raise NotFound(Said(exc.message, "cli.not_found", what=key)) from None
        raise NotFound(Said(exc.message, "cli.not_found_in", what=key, fy=fy_label(fy))) from None


@cli.command()
def show(
    code: Annotated[str, typer.Argument(help="action code, e.g. 2-1-3 (another workflow: its instance's key)")],
    fy: Annotated[int | None, typer.Option("--fy", help="fiscal year (default: the latest)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    workflow: Annotated[str | None, typer.Option("--workflow", help=WORKFLOW_HELP)] = None,
    as_: Annotated[str | None, typer.Option(
        "--as", help="also say what this person may do next, or why not (JSON: may)")] = None,
) -> None:
    """One cycle (or instance): its state, record, history, and what can happen next and by whom."""
    with _pdca() as pdca, db.reading(pdca.engine) as conn:
        entry = _entry(pdca, workflow)
        tenant = _tenant(pdca, conn)
        actor = _actor(conn, as_) if as_ else None
        story = service.story(conn, entry, _instance_id(pdca, conn, entry, code, fy),
                              today=tenant.calendar.today(utc_now()), actor=actor)
    if as_json:
        _print_json(story)
        return
    _print_story(story, entry, tenant.calendar.zone)


def _print_story(s: dict[str, Any], entry: Entry, zone: Any) -> None:
    _print_heading(s, entry)
    _print_deadline(s)
    _print_record(s)
    _print_indicators(s)
    for p in s.get("proposals", []):
        out.print(_say("proposal", seq=p["seq"], text=p["text"]))
    _print_history(s, zone)
    _print_next(s)


def _print_heading(s: dict[str, Any], entry: Entry) -> None:
    """Which instance, whose, where it stands."""
    if s.get("title_ja"):
        title = (s.get("title_en") if _english() else None) or s["title_ja"]
        out.print(_styled((f"{s['code']} {title}", "bold")))
    else:
        out.print(_styled((f"{entry.spec.label(_state.language) or s['workflow']} {s['label']}", "bold")))
    if s.get("owners") is not None:
        out.print(_say("owner_line", fy=s["fy_label"], owner=s["owner"], owners=", ".join(s["owners"])))
    out.print(_styled((_say("state_line", label=_name("state", s["state"]), state=s["state"],
                            version=s["version"]), "bold")))


def _print_deadline(s: dict[str, Any]) -> None:
    if s["deadline"]:
        d = s["deadline"]
        left = d["days_left"]
        when = _say("days_left", days=left) if left >= 0 else _say("days_late", days=-left)
        out.print(_say("due", date=d["date"], milestone=_milestone(d["name"]), when=when))
    status = s.get("action_status", "active")
    if status != "active":
        out.print(_say(f"action_{status}") if has(f"cli.action_{status}") else _say("action_ended"))


def _print_record(s: dict[str, Any]) -> None:
    """What was written down, each field as the page labels it; a choice in words."""
    if "record_rows" in s:  # the workflow says its record in words itself
        lang = "en" if _english() else "ja"
        rows = Table(_say("col_record"), _say("col_value"), show_header=False)
        for r in s["record_rows"]:
            rows.add_row(r["label"][lang], r["value"][lang])
        out.print(rows)
        return
    record = {k: v for k, v in s["record"].items() if v not in (None, "", 0)}
    if not record:
        return
    table = Table(_say("col_record"), _say("col_value"), show_header=False)
    for key, value in record.items():
        if key == "report_details":  # the strategy's own fields of the report, each in its words
            lang = "en" if _english() else "ja"
            for d in value:
                if d[f"text_{lang}"]:
                    table.add_row(d[f"label_{lang}"], d[f"text_{lang}"])
            continue
        label = say(f"page.f_{key}", _state.language) if has(f"page.f_{key}") else key
        shown = say(f"page.v_{value}", _state.language) if isinstance(value, str) and has(f"page.v_{value}") \
            else str(value)
        table.add_row(label, shown)
    out.print(table)


def _print_indicators(s: dict[str, Any]) -> None:
    if not s.get("indicators"):
        return
    table = Table(*(_say(f"col_{c}") for c in ("indicator", "unit", "direction", "baseline", "target", "this_year")))
    for i in s["indicators"]:
        now = (i["reason"] and _say("no_value", reason=i["reason"])) or (
            "" if i["value"] is None else f"{i['value']:g}")
        name = (i.get("name_en") if _english() else None) or i["name_ja"]
        direction = f"page.direction_{i['direction']}"
        table.add_row(f"{i['code']} {name}", i["unit"],
                      say(direction, _state.language) if has(direction) else i["direction"],
                      _pair(i["baseline"]), _pair(i["target"]), now)
    out.print(table)


def _print_history(s: dict[str, Any], zone: Any) -> None:
    out.print(_say("history"), style="bold")
    for h in s["history"]:
        who = _who(h["actor"])
        if h["on_behalf"]:
            who = _say("on_behalf", who=who, whom=_who(h["on_behalf"]))
        moved = f"{_name('state', h['from']) if h['from'] else '·'} → {_name('state', h['to'])}"
        comment = _say("comment", text=h["comment"]) if h["comment"] else ""
        at = datetime.fromisoformat(h["at"]).astimezone(zone).strftime("%Y-%m-%d %H:%M")
        out.print(_say("history_line", at=at, step=_name("trigger", h["trigger"]), trigger=h["trigger"],
                       moved=moved, who=who, comment=comment))


def _print_next(s: dict[str, Any]) -> None:
    """What can happen next and by whom, with the names `pdca fire` and `--field` take."""
    if not s["allowed"]:
        out.print(_say("final"))
    for a in s["allowed"]:
        by = _join([_who(b) for b in a["by"]]) or say("refused.nobody", _state.language)
        out.print(_styled((_say("next", step=_name("trigger", a["trigger"]), trigger=a["trigger"],
                                to=_name("state", a["to"]), by=by), "bold")))
        for line in filter(None, (_field_line(f) for f in a["fields"])):
            out.print(line)
        may = s.get("may", {}).get(a["trigger"])
        if may is not None:
            out.print(_say("may_fire") if may["fire"] else _say("may_draft") if may["draft"] else
                      _say("not_you", why=_said(may["why_not"])))


def _field_line(f: dict[str, Any]) -> str:
    """One field a step takes: its words, and what to type (`NAME=VALUE`) for each choice."""
    if f["type"] == "fieldset":  # the strategy's own fields of the report, one line each
        return "\n".join(_field_line(sub) for sub in f.get("fields", []))
    label = f["label"].get(_state.language) or f["name"]
    optional = "" if f["required"] else _say("optional")
    if "items" in f:
        names = ", ".join(f"{f['name']}.{item}" for item in f["items"])
        return _say("field", label=label, name=names, optional=optional)
    if "choices" not in f:
        return _say("field", label=label, name=f["name"], optional=optional)
    words = f.get("choice_labels") or {}
    if not words:
        return _say("field", label=label, name=f"{f['name']}={'|'.join(f['choices'])}", optional=optional)
    choices = [_say("choice", label=words.get(c, {}).get(_state.language) or c, name=f["name"], value=c)
               for c in f["choices"]]
    return _say("field_choices", label=label, optional=optional, choices=_join(choices))


def _pair(pair: list[Any]) -> str:
    value, year = pair
    return "" if value is None else f"{value:g}" + (f" ({year})" if year else "")


def _parse_fields(items: list[str]) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(_say("name_value", item=repr(item)), param_hint="--field")
        name = name.strip()
        if name in raw:
            previous = raw[name]
            raw[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            raw[name] = value
    return raw


COMMENT_HELP = "the comment (required to return, revise or discontinue)"
FIELD_HELP = "NAME=VALUE, repeatable; indicators.CODE=12.5 or indicators.CODE.reason=TEXT"
VERSION_HELP = "refuse if the cycle changed since this version"


@cli.command()
def fire(
    code: Annotated[str, typer.Argument(help="action code, e.g. 2-1-3 (another workflow: its instance's key)")],
    trigger: Annotated[str, typer.Argument(help="the step to take, as `pdca show CODE` lists them")],
    as_: Annotated[str, typer.Option("--as", help="email of the person acting")],
    fy: Annotated[int | None, typer.Option("--fy", help="fiscal year of the cycle (default: its latest)")] = None,
    comment: Annotated[str | None, typer.Option("--comment", help=COMMENT_HELP)] = None,
    field: Annotated[list[str] | None, typer.Option("--field", help=FIELD_HELP)] = None,
    expect_version: Annotated[int | None, typer.Option("--expect-version", help=VERSION_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print what happened as JSON")] = False,
    workflow: Annotated[str | None, typer.Option("--workflow", help=WORKFLOW_HELP)] = None,
) -> None:
    """Fire a trigger on a cycle (or an instance of another workflow) as a person. Exit 1
    with the reason when refused."""
    raw = _parse_fields(field or [])
    if comment is not None:
        raw["comment"] = comment
    with _pdca() as pdca:
        now = utc_now()
        entry = _entry(pdca, workflow)
        with db.writing(pdca.engine) as conn:
            target = _located(pdca, conn, entry, code, fy)
            actor = _actor(conn, as_)
            events = entry.workflow.fire_in(
                conn, target, trigger, actor, raw, now=now, expected_version=expect_version
            )
            instance_id = target if isinstance(target, int) else target.id
            label = entry.store.address(entry.store.load(conn, instance_id))["label"]  # type: ignore[arg-type]
    if as_json:
        _print_json([e.__dict__ for e in events])
        return
    for e in events:
        by = _who(e.actor)
        if e.on_behalf:
            by = _say("fired_for", who=by, whom=_who(e.on_behalf))
        out.print(_say("fired", label=label, step=_name("trigger", e.trigger), by=by,
                       source=_name("state", e.from_state), to=_name("state", e.to_state), to_code=e.to_state,
                       version=e.version))


@cli.command("open")
def open_(
    workflow: Annotated[str, typer.Argument(help="the workflow to open an instance of (see `pdca workflows`)")],
    trigger: Annotated[str, typer.Argument(help="its opening trigger, e.g. ask")],
    as_: Annotated[str, typer.Option("--as", help="email of the person acting")],
    about: Annotated[str | None, typer.Option(
        "--about", help="the instance it is about (its parent workflow's key, e.g. an action code)")] = None,
    fy: Annotated[int | None, typer.Option("--fy", help="with --about: the fiscal year of that cycle")] = None,
    comment: Annotated[str | None, typer.Option("--comment", help="a remark kept in the audit row")] = None,
    field: Annotated[list[str] | None, typer.Option("--field", help=FIELD_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print what happened as JSON")] = False,
) -> None:
    """Bring an instance of a workflow into being (e.g. ask an advisor's opinion about a
    cycle). Exit 1 with the reason when refused."""
    raw = _parse_fields(field or [])
    if comment is not None:
        raw["comment"] = comment
    with _pdca() as pdca:
        entry = _workflow(pdca, workflow)
        with db.writing(pdca.engine) as conn:
            parent = None
            if entry.parent:
                mother = pdca.registry[entry.parent]
                if about is None:
                    raise typer.BadParameter(_say(
                        "needs_about", workflow=entry.spec.label(_state.language) or entry.name,
                        parent=mother.spec.label(_state.language) or entry.parent), param_hint="--about")
                parent = mother.store.load(conn, _instance_id(pdca, conn, mother, about, fy))
            else:
                _tenant(pdca, conn)
            fired = entry.workflow.open(conn, trigger, _actor(conn, as_), raw, now=utc_now(),
                                        parent=parent, tenant=_tenant(pdca, conn).id)
    if as_json:
        _print_json(fired.__dict__)
        return
    out.print(_say("opened_instance", workflow=entry.spec.label(_state.language) or entry.name, id=fired.instance_id,
                   step=_name("trigger", fired.trigger), by=_who(fired.actor), to=_name("state", fired.to_state),
                   to_code=fired.to_state, version=fired.version))


def _not_admin(email: str, tenant: str | None = None) -> WrongRole:
    where = f" of {tenant}" if tenant else ""
    return WrongRole(Said(f"{email} is not an admin{where}", "refused.not_admin"), roles=("admin",), holders=())


@cli.command()
def absent(
    email: Annotated[str, typer.Argument(help="the person who is away")],
    as_: Annotated[str, typer.Option("--as", help="email of the admin recording it")],
    back: Annotated[bool, typer.Option("--back", help="mark the person back instead")] = False,
) -> None:
    """Mark a chair of [councils.internal] or [councils.promotion] absent so the vice chair
    may act (or back again)."""
    with _pdca() as pdca, db.writing(pdca.engine) as conn:
        admin = _actor(conn, as_)
        if not bodies.administers_any(conn, person_id=admin.person_id or 0):
            raise _not_admin(as_)
        _actor(conn, email)
        service.set_absent(conn, email=email, absent=not back, now=utc_now(), by=admin)
    out.print(_say("marked_back" if back else "marked_absent", email=email))


@cli.command()
def owners(
    code: Annotated[str, typer.Argument(help="action code, e.g. 2-1-3")],
    emails: Annotated[list[str], typer.Argument(help="the new owners' emails (people in [[people]])")],
    as_: Annotated[str, typer.Option("--as", help="email of the admin making the change")],
) -> None:
    """Hand an action to other owners (staff move each April). Audited; a later import of
    the actions file keeps this choice."""
    with _pdca() as pdca, db.writing(pdca.engine) as conn:
        admin = _actor(conn, as_)
        tenant = _tenant(pdca, conn)
        if not service.may_administer(conn, tenant=tenant.id, person_id=admin.person_id or 0):
            raise _not_admin(as_, tenant.code)
        before, after, cancelled = service.reassign(conn, pdca.registry, tenant=tenant.id, code=code, emails=emails,
                                                    by=admin.email, now=utc_now())
    if before == after:
        out.print(_say("owners_unchanged", code=code, after=", ".join(after)))
        return
    out.print(_say("owners_changed", code=code, before=", ".join(before) or _say("owners_none"),
                   after=", ".join(after)))
    if cancelled:
        out.print(_say("owners_cancelled", count=cancelled))


def _at(at: str | None, pdca: Pdca) -> datetime:
    if at is None:
        return utc_now()
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        raise typer.BadParameter(_say("not_iso", value=repr(at)), param_hint="--at") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=pdca.calendar.zone)


def _stored_calendar(pdca: Pdca, code: str) -> Calendar:
    """The calendar as stored in the database (admins change it on the web); the
    configuration's before `pdca init` made the database."""
    try:
        with db.reading(pdca.engine) as conn:
            return pdca.tenants.by_code(conn, code).calendar
    except (MissingDatabase, NotFound, SQLAlchemyError):
        return pdca.tenants.calendar_of(code)


@cli.command()
def calendar(
    fy: Annotated[int | None, typer.Option("--fy", help="the fiscal year checked (default: the current one)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    ics: Annotated[bool, typer.Option("--ics", help="write an iCalendar file to standard output")] = False,
    person: Annotated[str | None, typer.Option("--person", help="with --ics: only what concerns this person")] = None,
) -> None:
    """The resolved dates of one fiscal year's [calendar], and what happens on each."""
    with _pdca() as pdca:
        code = _code(pdca)
        cal = _stored_calendar(pdca, code)
        year = fy if fy is not None else cal.fiscal_year(utc_now())
        milestones = cal.year(year)
        language = "ja"
        if person is not None:
            with db.reading(pdca.engine) as conn:
                roles = concerned_roles(conn, strategy=pdca.tenants.by_code(conn, code).id, email=person)
                language = service.actor_language(conn, person)
            milestones = [m for m in milestones if roles.intersection(m.kind.concerns)]
        if ics:
            name = next(s.name_ja for s, _ in pdca.settings.all_strategies() if s.code == code)
            title = f"{name} {fy_label(year)}"
            sys.stdout.buffer.write(milestones_ics(
                milestones, strategy=code, title=title, language=language, stamp=utc_now()))
            return
    rows = [
        {"name": m.name, "fy": m.fy, "date": m.day.isoformat(), "rule_date": m.when.rule.isoformat(),
         "shifted": m.when.moved, "reasons": list(m.when.reasons), "override": m.override,
         "what_ja": m.what("ja"), "what_en": m.what("en"), "concerns": list(m.kind.concerns)}
        for m in milestones
    ]
    if as_json:
        _print_json(rows)
        return
    table = Table(_say("col_date"), _say("col_milestone"), _say("col_what"),
                  title=_say("calendar_title", fy=fy_label(year)))
    for r in rows:
        when = r["date"]
        if r["shifted"]:
            reasons = "; ".join(reason_words(reason, _state.language) for reason in r["reasons"])
            when += "\n" + _say("moved_from", rule=r["rule_date"], reasons=reasons)
        when += "\n" + _say("override") if r["override"] else ""
        table.add_row(when, _milestone(r["name"]), r["what_en"] if _english() else r["what_ja"])
    out.print(table)


@cli.command()
def tick(
    at: Annotated[str | None, typer.Option("--at", help="ISO date-time to tick at (default: now)")] = None,
) -> None:
    """Run the clock once: do whatever each strategy's [calendar] says is due by then
    (idempotent); with --strategy, for that strategy only."""
    with _pdca() as pdca:
        now = _at(at, pdca)
        with db.writing(pdca.engine) as conn:
            only = pdca.tenants.by_code(conn, _state.strategy).id if _state.strategy else None
            report = run_tick(conn, pdca.registry, pdca.tenants, now=now, strategy=only)
        moved = _counts(report.transitions, lambda trigger: _step_of(pdca, trigger))
        queued = _counts(report.messages, lambda kind: _kind_of(pdca, kind))
    out.print(_say("ticked", at=now.isoformat(), moved=moved, queued=queued))


@cli.command()
def simulate(
    from_: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="first day, YYYY-MM-DD")],
    to: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="last day, YYYY-MM-DD")],
    actors: Annotated[str, typer.Option("--actors", help="auto: simulated owners and chairs act; none")] = "none",
    db_path: Annotated[Path | None, typer.Option("--db", help="simulate on a copy of the SQLite database here")] = None,
    send: Annotated[bool, typer.Option("--send", help="also deliver the outbox each evening, through [mail]")] = False,
) -> None:
    """Replay every day in between through the same tick, then show what happened by month."""
    if actors not in ("auto", "none"):
        raise typer.BadParameter(_say("use_auto_or_none"), param_hint="--actors")
    if to < from_:
        raise typer.BadParameter(_say("to_before_from"), param_hint="--to")
    with _pdca() as pdca:
        if db_path is not None:
            pdca = copy_to(pdca, db_path)
        total = (to - from_).days + 1
        with Progress(console=err, transient=True, disable=not err.is_terminal) as bar:
            task = bar.add_task(_say("simulating"), total=total)
            deliver = mail_delivery(pdca) if send else None
            replay = run_simulation(pdca, from_.date(), to.date(), actors=actors == "auto", deliver=deliver,
                                    progress=lambda day: bar.update(task, advance=1, description=day.isoformat()))
        _print_replay(pdca, replay)
        if db_path is not None:
            pdca.close()
            out.print(_say("simulated_on", db=db_path))


def _print_replay(pdca: Pdca, replay: Replay) -> None:
    """What happened each month of a simulation: the steps and the messages, in words."""
    table = Table(_say("col_month"), _say("col_transitions"), _say("col_queued"), title=_say("replay_title"))
    for name, month in sorted(replay.months.items()):
        table.add_row(name, _counts(month.transitions, lambda trigger: _step_of(pdca, trigger)),
                      _counts(month.messages, lambda kind: _kind_of(pdca, kind)))
    total = replay.totals()
    table.add_row(_say("total"), str(sum(total.transitions.values())), str(sum(total.messages.values())))
    out.print(table)
    if total.sent:
        out.print(_say("delivered", count=total.sent))
    if total.refused:
        out.print(_say("replay_refused", count=total.refused))


@cli.command()
def scheduler(
    standby_seconds: Annotated[float, typer.Option("--standby-seconds", help="how often a standby tries the lock")
                               ] = 2.0,
) -> None:
    """Run the scheduler: the daily tick at [calendar] tick_hour, a catch-up tick at start,
    and the outbox drain every minute. On PostgreSQL several nodes may run it: one holds
    the lock and schedules, the others stand by and take over within seconds."""
    import logging

    from apscheduler.schedulers.background import BackgroundScheduler

    from app import scheduler as scheduling

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with _pdca() as pdca:
        config = str(_state.config) if _state.config else None
        leader = scheduling.Leader(
            pdca.engine, lambda: scheduling.configure(BackgroundScheduler(), pdca.settings, config=config),
            standby=standby_seconds, told=lambda event: _tell_leadership(pdca, event, standby_seconds))
        try:
            leader.run()
        except KeyboardInterrupt:
            leader.stop()


def _tell_leadership(pdca: Pdca, event: str, standby_seconds: float) -> None:
    """What this node's part in the scheduler became, in words (on stderr, as a log is)."""
    if event == "leading":
        err.print(_say("scheduling", hour=pdca.settings.calendar.tick_hour, zone=pdca.settings.calendar.timezone))
    elif event == "standing_by":
        err.print(_say("standing_by", seconds=f"{standby_seconds:g}"))
    elif event == "lost":
        err.print(_say("scheduler_lost"))


review_cli = typer.Typer(
    help="The strategy's own process: its mid-term and final reviews, an extension of its period, the next "
         "strategy drafted and adopted (`pdca review show` says what comes next and by whom).",
    rich_markup_mode=None)
cli.add_typer(review_cli, name="review")


def _review_workflow(pdca: Pdca) -> str:
    """The registered workflow whose instances are the strategies themselves."""
    found = [e.name for e in pdca.registry if e.options.get("strategy_level")]
    if not found:
        raise NotFound(Said("no workflow of the strategy itself is registered", "cli.no_review_workflow"))
    return found[0]


@review_cli.command("show")
def review_show(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_: Annotated[str | None, typer.Option(
        "--as", help="also say what this person may do next, or why not (JSON: may)")] = None,
) -> None:
    """The strategy's process (`--strategy` chooses which): its state, period, record,
    history, and the steps that can come next."""
    with _pdca() as pdca:
        workflow, code = _review_workflow(pdca), pdca.strategy_code
    show(code=code, fy=None, as_json=as_json, workflow=workflow, as_=as_)


@review_cli.command("step")
def review_step(
    trigger: Annotated[str, typer.Argument(help="the step to take, as `pdca review show` lists them")],
    as_: Annotated[str, typer.Option("--as", help="email of the person acting")],
    comment: Annotated[str | None, typer.Option("--comment", help=COMMENT_HELP)] = None,
    field: Annotated[list[str] | None, typer.Option("--field", help=FIELD_HELP)] = None,
    expect_version: Annotated[int | None, typer.Option("--expect-version", help=VERSION_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print what happened as JSON")] = False,
) -> None:
    """Take a step of the strategy's process as a person, as `pdca review show` lists them,
    with its fields (`--field name=value`). Exit 1 with the reason when refused."""
    with _pdca() as pdca:
        workflow, code = _review_workflow(pdca), pdca.strategy_code
    fire(code=code, trigger=trigger, as_=as_, fy=None, comment=comment, field=field, expect_version=expect_version,
         as_json=as_json, workflow=workflow)


@review_cli.command("package")
def review_package(
    as_json: Annotated[bool, typer.Option("--json", help="print the package as published (JSON)")] = False,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="also write its Japanese page as a PDF here")] = None,
) -> None:
    """The final review's package as published (its latest version): its figures, and with
    --pdf a PDF the secretariat can file."""
    with _pdca() as pdca, db.reading(pdca.engine) as conn:
        store = pdca.registry[_review_workflow(pdca)].store
        tenant = _tenant(pdca, conn)
        package = store.published_review(conn, tenant.id)  # type: ignore[attr-defined]
        if package is None:
            raise NotFound(Said("the final review is not published yet", "cli.review_not_published"))
    if pdf is not None:
        from publishing.review import write_pdf

        write_pdf(package, pdf)
    if as_json:
        _print_json(package)
        return
    out.print(_say("review_package", version=package["version"], period=package["period_label"],
                   actions=len(package["actions"]), hash=package["content_hash"][:16]))
    for verdict, count in sorted(package["counts"]["by_verdict"].items()):
        out.print(f"  {say(f'review.verdict.{verdict}', _state.language)}: {count}")
    if pdf is not None:
        out.print(_say("pdf", path=pdf))


hub_cli = typer.Typer(
    help="The information hub: observations brought in from files, and what the public may download.",
    rich_markup_mode=None)
cli.add_typer(hub_cli, name="hub")


@hub_cli.command("import")
def hub_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=(
        "a Darwin Core Archive (.zip), an iNaturalist export, an いきものログ export or a CSV of Darwin Core terms"))],
    as_: Annotated[str, typer.Option("--as", help="email of the person importing (a partner, a curator or an admin)")],
    as_json: Annotated[bool, typer.Option("--json", help="print what was imported as JSON")] = False,
) -> None:
    """Import observations for curation: each row is sent as a partner sends one on the web
    and waits for a curator; nothing is published by importing. All rows or none; a row
    imported before is left as it is. Exit 1 naming every problem by its row."""
    from workflows.hub.importing import HubImportRefused, import_observations

    with _pdca() as pdca:
        entry = _workflow(pdca, "hub_item")
        now = utc_now()
        try:
            with db.writing(pdca.engine) as conn:
                tenant = _tenant(pdca, conn)
                done = import_observations(conn, entry.workflow, tenant=tenant.id, actor=_actor(conn, as_),
                                           filename=file.name, data=file.read_bytes(), now=now,
                                           today=tenant.calendar.today(now))
        except HubImportRefused as refused:
            err.print(_styled((_said(refused), "bold red")))
            for problem in refused.problems:
                err.print(f"  {_said(problem)}")
            raise typer.Exit(1) from None
    if as_json:
        _print_json({"source": done.source, "sent": done.sent, "already": done.already})
        return
    out.print(say("hub.imported", _state.language, count=len(done.sent), source=done.source))
    if done.already:
        out.print(say("hub.already", _state.language, count=len(done.already)))


outbox_cli = typer.Typer(help="The outbox: messages queued, sent, retrying or dead.", invoke_without_command=True,
                         rich_markup_mode=None)
cli.add_typer(outbox_cli, name="outbox")


@outbox_cli.callback()
def outbox(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="queued, sending, sent, dead or folded")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List the newest messages (200 at most)."""
    if ctx.invoked_subcommand is not None:
        return
    with _pdca() as pdca, db.reading(pdca.engine) as conn:
        rows = list_messages(conn, status=status)
    if as_json:
        _print_json(rows)
        return
    table = Table(*(_say(f"col_{c}") for c in ("id", "kind", "to", "status", "tries", "due", "when", "error")))
    for r in rows:
        when = r["sent_at"] or r["next_attempt_at"] or ""
        state = f"status.{r['status']}"
        table.add_row(str(r["id"]), _kind_of(pdca, r["kind"]), r["recipient"],
                      say(state, _state.language) if has(state) else r["status"], str(r["attempts"]), str(r["due"]),
                      str(when)[:16], cancelled_words(r["last_error"], _state.language) or "")
    out.print(table)


@outbox_cli.command("send")
def outbox_send(
    at: Annotated[str | None, typer.Option("--at", help="ISO date-time (default: now)")] = None,
) -> None:
    """Deliver everything due now through [mail] (what the scheduler does every minute)."""
    with _pdca() as pdca:
        report = mail_delivery(pdca).drain(_at(at, pdca))
    out.print(_say("drained", sent=report.sent, retrying=report.retrying, dead=report.dead, folded=report.folded))
    for error in report.errors:
        err.print(f"  {error}")


@outbox_cli.command("retry")
def outbox_retry(
    ids: Annotated[list[int] | None, typer.Argument(help="ids of dead messages")] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="every dead message")] = False,
) -> None:
    """Queue dead messages again."""
    if not ids and not all_dead:
        raise typer.BadParameter(_say("ids_or_all_dead"))
    with _pdca() as pdca, db.writing(pdca.engine) as conn:
        count = retry(conn, ids=ids or (), all_dead=all_dead)
    out.print(_say("requeued", count=count))
    if count == 0:
        raise typer.Exit(1)


token_cli = typer.Typer(help="Personal API tokens for scripts.", rich_markup_mode=None)
cli.add_typer(token_cli, name="token")


@token_cli.command("create")
def token_create(
    email: Annotated[str, typer.Argument(help="whose token; it acts with their roles")],
    name: Annotated[str, typer.Option("--name", help="what the token is for")] = "script",
) -> None:
    """Create an API token and print it once; only its digest is kept."""
    from app.web.auth import create_api_token

    with _pdca() as pdca, db.writing(pdca.engine) as conn:
        secret = create_api_token(conn, email=email, name=name, now=utc_now())
    if secret is None:
        err.print(_say("not_a_person", email=email))
        raise typer.Exit(1)
    sys.stdout.write(secret + "\n")


@token_cli.command("list")
def token_list(
    email: Annotated[str | None, typer.Argument(help="only this person's tokens")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON: id, email, name, created_at, last_used_at, "
                                                          "revoked_at")] = False,
) -> None:
    """List API tokens (never their secrets): whose, what for, when created, last used, revoked."""
    from app.web.auth import list_tokens

    with _pdca() as pdca, db.reading(pdca.engine) as conn:
        rows = list_tokens(conn, email=email)
    if as_json:
        _print_json(rows)
        return
    table = Table(*(_say(f"col_{c}") for c in ("id", "whose", "token_name", "created", "last_used", "revoked")))
    for r in rows:
        table.add_row(str(r["id"]), r["email"], r["name"], (r["created_at"] or "")[:16],
                      (r["last_used_at"] or "")[:16], (r["revoked_at"] or "")[:16])
    out.print(table)


@token_cli.command("revoke")
def token_revoke(ids: Annotated[list[int], typer.Argument(help="the tokens' ids (`pdca token list`)")]) -> None:
    """End tokens at once: a script using one is refused (401) from its next request."""
    from app.web.auth import revoke_token

    with _pdca() as pdca, db.writing(pdca.engine) as conn:
        now = utc_now()
        ended = [i for i in ids if revoke_token(conn, i, now=now)]
    out.print(_say("tokens_revoked", count=len(ended)))
    missing = sorted(set(ids) - set(ended))
    if missing:
        err.print(_say("tokens_not_revoked", ids=", ".join(map(str, missing))))
        raise typer.Exit(1)


@cli.command("sign-out")
def sign_out(email: Annotated[str, typer.Argument(help="whose sessions to end")]) -> None:
    """Sign a person out everywhere: every open web session of theirs and every unused
    sign-in link ends now (their API tokens stay: `pdca token revoke`)."""
    from app.web.auth import end_sessions_of

    with _pdca() as pdca, db.writing(pdca.engine) as conn:
        _actor(conn, email)  # a person pdca knows, else refused in words
        ended = end_sessions_of(conn, email=email, now=utc_now())
    out.print(_say("signed_out", email=email, count=ended))


@cli.command()
def password(email: Annotated[str, typer.Argument(help="an admin's email")]) -> None:
    """Set an admin's password for the web sign-in (argon2; others sign in by emailed link)."""
    from app.web.auth import set_password

    secret = typer.prompt(_say("password_prompt"), hide_input=True, confirmation_prompt=True)
    if len(secret) < 12:
        err.print(_say("password_short"))
        raise typer.Exit(1)
    with _pdca() as pdca, db.writing(pdca.engine) as conn:
        done = set_password(conn, email=email, password=secret, now=utc_now())
    if not done:
        err.print(_say("not_an_admin", email=email))
        raise typer.Exit(1)
    out.print(_say("password_set", email=email))


def _listen(host: str, port: int) -> socket.socket:
    """Take the port before anything is printed, so a busy port is one clear line."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        err.print(_say("cannot_resolve", host=repr(host), why=exc.strerror))
        raise typer.Exit(1) from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        reasons = {errno.EADDRINUSE: "port_in_use", errno.EACCES: "port_denied",
                   errno.EADDRNOTAVAIL: "not_this_machine"}
        err.print(_say(reasons.get(exc.errno or 0, "cannot_listen"), host=host, port=port, why=exc.strerror))
        raise typer.Exit(1) from None
    return sock


SCHEMA_PROBLEMS = {"missing": "schema_missing", "behind": "schema_behind", "unknown": "schema_unknown"}
"""What `Pdca.schema_state()` says, as the key of the sentence that asks for `pdca init`."""


def _links_warning(base_url: str, host: str, port: int) -> str | None:
    """Mail links go to `[mail] base_url`; say so when this server listens elsewhere."""
    parsed = urlsplit(base_url)
    try:
        linked = parsed.port or (443 if parsed.scheme == "https" else 80)
    except ValueError:
        return None
    if linked == port:
        return None
    return _say("links_elsewhere", base_url=base_url, address=web_address(host, port))


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option("--host", help="default: [web] host")] = None,
    port: Annotated[int | None, typer.Option("--port", help="default: [web] port")] = None,
    with_scheduler: Annotated[bool, typer.Option("--scheduler/--no-scheduler", help="run the clock too")] = True,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64,
                                         help="web worker processes sharing the port (default 1)")] = 1,
) -> None:
    """Run the web app (and, by default, the scheduler) in one process, on [web] host and
    port. The database and the port are checked first; then it prints the address and a
    one-time sign-in link. Links in mail point to [mail] base_url, else to this address."""
    import uvicorn
    from apscheduler.schedulers.background import BackgroundScheduler

    from app import scheduler as scheduling
    from app.web.main import create_app

    with _pdca() as pdca:
        settings = pdca.settings
        bind_host, bind_port = host or settings.web.host, port or settings.web.port
        problem = SCHEMA_PROBLEMS.get(pdca.schema_state())
        if problem:
            err.print(_say(problem))
            raise typer.Exit(1)
        sock = _listen(bind_host, bind_port)
        if settings.mail.base_url is None:  # links follow wherever this server listens
            settings = settings.model_copy(update={"web": settings.web.model_copy(
                update={"host": bind_host, "port": bind_port})})
            pdca.settings = settings
        elif (warning := _links_warning(settings.mail.base_url, bind_host, bind_port)) is not None:
            err.print(warning)
        address = web_address(bind_host, bind_port)
        leader = None
        if with_scheduler:  # for as long as the server runs, in a thread of its own
            config = str(_state.config) if _state.config else None
            leader = scheduling.Leader(
                pdca.engine, lambda: scheduling.configure(BackgroundScheduler(), settings, config=config,
                                                          base_url=settings.links_base),
                told=lambda event: _tell_leadership(pdca, event, scheduling.STANDBY_SECONDS))
            threading.Thread(target=leader.run, name="pdca-scheduler-leader", daemon=True).start()
        mail = _say("mail_in", backend=settings.mail.backend, dir=settings.mail.dir) \
            if settings.mail.backend == "file" else settings.mail.backend
        out.print(_say("serving", address=address, mail=mail))
        admins = sorted(settings.admins())
        if admins:
            from app.web.auth import create_link

            with db.writing(pdca.engine) as conn:
                created = create_link(conn, email=admins[0], next_url="/", now=utc_now(),
                                      minutes=settings.web.sign_in_minutes)
            if created is not None:
                out.print(_say("sign_in_link", email=admins[0], minutes=settings.web.sign_in_minutes,
                               url=f"{address}/sign-in/{created[0]}"))
        try:
            if workers == 1:
                uvicorn.Server(uvicorn.Config(create_app(pdca), log_level="warning")).run(sockets=[sock])
            else:
                _serve_workers(pdca, sock, workers)
        finally:
            sock.close()
            if leader is not None:
                leader.stop()


def _serve_workers(pdca: Pdca, sock: socket.socket, workers: int) -> None:
    """uvicorn's supervisor with `workers` processes on the one socket; each builds the app
    from the settings resolved here (`app.web.workers`), the scheduler staying in this one."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from app.web.workers import SETTINGS_ENV, STRATEGY_ENV

    os.environ[SETTINGS_ENV] = pdca.settings.model_dump_json()
    os.environ[STRATEGY_ENV] = _state.strategy or ""
    config = uvicorn.Config("app.web.workers:create", factory=True, workers=workers, log_level="warning")
    Multiprocess(config, sockets=[sock]).run()


@cli.command()
def publish(
    fy: Annotated[int, typer.Option("--fy", help="the fiscal year whose results to publish")],
    out: Annotated[Path | None, typer.Option(
        "--out", help="write the site here (default: [web] public_dir/FY/vN)")] = None,
    note: Annotated[str | None, typer.Option("--note", help="what a correction changes (from version 2 on)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the publication's version and hash as JSON")] = False,
    pdf: Annotated[bool, typer.Option("--pdf", help="also write the Japanese report as one PDF (results.pdf)")] = False,
) -> None:
    """Freeze a year's results (公表) and write the public site in Japanese and English,
    with CSV and XLSX (and with --pdf the report as one PDF). Publishing unchanged results
    again changes nothing."""
    from app.public import site_dir
    from publishing.site import write_site

    with _pdca() as pdca, db.writing(pdca.engine) as conn:
        results = pdca.registry.primary.options["results"]
        tenant = _tenant(pdca, conn)
        hub = pdca.registry.primary.options.get("hub_items")
        meetings = pdca.registry.primary.options.get("meetings")
        publication, created = results.publish(conn, strategy_code=tenant.code, fy=fy,
                                               now=utc_now().astimezone(tenant.calendar.zone),
                                               note=note, on_track_ratio=tenant.rules.on_track_ratio,
                                               hub=hub(conn, tenant, fy) if hub else {},
                                               meetings=meetings(conn, tenant, fy) if meetings else ())
        target = out or site_dir(pdca, fy, publication["version"], code=tenant.code)
        files = write_site(publication, target)
    pdf_path = None
    if pdf:
        from publishing.pdf import PDF_NAME, write_pdf

        pdf_path = write_pdf(publication, Path(target) / PDF_NAME)
        files.append(pdf_path)
    if as_json:
        _print_json({"fy": fy, "version": publication["version"], "content_hash": publication["content_hash"],
                     "created": created, "out": str(target), "files": len(files),
                     **({"pdf": str(pdf_path)} if pdf_path else {})})
        return
    sys.stdout.write(_say("published" if created else "unchanged_since", fy=fy_label(fy),
                          version=publication["version"], hash=publication["content_hash"][:16], files=len(files),
                          target=target) + "\n")
    if pdf_path:
        sys.stdout.write(_say("pdf", path=pdf_path) + "\n")


@cli.command("compare")
def compare(
    fy: Annotated[int, typer.Option("--fy", help="the later fiscal year")],
    with_fy: Annotated[int | None, typer.Option("--with", help="the earlier one (default: the year before)")] = None,
) -> None:
    """What changed between two published years, action by action (grades, decisions,
    indicator statuses), as JSON."""
    earlier = with_fy if with_fy is not None else fy - 1
    with _pdca() as pdca, db.reading(pdca.engine) as conn:
        results = pdca.registry.primary.options["results"]
        code = _code(pdca)
        after = results.latest(conn, strategy_code=code, fy=fy)
        before = results.latest(conn, strategy_code=code, fy=earlier)
    missing = [fy_label(y) for y, p in ((earlier, before), (fy, after)) if p is None]
    if missing:
        err.print(_say("not_published", years=_join(missing)))
        raise typer.Exit(1)
    _print_json({"from": earlier, "to": fy, "changes": results.diff(before, after)})  # type: ignore[arg-type]


@cli.command()
def diagram(
    workflow: Annotated[str | None, typer.Option("--workflow", help=WORKFLOW_HELP)] = None,
) -> None:
    """The action cycle (or another workflow) as a Mermaid state diagram (paste into any
    Mermaid viewer)."""
    with _pdca() as pdca:
        sys.stdout.write(mermaid(_entry(pdca, workflow).spec))


from app import cli_records as _records  # noqa: E402,F401  (audit verify, backup, restore)


def main() -> None:
    cli()


if __name__ == "__main__":  # python -m app.cli: the commands as registered on app.cli, not on a copy
    from app.cli import main as _registered_main

    _registered_main()
