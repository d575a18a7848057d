"""Dependencies point one way: app -> workflows -> engine. The engine imports none of the
others, and nothing does work at import time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
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
    code = "import app.cli, app.bootstrap, workflows.service, engine.runtime; print('ok')"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.stdout.strip() == "ok", done.stderr
    assert list(tmp_path.iterdir()) == []


def test_ruff_is_clean() -> None:
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout
