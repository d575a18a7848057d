"""`pdca audit verify`, `pdca backup`, `pdca restore`, `pdca health`: keeping the records
whole and the deployment watched.

Registered on `app.cli`'s command line (imported at its end); the words are the catalogue's
(`words/cli.py`), the work is `workflows.audit_trail`, `app.backup` and `app.health`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from app.backup import BackupRefused, back_up, restore
from app.bootstrap import Pdca
from app.cli import _pdca, _print_json, _say, _state, _step_of, _styled, cli, err, out
from app.config import ConfigError, load_settings
from engine import db
from engine.chain import Problem
from workflows import audit_trail

audit_cli = typer.Typer(help="The audit trail: check that no row was changed after it was written.",
                        rich_markup_mode=None, no_args_is_help=True)
cli.add_typer(audit_cli, name="audit")


def _problem_words(pdca: Pdca, p: Problem) -> str:
    what = _say("audit_row_what", step=_step_of(pdca, p.trigger or ""), workflow=p.workflow or "",
                instance=p.instance_id if p.instance_id is not None else "")
    values: dict[str, Any] = {"row": p.row_id, "seq": p.seq, "what": what, **p.detail}
    if p.kind == "inserted" and p.seq is None:
        return _say("audit_unsealed", **values)
    return _say(f"audit_{p.kind}", **values)


@audit_cli.command("verify")
def audit_verify(
    as_json: Annotated[bool, typer.Option("--json", help="JSON: per chain strategy, rows, head_seq, head_hash, "
                                                          "intact, problems (kind, row, seq, ...)")] = False,
) -> None:
    """Walk every strategy's audit chain (with --strategy, that one's) and name each row
    edited, inserted, deleted or moved after it was written, and each publication whose
    recorded head the log no longer has. Exit 0 when all is whole, 1 when not."""
    with _pdca() as pdca, db.reading(pdca.engine) as conn:
        checked = audit_trail.check(conn, strategy_code=_state.strategy)
        words = {id(p): _problem_words(pdca, p) for c in checked for p in c.verified.problems}
    intact = all(c.verified.intact for c in checked)
    if as_json:
        _print_json([{"strategy": c.strategy, "rows": c.verified.rows, "head_seq": c.verified.head_seq,
                      "head_hash": c.verified.head_hash, "intact": c.verified.intact,
                      "problems": [p.as_json() | {"said": words[id(p)]} for p in c.verified.problems]}
                     for c in checked])
    else:
        for c in checked:
            v = c.verified
            name = c.strategy or _say("audit_no_strategy")
            if v.intact:
                out.print(_say("audit_intact", strategy=name, rows=v.rows, seq=v.head_seq, hash=v.head_hash[:16]))
                continue
            err.print(_styled((_say("audit_broken", strategy=name, rows=v.rows, count=len(v.problems)), "bold red")))
            for p in v.problems:
                err.print("  " + words[id(p)])
    if not intact:
        raise typer.Exit(1)


def _database_url() -> str:
    try:
        return load_settings(_state.config).database.url
    except ConfigError as exc:
        err.print(_styled((_say("invalid_config", source=exc.source), "bold red")))
        for problem in exc.problems:
            err.print(f"  {problem}")
        raise typer.Exit(2) from None


def _refused(exc: BackupRefused) -> None:
    err.print(_styled((_say(exc.key, **exc.values), "bold red")))
    raise typer.Exit(1)


@cli.command()
def backup(
    path: Annotated[Path, typer.Argument(help="where to write the copy (a file; not overwritten unless --force)")],
    force: Annotated[bool, typer.Option("--force", help="replace a copy already at PATH")] = False,
) -> None:
    """Copy the live database to PATH while pdca keeps running: SQLite's online backup
    (a consistent state, checked), or pg_dump's custom format on PostgreSQL."""
    url = _database_url()
    try:
        copy = back_up(url, path, overwrite=force)
    except BackupRefused as exc:
        _refused(exc)
        return
    out.print(_say("backed_up", path=str(copy.path), size=copy.size))


@cli.command("restore")
def restore_(
    path: Annotated[Path, typer.Argument(help="a copy made by `pdca backup`")],
    yes: Annotated[bool, typer.Option("--yes", help="yes, replace everything in the database by the copy")] = False,
) -> None:
    """Replace everything in the database by a copy made by `pdca backup` (stop the
    scheduler and the web first). The copy is checked before anything is touched; an older
    copy is upgraded as `pdca init` would."""
    url = _database_url()
    if not yes:
        err.print(_say("restore_needs_yes", path=str(path)))
        raise typer.Exit(1)
    with _pdca(create=True) as pdca:
        try:
            restore(url, path, known=pdca.known_revisions())
        except BackupRefused as exc:
            _refused(exc)
            return
        pdca.close()
        behind = pdca.schema_state() == "behind"
        if behind:
            pdca.migrate()
    out.print(_say("restored", path=str(path)) + (" " + _say("restored_upgraded") if behind else ""))


@cli.command()
def health(
    as_json: Annotated[bool, typer.Option("--json", help="JSON: dead, stuck, leader (pid, client, since), jobs "
                                                          "(id, next_run_at, late), problems")] = False,
) -> None:
    """What to watch, for a monitor: mail given up (dead) or stuck in the queue, the
    scheduler's leader (PostgreSQL), jobs whose time passed without running. Exit 0 when
    all is well, 1 naming each problem."""
    from app.health import check
    from engine.clock import utc_now

    with _pdca() as pdca, db.reading(pdca.engine) as conn:
        found = check(conn, now=utc_now())
    if as_json:
        _print_json(found.as_json())
    else:
        leader = found.leader
        out.print(_say("health_mail", dead=found.dead, stuck=found.stuck))
        if found.several_nodes:
            out.print(_say("health_leader", **leader) if leader else _say("health_leader_none"))
        for job in found.jobs:
            out.print(_say("health_job_late" if job["late"] else "health_job", id=job["id"], at=job["next_run_at"]))
        for problem in found.problems:
            err.print(_styled((_say(f"health_{problem}"), "bold red")))
    if found.problems:
        raise typer.Exit(1)
