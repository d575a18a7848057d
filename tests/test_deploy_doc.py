"""docs/deploy.md is true: every `pdca` command in its `sh` blocks runs, in order, on a
fresh database (SQLite, and PostgreSQL when it is set), exits 0 and says no traceback; the
long-running ones start and greet; every systemd unit's ExecStart is a command line pdca
takes."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time as clock
from pathlib import Path

import pytest

from tests.conftest import CONFIG, _empty_pg

DOC = Path(__file__).resolve().parent.parent / "docs" / "deploy.md"
PDCA = Path(sys.executable).parent / "pdca"
RUNS_UNTIL_STOPPED = {"serve": "pdca at http://", "scheduler": "scheduling: daily tick"}


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


def commands() -> list[str]:
    lines = [line.split("  #")[0].strip() for block in blocks("sh") for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_the_doc_has_the_commands_an_operator_needs() -> None:
    said = " ".join(commands())
    for needed in ("pdca init", "pdca serve", "--workers", "pdca scheduler", "pdca backup", "pdca restore",
                   "pdca audit verify", "pdca health", "pdca outbox --status dead"):
        assert needed in said


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_every_command_in_docs_deploy_md_runs(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if backend == "postgresql":
        url = request.getfixturevalue("pg_url")
        _empty_pg(url)
    else:
        url = f"sqlite:///{tmp_path / 'pdca.sqlite3'}"
    config = CONFIG.read_text(encoding="utf-8").replace('dir = "var/mail"', f'dir = "{tmp_path / "mail"}"')
    (tmp_path / "config.toml").write_text(config, encoding="utf-8")
    env = {**os.environ, "PDCA_CONFIG": str(tmp_path / "config.toml"), "PDCA_DATABASE_URL": url,
           "PDCA_LANG": "en", "BACKUPS": str(tmp_path / "backups"),
           "PATH": f"{PDCA.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for line in commands():
        words = shlex.split(line)
        if words[0] == "pdca" and words[1] in RUNS_UNTIL_STOPPED:
            port = "--port" in words and words[words.index("--port") + 1]
            if port:  # another free port than the doc's 8000
                from tests.smtp_server import free_port
                line = line.replace(f"--port {port}", f"--port {free_port()}")
            log = tmp_path / f"{words[1]}.log"
            running = subprocess.Popen(["bash", "-c", f"exec {line}"], env=env, cwd=tmp_path,
                                       stdout=log.open("w"), stderr=subprocess.STDOUT)
            try:
                deadline = clock.monotonic() + 60
                while RUNS_UNTIL_STOPPED[words[1]] not in log.read_text():
                    assert running.poll() is None, (line, log.read_text())
                    assert clock.monotonic() < deadline, (line, log.read_text())
                    clock.sleep(0.1)  # waiting for another process to start
            finally:
                running.send_signal(signal.SIGTERM)
                running.wait(20)
            assert "Traceback" not in log.read_text(), log.read_text()
            continue
        done = subprocess.run(["bash", "-c", line], env=env, cwd=tmp_path, capture_output=True, text=True)
        if line.startswith("pdca health") and done.returncode == 1 and backend == "postgresql":
            # True, as the test runs it: the scheduler above was started and stopped again.
            found = subprocess.run([str(PDCA), "health", "--json"], env=env, capture_output=True, text=True)
            assert json.loads(found.stdout)["problems"] == ["no_leader"], (line, done.stdout, done.stderr)
            continue
        assert done.returncode == 0, (line, done.stdout, done.stderr)
        assert "Traceback" not in done.stdout + done.stderr


def test_every_unit_starts_a_command_pdca_takes() -> None:
    starts = [line.removeprefix("ExecStart=") for block in blocks("ini") for line in block.splitlines()
              if line.startswith("ExecStart=")]
    starts += re.findall(r"`ExecStart=([^`]+)`", DOC.read_text(encoding="utf-8"))
    assert len(starts) == 3
    for start in starts:
        words = shlex.split(start)
        assert words[0] == "/opt/pdca/.venv/bin/pdca"
        parsed = subprocess.run([str(PDCA), *words[1:], "--help"], capture_output=True, text=True)
        assert parsed.returncode == 0, (start, parsed.stderr)
