"""`pdca backup` and `pdca restore`: a copy made mid-year while the database is in use, put
back, whose audit chain verifies and whose tick goes on; copies that are not pdca's are
refused and nothing is touched. On SQLite (the backup API) and PostgreSQL (pg_dump)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli import cli
from engine.clock import utc_now
from tests.conftest import CHAIR, CONFIG, OWNER, SAMPLE
from workflows.calendar import Calendar

FY = Calendar().fiscal_year(utc_now())


@pytest.fixture
def pdca(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    if database_url.startswith("postgresql") and shutil.which("pg_dump") is None:
        pytest.skip("PostgreSQL's pg_dump and pg_restore are not installed (Debian: postgresql-client)")
    runner = CliRunner()
    env = {"PDCA_CONFIG": str(CONFIG), "PDCA_DATABASE_URL": database_url}

    def invoke(*args: str, code: int = 0) -> Any:
        result = runner.invoke(cli, list(args), env=env)
        assert result.exit_code == code, result.output
        assert "Traceback" not in result.output
        return result

    invoke("init")
    invoke("import", str(SAMPLE), "--open-fy", str(FY))
    return invoke


def states(pdca: Any) -> dict[str, tuple[str, int]]:
    return {r["code"]: (r["state"], r["version"]) for r in json.loads(pdca("actions", "--json").stdout)}


def test_a_copy_made_mid_year_is_restored_verifies_and_the_tick_goes_on(pdca: Any, tmp_path: Path) -> None:
    pdca("fire", "1-1-2", "submit_plan", "--as", OWNER)
    copy = tmp_path / "copies" / "mid-year.backup"
    said = pdca("backup", str(copy)).output
    assert copy.is_file() and str(copy) in said and "bytes" in said
    at_backup = states(pdca)
    pdca("fire", "1-1-2", "approve_plan", "--as", CHAIR)  # after the copy: undone by the restore
    pdca("fire", "2-1-1", "submit_plan", "--as", OWNER)
    assert states(pdca) != at_backup

    refused = pdca("restore", str(copy), code=1)
    assert "--yes" in refused.output  # nothing replaced without saying so
    assert states(pdca) != at_backup
    assert "restored the database" in pdca("restore", str(copy), "--yes").output
    assert states(pdca) == at_backup
    assert "the chain is whole" in pdca("audit", "verify").output
    pdca("fire", "1-1-2", "approve_plan", "--as", CHAIR)  # the year goes on from the copy
    pdca("tick", "--at", f"{FY + 1}-01-15T06:00:00+09:00")  # next year's plan window opens
    assert FY + 1 in {r["fy"] for r in json.loads(pdca("actions", "--json").stdout)}
    assert pdca("audit", "verify").exit_code == 0


def test_a_copy_is_never_written_over_unless_asked(pdca: Any, tmp_path: Path) -> None:
    copy = tmp_path / "pdca.backup"
    copy.write_bytes(b"an earlier copy")
    assert "exists already" in pdca("backup", str(copy), code=1).output
    assert copy.read_bytes() == b"an earlier copy"
    pdca("backup", str(copy), "--force")
    assert copy.read_bytes() != b"an earlier copy"


@pytest.mark.parametrize("content", [b"", b"not a database at all", b"SQLite format 3\x00" + b"\x00" * 200,
                                     b"PGDMP" + b"\x01" * 64])
def test_a_file_that_is_no_copy_of_pdca_is_refused_and_nothing_changes(pdca: Any, tmp_path: Path,
                                                                        content: bytes) -> None:
    pdca("fire", "1-1-2", "submit_plan", "--as", OWNER)
    before = states(pdca)
    bad = tmp_path / "bad.backup"
    bad.write_bytes(content)
    said = pdca("restore", str(bad), "--yes", code=1).output
    assert "nothing was changed" in said or "not a copy" in said
    assert states(pdca) == before
    assert "there is no copy" in pdca("restore", str(tmp_path / "missing"), "--yes", code=1).output


def test_a_sqlite_file_of_another_program_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    result = CliRunner().invoke(cli, ["restore", str(other), "--yes"],
                                env={"PDCA_CONFIG": str(CONFIG), "PDCA_DATABASE_URL": sqlite_url})
    assert result.exit_code == 1 and "is not a copy of a pdca database" in result.output


def test_the_sqlite_copy_is_consistent_while_a_write_is_under_way(sqlite_url: str, tmp_path: Path) -> None:
    """Online: a transaction open during the backup is in the copy entirely or not at all."""
    env = {"PDCA_CONFIG": str(CONFIG), "PDCA_DATABASE_URL": sqlite_url}
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    live = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    live.execute("BEGIN IMMEDIATE")
    live.execute("UPDATE strategy SET name_en = 'half-written'")
    copy = tmp_path / "during.backup"
    assert runner.invoke(cli, ["backup", str(copy)], env=env).exit_code == 0
    live.execute("COMMIT")
    live.close()
    with sqlite3.connect(copy) as conn:
        assert "half-written" not in {r[0] for r in conn.execute("SELECT name_en FROM strategy")}
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
