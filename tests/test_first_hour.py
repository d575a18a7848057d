"""Where a newcomer trips: help and messages that keep their brackets, database errors in
words, nothing created before `pdca init`, and `pdca serve` checking before it promises."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import typer
from typer.testing import CliRunner

from app import config as config_module
from app.cli import cli
from app.config import ConfigError, load_settings
from tests.conftest import CONFIG, PG_ENV, ROOT

SECTION = re.compile(r"\[\[?[a-z_]+(?:\.[a-z_]+)*\]\]?")


def commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every command and subcommand of the CLI, with the words that invoke it."""
    found = [(path, group)]
    if hasattr(group, "commands"):  # a group (typer's own click, or click's)
        for name, command in group.commands.items():
            found += commands(command, (*path, name))
    return found


def setup(tmp_path: Path, text: str | None = None) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(text or CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    return config


def pdca(config: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, ["--config", str(config), *args], env={"PDCA_DATABASE_URL": "", **(env or {})})


def test_every_help_shows_the_config_sections_it_names() -> None:
    named = 0
    for path, command in commands(typer.main.get_command(cli)):
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        sections = {m for text in texts for m in SECTION.findall(text)}
        rendered = CliRunner().invoke(cli, [*path, "--help"]).output
        for section in sections:
            assert section in rendered, f"pdca {' '.join(path)} --help lost {section}"
        named += len(sections)
    assert named >= 5  # [web], [calendar], [mail], [[people]] ... are named somewhere


def test_messages_keep_their_brackets_and_never_show_markup(tmp_path: Path) -> None:
    config = setup(tmp_path)
    assert pdca(config, "init").exit_code == 0
    result = pdca(config, "absent", "nobody@example.jp", "--as", "kankyo.admin@city.example.jp")
    assert result.exit_code == 1
    assert "is not a person in the config ([[people]])" in result.output
    assert "[bold" not in result.output and "[/]" not in result.output


def test_a_command_before_init_creates_nothing_and_says_what_to_do(tmp_path: Path) -> None:
    config = setup(tmp_path)
    for args in (("actions",), ("tick",), ("serve",), ("outbox",)):
        result = pdca(config, *args)
        assert result.exit_code == 1, args
        assert "does not exist yet; run `pdca init` first" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_a_database_without_the_schema_asks_for_init(tmp_path: Path) -> None:
    config = setup(tmp_path)
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "pdca.sqlite3").touch()
    result = pdca(config, "actions")
    assert result.exit_code == 1
    assert "no pdca tables yet" in result.output and "pdca init" in result.output
    result = pdca(config, "serve")
    assert result.exit_code == 1 and "run `pdca init` first" in result.output
    assert "pdca at" not in result.output and "sign in" not in result.output


def test_a_server_that_refuses_the_connection_is_named_not_init(tmp_path: Path) -> None:
    config = setup(tmp_path)
    result = pdca(config, "actions", env={"PDCA_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/x"})
    assert result.exit_code == 1
    assert "cannot reach the database server at 127.0.0.1:1" in result.output
    assert "pdca init" not in result.output


def test_a_database_that_does_not_exist_is_named(tmp_path: Path) -> None:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests skipped: set {PG_ENV}")
    from sqlalchemy.engine import make_url

    url = make_url(base).set(database="pdca_no_such_database").render_as_string(hide_password=False)
    result = pdca(setup(tmp_path), "actions", env={"PDCA_DATABASE_URL": url})
    assert result.exit_code == 1
    assert "the database 'pdca_no_such_database' does not exist" in result.output
    assert "pdca init" not in result.output


def test_postgresql_without_its_driver_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = config_module.importlib.util.find_spec
    monkeypatch.setattr(config_module.importlib.util, "find_spec",
                        lambda name, *a: None if name == "psycopg" else real(name, *a))
    url = "postgresql://postgres@127.0.0.1/x"
    with pytest.raises(ConfigError, match=re.escape("pip install -e '.[postgres]'")):
        load_settings(CONFIG, env={"PDCA_DATABASE_URL": url})
    result = pdca(setup(tmp_path), "actions", env={"PDCA_DATABASE_URL": url})
    assert result.exit_code == 2
    assert "pip install -e '.[postgres]'" in result.output and "Traceback" not in result.output


def test_a_bare_postgresql_url_uses_the_driver_we_ship() -> None:
    settings = load_settings(CONFIG, env={"PDCA_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test"})
    assert settings.database.url == "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def test_mail_links_default_to_where_the_web_listens(tmp_path: Path) -> None:
    assert load_settings(CONFIG, env={}).links_base == "http://127.0.0.1:8000"
    text = CONFIG.read_text(encoding="utf-8") + '\n[web]\nhost = "0.0.0.0"\nport = 9000\n'
    assert load_settings(setup(tmp_path, text), env={}).links_base == "http://127.0.0.1:9000"
    text = CONFIG.read_text(encoding="utf-8").replace(
        'from_address = "biodiversity@city.example.jp"',
        'from_address = "biodiversity@city.example.jp"\nbase_url = "https://pdca.city.example.jp/"')
    assert load_settings(setup(tmp_path, text), env={}).links_base == "https://pdca.city.example.jp"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_on_a_busy_port_is_one_line_and_no_link(tmp_path: Path) -> None:
    config = setup(tmp_path)
    assert pdca(config, "init").exit_code == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = pdca(config, "serve", "--port", str(port), "--no-scheduler")
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is in use" in result.output
    assert "sign in" not in result.output and "Traceback" not in result.output


def serve(config: Path, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    """`pdca serve` in a process of its own, until it has printed its sign-in link."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "--config", str(config), "serve", "--port", str(port), "--no-scheduler"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PDCA_DATABASE_URL": ""})
    lines: list[str] = []
    assert process.stdout is not None
    while not any("sign-in/" in line for line in lines):
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
    return process, lines


def test_serve_prints_a_link_to_my_work_where_it_really_listens(tmp_path: Path) -> None:
    text = CONFIG.read_text(encoding="utf-8").replace(
        'from_address = "biodiversity@city.example.jp"',
        'from_address = "biodiversity@city.example.jp"\nbase_url = "http://127.0.0.1:8111"')
    config = setup(tmp_path, text)
    assert pdca(config, "init").exit_code == 0
    port = free_port()
    process, lines = serve(config, port)
    try:
        assert any("links in mail point to http://127.0.0.1:8111 ([mail] base_url)" in line for line in lines), lines
        link = next(line.split(": ", 1)[1] for line in lines if "sign-in/" in line)
        assert link.startswith(f"http://127.0.0.1:{port}/sign-in/")
        for _ in range(50):  # the socket is bound before the link is printed; the app may still be starting
            try:
                response = httpx.get(link, follow_redirects=False, timeout=5)
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert response.status_code == 303 and response.headers["location"] == "/"
    finally:
        process.terminate()
        process.wait(timeout=10)
    shutil.rmtree(tmp_path / "var", ignore_errors=True)
