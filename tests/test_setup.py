"""The first hour: the README's two commands, what CI runs, and what the package pins."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def _commands() -> list[str]:
    """The shell lines of the README's 'Two commands' section."""
    section = README.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_the_readme_has_two_commands_each_in_a_virtual_environment_of_the_checkout() -> None:
    main, tests = _commands()
    for command in (main, tests):
        assert command.startswith("python3 -m venv .venv && .venv/bin/pip install -e ")
        # After the venv is made, nothing runs from the machine's interpreter or PATH.
        after = command.split("&&")[1:]
        assert all(part.strip().startswith(".venv/bin/") for part in after), command
    assert "pdca init --sample" in main and main.endswith(".venv/bin/pdca serve")
    assert tests.endswith(".venv/bin/python -m pytest")


def test_ci_runs_the_readme_test_command_verbatim_and_never_the_global_pip() -> None:
    _, tests = _commands()
    lines = [line.strip() for line in CI.splitlines()]
    assert tests in lines
    assert not re.search(r"^\s*python3 -m pip", CI, re.MULTILINE)
    assert ".venv/" in (ROOT / ".gitignore").read_text().splitlines()


def test_every_dependency_has_an_upper_bound() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    specs = list(project["project"]["dependencies"]) + list(project["build-system"]["requires"])
    for extra in project["project"]["optional-dependencies"].values():
        specs += extra
    unbounded = [s for s in specs if "<" not in s]
    assert unbounded == []
