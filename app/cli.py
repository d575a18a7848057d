"""`pdca`: the command line of the strategy's progress management.

Exit codes: 0 done; 1 refused or not found (the reason is printed); 2 bad usage or an
invalid config (the key is named, nothing is touched).
"""

from __future__ import annotations

import errno
import json
import socket
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
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
from app.importing import Imported, ImportRefused, import_actions
from app.mail import delivery as mail_delivery
from app.simulate import copy_to, print_replay
from app.simulate import simulate as run_simulation
from engine import db
from engine.clock import utc_now
from engine.db import MissingDatabase
from engine.errors import InvalidFields, NotFound, Refused, WrongRole
from notifications.drain import list_messages, retry
from workflows import bodies, service
from workflows.calendar import Calendar, concerned_roles
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


def _styled(*parts: str | tuple[str, str]) -> Text:
    """A line with some parts emphasised: ("refused", "bold red"), " (stale): ..."."""
    return Text.assemble(*parts)


class _Options:
    """Options given before the command, for the command to use."""

    config: Path | None = None
    strategy: str | None = None


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
) -> None:
    _state.config = config
    _state.strategy = strategy


@contextmanager
def _pdca(*, create: bool = False) -> Iterator[Pdca]:
    """Settings first: an invalid config stops here, before any database is opened. Only
    `create` (pdca init) may make a SQLite file that is not there yet."""
    try:
        settings = load_settings(_state.config)
    except ConfigError as exc:
        err.print(_styled(("invalid config", "bold red"), f" {exc.source}:"))
        for problem in exc.problems:
            err.print(f"  {problem}")
        raise typer.Exit(2) from None
    codes = [code for code, *_ in ((s.code,) for s in settings.tenant_setups())]
    if _state.strategy is not None and _state.strategy not in codes:
        err.print(f"--strategy {_state.strategy}: not a strategy of this config (its strategies: {', '.join(codes)})")
        raise typer.Exit(2)
    pdca = Pdca(settings, create=create, strategy=_state.strategy)
    try:
        yield pdca
    except Refused as exc:
        _refuse(exc)
    except MissingDatabase as exc:
        err.print(_styled(("no database", "bold red"), f": {exc.path} does not exist yet; run `pdca init` first"))
        raise typer.Exit(1) from None
    except DBAPIError as exc:
        err.print(_styled(("database", "bold red"), ": " + explain_database_error(exc, settings.database.url)))
        raise typer.Exit(1) from None
    finally:
        pdca.close()


def _refuse(exc: Refused) -> None:
    if isinstance(exc, InvalidFields):
        err.print(_styled(("refused", "bold red"), f" ({exc.code}): {len(exc.problems)} field problem(s)"))
        for name, why in exc.problems:
            err.print(f"  {name}: {why}")
    else:
        err.print(_styled(("refused", "bold red"), f" ({exc.code}): {exc.message}"))
    raise typer.Exit(1)


def _code(pdca: Pdca) -> str:
    """The strategy a command acts on: --strategy, else the only one. With several and none
    named, say which there are (exit 2)."""
    if _state.strategy is None and len(pdca.tenants.codes) > 1:
        err.print("this config has several strategies (" + ", ".join(pdca.tenants.codes)
                  + "): name one with --strategy CODE")
        raise typer.Exit(2)
    return pdca.strategy_code


def _tenant(pdca: Pdca, conn: Any) -> Tenant:
    return pdca.tenants.by_code(conn, _code(pdca))


def _entry(pdca: Pdca, workflow: str | None) -> Entry:
    return pdca.registry[workflow] if workflow else pdca.registry.primary


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
        pdca.migrate()
        strategy = pdca.sync()
        s = pdca.settings
        codes = ", ".join(pdca.tenants.codes)
        out.print(f"schema up to date; {len(s.people)} people; strategy {codes}, each with its councils, "
                  "secretariat and advisors")
        if not sample:
            return
        _build_sample(pdca, strategy, as_of.date() if as_of else pdca.calendar.today(utc_now()))


def _build_sample(pdca: Pdca, strategy: int, as_of: date) -> None:
    from app.sample_city import build_sample

    with Progress(console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("the sample's history", total=None)
        report = build_sample(
            pdca, strategy=strategy, as_of=as_of,
            total=lambda days: bar.update(task, total=days),
            progress=lambda day: bar.update(task, advance=1, description=day.isoformat()))
    _print_imported(report.imported, "sample")
    if report.replay is None:
        out.print("sample: its history exists already; the clock (pdca serve, pdca tick) carries it on")
        return
    totals = report.replay.totals()
    out.print(f"sample: history from {report.start} to {report.end} replayed: "
              f"{sum(totals.transitions.values())} steps, {report.sent} messages delivered to {pdca.settings.mail.dir}")
    with db.reading(pdca.engine) as conn:
        rows = service.listing(conn, pdca.registry.primary, tenant=strategy)
    spec = pdca.registry.primary.spec
    waiting: Counter[str] = Counter(f"{r['fy_label']} {r['state']}" for r in rows if not spec.state(r["state"]).final)
    out.print("now: " + (", ".join(f"{n} {what}" for what, n in sorted(waiting.items())) or "every cycle closed"))
    out.print("next: pdca serve (the web pages), pdca actions, pdca show CODE --fy YYYY")


def _print_imported(result: Imported, what: str = "imported") -> None:
    total = result.created + result.updated + result.unchanged
    out.print(f"{what}: {total} actions ({result.created} new, {result.updated} updated, "
              f"{result.unchanged} unchanged), {result.indicators} indicators")
    for kept in result.kept:
        out.print(str(kept))


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
            err.print(_styled(("nothing imported", "bold red"), f": {len(exc.problems)} problem(s) in {file}"))
            for problem in exc.problems:
                err.print(f"  {problem}")
            raise typer.Exit(1) from None
        _print_imported(result)
        if open_fy is not None:
            out.print(f"opened {opened} cycles for {fy_label(open_fy)}")


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
    table = Table("code", "FY", "state", "owner", "title")
    for r in rows:
        table.add_row(r["key"], r.get("fy_label") or "", r["state"], r.get("owner") or "",
                      r.get("title_ja") or r["title"])
    out.print(table)
    out.print(f"{len(rows)} {'cycle(s)' if entry is pdca.registry.primary else entry.name}")


@cli.command()
def workflows() -> None:
    """The workflows this deployment runs: their states, who acts in them, what they open."""
    with _pdca() as pdca:
        for entry in pdca.registry:
            spec = entry.spec
            parent = f" (about a {entry.parent})" if entry.parent else ""
            out.print(_styled((spec.name, "bold"), f"{parent}: {spec.label.ja} / {spec.label.en}"))
            for state in spec.states:
                waits = ", ".join(spec.waits_on(state.name))
                waiting = f"  waits on {waits}" if waits else ""
                out.print(f"  {state.name}: {state.label.ja} / {state.label.en}{waiting}")


def _instance_id(pdca: Pdca, conn: Any, entry: Entry, key: str, fy: int | None) -> int:
    return entry.store.find(conn, tenant=_tenant(pdca, conn).id, key=key, fy=fy)


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
        actor = service.actor_for(conn, as_) if as_ else None
        story = service.story(conn, entry, _instance_id(pdca, conn, entry, code, fy),
                              today=tenant.calendar.today(utc_now()), actor=actor)
    if as_json:
        _print_json(story)
        return
    _print_story(story, tenant.calendar.zone)


def _print_story(s: dict[str, Any], zone: Any) -> None:
    if s.get("title_ja"):
        out.print(_styled((f"{s['code']} {s['title_ja']}", "bold"), f" / {s.get('title_en') or ''}"))
    else:
        out.print(_styled((f"{s['workflow']} {s['label']}", "bold")))
    if s.get("owners") is not None:
        out.print(f"{s['fy_label']}  owner {s['owner']} ({', '.join(s['owners'])})")
    label = s["state_label"]
    out.print(_styled("state ", (s["state"], "bold"), f" ({label['ja']} / {label['en']})  version {s['version']}"))
    if s["deadline"]:
        d = s["deadline"]
        left = d["days_left"]
        when = f"{left} days left" if left >= 0 else f"{-left} days late"
        out.print(f"due {d['date']} ({d['name']}, {when})")
    if s.get("action_status", "active") != "active":
        out.print(f"action {s['action_status']}")
    record = {k: v for k, v in s["record"].items() if v not in (None, "", 0)}
    if record:
        table = Table("record", "value", show_header=False)
        for key, value in record.items():
            table.add_row(key, str(value))
        out.print(table)
    if s.get("indicators"):
        table = Table("indicator", "unit", "dir", "baseline", "target", "this year")
        for i in s["indicators"]:
            now = (i["reason"] and f"- ({i['reason']})") or ("" if i["value"] is None else f"{i['value']:g}")
            table.add_row(
                f"{i['code']} {i['name_ja']}", i["unit"], i["direction"],
                _pair(i["baseline"]), _pair(i["target"]), now,
            )
        out.print(table)
    for p in s.get("proposals", []):
        out.print(f"proposal {p['seq']}: {p['text']}")
    out.print("history", style="bold")
    for h in s["history"]:
        who = h["actor"] + (f" (for {h['on_behalf']})" if h["on_behalf"] else "")
        moved = f"{h['from'] or '·'} → {h['to']}"
        comment = f"  「{h['comment']}」" if h["comment"] else ""
        at = datetime.fromisoformat(h["at"]).astimezone(zone).strftime("%Y-%m-%d %H:%M")
        out.print(f"  {at}  {h['trigger']}  {moved}  by {who}{comment}")
    if not s["allowed"]:
        out.print("nothing more can happen: it is in a final state")
    for a in s["allowed"]:
        fields = ", ".join(
            f["name"] + ("" if f["required"] else "?") + (f"={'|'.join(f['choices'])}" if "choices" in f else "")
            + (f"[{','.join(f['items'])}]" if "items" in f else "")
            for f in a["fields"]
        )
        out.print(_styled("next: ", (a["trigger"], "bold"), f" → {a['to']} by {', '.join(a['by']) or 'nobody'}"
                          + (f"  fields: {fields}" if fields else "")))
        may = s.get("may", {}).get(a["trigger"])
        if may is not None:
            out.print("  you may fire it" if may["fire"] else
                      "  you may prepare it as a draft" if may["draft"] else f"  not you: {may['why_not']}")


def _pair(pair: list[Any]) -> str:
    value, year = pair
    return "" if value is None else f"{value:g}" + (f" ({year})" if year else "")


def _parse_fields(items: list[str]) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"{item!r}: write NAME=VALUE", param_hint="--field")
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
            instance_id = _instance_id(pdca, conn, entry, code, fy)
            actor = service.actor_for(conn, as_)
            events = entry.workflow.fire_in(
                conn, instance_id, trigger, actor, raw, now=now, expected_version=expect_version
            )
            label = entry.store.address(entry.store.load(conn, instance_id))["label"]  # type: ignore[arg-type]
    if as_json:
        _print_json([e.__dict__ for e in events])
        return
    for e in events:
        by = e.actor + (f" for {e.on_behalf}" if e.on_behalf else "")
        out.print(_styled(f"{label}: {e.trigger} by {by}: {e.from_state} → ", (e.to_state, "bold"),
                          f" (version {e.version})"))


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
        entry = pdca.registry[workflow]
        with db.writing(pdca.engine) as conn:
            parent = None
            if entry.parent:
                if about is None:
                    raise typer.BadParameter(f"a {entry.name} is about a {entry.parent}: give --about",
                                             param_hint="--about")
                mother = pdca.registry[entry.parent]
                parent = mother.store.load(conn, _instance_id(pdca, conn, mother, about, fy))
            else:
                _tenant(pdca, conn)
            fired = entry.workflow.open(conn, trigger, service.actor_for(conn, as_), raw, now=utc_now(),
                                        parent=parent, tenant=_tenant(pdca, conn).id)
    if as_json:
        _print_json(fired.__dict__)
        return
    out.print(_styled(f"{entry.name} {fired.instance_id}: {fired.trigger} by {fired.actor} → ",
                      (fired.to_state, "bold"), f" (version {fired.version})"))


@cli.command()
def absent(
    email: Annotated[str, typer.Argument(help="the person who is away")],
    as_: Annotated[str, typer.Option("--as", help="email of the admin recording it")],
    back: Annotated[bool, typer.Option("--back", help="mark the person back instead")] = False,
) -> None:
    """Mark a chair of [councils.internal] or [councils.promotion] absent so the vice chair
    may act (or back again)."""
    with _pdca() as pdca, db.writing(pdca.engine) as conn:
        admin = service.actor_for(conn, as_)
        if not bodies.administers_any(conn, person_id=admin.person_id or 0):
            raise WrongRole(f"{as_} is not an admin", roles=("admin",), holders=())
        service.set_absent(conn, email=email, absent=not back, now=utc_now(), by=admin)
    out.print(f"{email} is marked {'back' if back else 'absent'}")


@cli.command()
def owners(
    code: Annotated[str, typer.Argument(help="action code, e.g. 2-1-3")],
    emails: Annotated[list[str], typer.Argument(help="the new owners' emails (people in [[people]])")],
    as_: Annotated[str, typer.Option("--as", help="email of the admin making the change")],
) -> None:
    """Hand an action to other owners (staff move each April). Audited; a later import of
    the actions file keeps this choice."""
    with _pdca() as pdca, db.writing(pdca.engine) as conn:
        admin = service.actor_for(conn, as_)
        tenant = _tenant(pdca, conn)
        if not service.may_administer(conn, tenant=tenant.id, person_id=admin.person_id or 0):
            raise WrongRole(f"{as_} is not an admin of {tenant.code}", roles=("admin",), holders=())
        before, after, cancelled = service.reassign(conn, pdca.registry, tenant=tenant.id, code=code, emails=emails,
                                                    by=admin.email, now=utc_now())
    if before == after:
        out.print(f"{code}: owners unchanged ({', '.join(after)})")
    else:
        out.print(f"{code}: owners {', '.join(before) or '(none)'} → {', '.join(after)}")
        if cancelled:
            out.print(f"{cancelled} queued message(s) to the former owners cancelled; the next tick queues the new "
                      "owners' reminders")


def _at(at: str | None, pdca: Pdca) -> datetime:
    if at is None:
        return utc_now()
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        raise typer.BadParameter(f"{at!r} is not an ISO date or date-time", param_hint="--at") from None
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
    table = Table("date", "milestone", "what happens", title=f"{fy_label(year)} calendar")
    for r in rows:
        when = r["date"] + (f"\n(rule {r['rule_date']}: {'; '.join(r['reasons'])})" if r["shifted"] else "")
        when += "\n(override)" if r["override"] else ""
        table.add_row(when, r["name"], f"{r['what_ja']}\n{r['what_en']}")
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
    moved = ", ".join(f"{k} {v}" for k, v in sorted(report.transitions.items()) if v) or "none"
    queued = ", ".join(f"{k} {v}" for k, v in sorted(report.messages.items()) if v) or "none"
    out.print(f"tick {now.isoformat()}: transitions: {moved}; messages queued: {queued}")


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
        raise typer.BadParameter("use auto or none", param_hint="--actors")
    if to < from_:
        raise typer.BadParameter("--to is before --from", param_hint="--to")
    with _pdca() as pdca:
        if db_path is not None:
            pdca = copy_to(pdca, db_path)
        total = (to - from_).days + 1
        with Progress(console=err, transient=True, disable=not err.is_terminal) as bar:
            task = bar.add_task("simulating", total=total)
            deliver = mail_delivery(pdca) if send else None
            replay = run_simulation(pdca, from_.date(), to.date(), actors=actors == "auto", deliver=deliver,
                                    progress=lambda day: bar.update(task, advance=1, description=day.isoformat()))
        print_replay(out, replay)
        if db_path is not None:
            pdca.close()
            out.print(f"simulated on {db_path}; the configured database is unchanged")


@cli.command()
def scheduler(
    standby_seconds: Annotated[int, typer.Option("--standby-seconds", help="how often a standby retries")] = 30,
) -> None:
    """Run the scheduler: the daily tick at [calendar] tick_hour, plus a catch-up tick now."""
    import logging
    import time as clock

    from app import scheduler as scheduling

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with _pdca() as pdca:
        config = str(_state.config) if _state.config else None
        while True:
            with scheduling.leadership(pdca.engine) as lead:
                if lead:
                    out.print(f"scheduling: daily tick at {pdca.settings.calendar.tick_hour}:00 "
                              f"{pdca.settings.calendar.timezone}; Ctrl-C stops")
                    try:
                        scheduling.build(pdca.settings, config=config).start()
                    except (KeyboardInterrupt, SystemExit):
                        return
                    return
            err.print(f"another node holds the scheduler lock; standing by ({standby_seconds} s)")
            clock.sleep(standby_seconds)


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
    table = Table("id", "kind", "to", "status", "tries", "due", "next try / sent", "error")
    for r in rows:
        when = r["sent_at"] or r["next_attempt_at"] or ""
        table.add_row(str(r["id"]), r["kind"], r["recipient"], r["status"], str(r["attempts"]), str(r["due"]),
                      str(when)[:16], r["last_error"] or "")
    out.print(table)


@outbox_cli.command("send")
def outbox_send(
    at: Annotated[str | None, typer.Option("--at", help="ISO date-time (default: now)")] = None,
) -> None:
    """Deliver everything due now through [mail] (what the scheduler does every minute)."""
    with _pdca() as pdca:
        report = mail_delivery(pdca).drain(_at(at, pdca))
    out.print(f"sent {report.sent}, retrying {report.retrying}, dead {report.dead}, folded into digests "
              f"{report.folded}")
    for error in report.errors:
        err.print(f"  {error}")


@outbox_cli.command("retry")
def outbox_retry(
    ids: Annotated[list[int] | None, typer.Argument(help="ids of dead messages")] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="every dead message")] = False,
) -> None:
    """Queue dead messages again."""
    if not ids and not all_dead:
        raise typer.BadParameter("give message ids or --all-dead")
    with _pdca() as pdca, db.writing(pdca.engine) as conn:
        count = retry(conn, ids=ids or (), all_dead=all_dead)
    out.print(f"{count} message(s) queued again")
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
        err.print(f"{email} is not a person in the config")
        raise typer.Exit(1)
    sys.stdout.write(secret + "\n")


@cli.command()
def password(email: Annotated[str, typer.Argument(help="an admin's email")]) -> None:
    """Set an admin's password for the web sign-in (argon2; others sign in by emailed link)."""
    from app.web.auth import set_password

    secret = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if len(secret) < 12:
        err.print("use at least 12 characters")
        raise typer.Exit(1)
    with _pdca() as pdca, db.writing(pdca.engine) as conn:
        done = set_password(conn, email=email, password=secret, now=utc_now())
    if not done:
        err.print(f"{email} is not an admin in the config")
        raise typer.Exit(1)
    out.print(f"password set for {email}")


def _listen(host: str, port: int) -> socket.socket:
    """Take the port before anything is printed, so a busy port is one clear line."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        err.print(f"cannot listen on {host!r} ({exc.strerror}): check --host or [web] host")
        raise typer.Exit(1) from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        reasons = {
            errno.EADDRINUSE: f"port {port} on {host} is in use (another pdca serve?): stop it, or choose another "
                              "port with --port or [web] port",
            errno.EACCES: f"this user may not listen on port {port}: choose a port above 1023 (--port or [web] port)",
            errno.EADDRNOTAVAIL: f"{host} is not an address of this machine: check --host or [web] host",
        }
        err.print(reasons.get(exc.errno or 0, f"cannot listen on {host}:{port}: {exc.strerror}"))
        raise typer.Exit(1) from None
    return sock


SCHEMA_PROBLEMS = {
    "missing": "the database has no pdca tables yet: run `pdca init` first",
    "behind": "the database was made by an older release: run `pdca init` to upgrade it",
    "unknown": "the database was migrated by a newer release of pdca than this one: upgrade pdca",
}


def _links_warning(base_url: str, host: str, port: int) -> str | None:
    """Mail links go to `[mail] base_url`; say so when this server listens elsewhere."""
    parsed = urlsplit(base_url)
    try:
        linked = parsed.port or (443 if parsed.scheme == "https" else 80)
    except ValueError:
        return None
    if linked == port:
        return None
    return (f"note: links in mail point to {base_url} ([mail] base_url), but this server listens on "
            f"{web_address(host, port)}; that is right only behind a proxy that forwards there")


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option("--host", help="default: [web] host")] = None,
    port: Annotated[int | None, typer.Option("--port", help="default: [web] port")] = None,
    with_scheduler: Annotated[bool, typer.Option("--scheduler/--no-scheduler", help="run the clock too")] = True,
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
            err.print(problem)
            raise typer.Exit(1)
        sock = _listen(bind_host, bind_port)
        if settings.mail.base_url is None:  # links follow wherever this server listens
            settings = settings.model_copy(update={"web": settings.web.model_copy(
                update={"host": bind_host, "port": bind_port})})
            pdca.settings = settings
        elif (warning := _links_warning(settings.mail.base_url, bind_host, bind_port)) is not None:
            err.print(warning)
        address = web_address(bind_host, bind_port)
        background = None
        if with_scheduler:
            with scheduling.leadership(pdca.engine) as lead:
                if lead:
                    background = scheduling.configure(BackgroundScheduler(), settings,
                                                      config=str(_state.config) if _state.config else None,
                                                      base_url=settings.links_base)
                    background.start()
        out.print(f"pdca at {address}/  (mail: {settings.mail.backend}"
                  + (f", in {settings.mail.dir}" if settings.mail.backend == "file" else "") + ")")
        admins = sorted(settings.admins())
        if admins:
            from app.web.auth import create_link

            with db.writing(pdca.engine) as conn:
                created = create_link(conn, email=admins[0], next_url="/", now=utc_now(),
                                      minutes=settings.web.sign_in_minutes)
            if created is not None:
                out.print(f"sign in as {admins[0]} (once, within {settings.web.sign_in_minutes} min): "
                          f"{address}/sign-in/{created[0]}")
        try:
            uvicorn.Server(uvicorn.Config(create_app(pdca), log_level="warning")).run(sockets=[sock])
        finally:
            sock.close()
            if background is not None:
                background.shutdown(wait=False)


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
        publication, created = results.publish(conn, strategy_code=tenant.code, fy=fy,
                                               now=utc_now().astimezone(tenant.calendar.zone),
                                               note=note, on_track_ratio=tenant.rules.on_track_ratio)
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
    what = "published" if created else "unchanged since"
    sys.stdout.write(f"{fy_label(fy)} {what} version {publication['version']} "
                     f"(sha256 {publication['content_hash'][:16]}...); {len(files)} files in {target}\n")
    if pdf_path:
        sys.stdout.write(f"PDF: {pdf_path}\n")


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
    missing = [str(y) for y, p in ((earlier, before), (fy, after)) if p is None]
    if missing:
        err.print(f"not published: FY{', FY'.join(missing)} (pdca publish --fy ...)")
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


def main() -> None:
    cli()


if __name__ == "__main__":
    main()

