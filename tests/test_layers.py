"""Dependencies point one way: app -> workflows -> engine. The engine imports none of the
others, and nothing does work at import time."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "words": {"engine", "workflows", "app", "notifications", "publishing", "sqlalchemy", "fastapi", "typer"},
    "engine": {"workflows", "app", "notifications", "publishing", "typer", "fastapi", "jpholiday", "apscheduler"},
    "workflows": {"app", "notifications", "typer", "rich"},
    "notifications": {"workflows", "app", "typer", "rich"},
    "publishing": {"workflows", "app", "notifications", "typer", "rich", "fastapi"},
}


def imports(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {(str(path.relative_to(ROOT)), a.name.split(".")[0]) for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((str(path.relative_to(ROOT)), node.module.split(".")[0]))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_dependencies_point_one_way(package: str) -> None:
    wrong = sorted((where, name) for where, name in imports(package) if name in FORBIDDEN[package])
    assert wrong == []


def test_importing_everything_opens_nothing(tmp_path: Path) -> None:
    """Every module of every package imports, and none does work on import (no file, no
    connection)."""
    names = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for package in ("engine", "workflows", "notifications", "publishing", "app", "words")
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )
    code = "import importlib\n" + "".join(f"importlib.import_module({n!r})\n" for n in names) + "print('ok')"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.stdout.strip() == "ok", done.stderr
    assert list(tmp_path.iterdir()) == []


def test_ruff_is_clean() -> None:
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout


def test_no_module_outside_a_workflows_own_files_names_its_spec_rows_states_or_triggers() -> None:
    """A workflow is its own package in workflows/; the engine, the services, the tick, mail,
    the pages, the CLI and the API take it from the registry. Only app/bootstrap.py (which
    registers it) and workflows/models.py (the tables) may name it; so may the workflows that
    hang from the yearly cycle (an opinion is asked about a cycle, a meeting's agenda is cycles)."""
    from workflows.action_cycle import ACTION_CYCLE
    from workflows.opinion import OPINION
    from workflows.strategy_review import STRATEGY_REVIEW

    words = {"ACTION_CYCLE", "OPINION", "STRATEGY_REVIEW", "Cycle", "OpinionRequest", "Measurement", "Proposal",
             "CycleStore", "OpinionStore", "StrategyProcess", "StrategyStore"}
    for spec in (ACTION_CYCLE, OPINION, STRATEGY_REVIEW):
        words |= {s.name for s in spec.states if "." in s.name or "_" in s.name}
        words |= {t.name for t in (*spec.triggers, *spec.openings) if "_" in t.name}
    allowed = {"app/bootstrap.py", "workflows/models.py"}
    found = []
    for package in ("engine", "workflows", "notifications", "publishing", "app"):
        for path in (ROOT / package).rglob("*.py"):
            where = str(path.relative_to(ROOT))
            if where in allowed or "migrations" in path.parts or where.startswith(
                    ("workflows/action_cycle/", "workflows/opinion/", "workflows/strategy_review/",
                     "workflows/meeting/")):
                continue
            text = path.read_text(encoding="utf-8")
            found += [(where, w) for w in sorted(words) if re.search(rf"(?<![\w.]){re.escape(w)}(?![\w])", text)]
    assert found == []
