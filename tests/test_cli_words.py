"""The CLI speaks from the catalogue: with `--lang ja` its main commands print Japanese, and
no name meant for programs (a state such as `plan.review`, a milestone such as
`report_due`, a choice such as `partly_implemented`) outside the brackets that tell a
script or a person what to type next; `PDCA_LANG` and the locale choose the language; an
unknown language is a config error."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import choose_language, cli
from tests.conftest import ADMIN, CHAIR, CONFIG, OWNER, ROOT, SAMPLE
from words.catalogue import has
from words.cli import CLI_WORDS
from workflows.action_cycle.mail import KINDS
from workflows.action_cycle.spec import ACTION_CYCLE, REPORT_STATUSES
from workflows.calendar import MILESTONES
from workflows.opinion.spec import OPINION

Run = Callable[..., str]

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
FOR_SCRIPTS = re.compile(r"\([\x20-\x27\x2a-\x7e]*\)")
"""What a command takes, in ASCII brackets after its words: `計画を提出 (submit_plan)`."""


def program_names() -> set[str]:
    names = {s.name for spec in (ACTION_CYCLE, OPINION) for s in spec.states if "." in s.name or "_" in s.name}
    names |= {t.name for spec in (ACTION_CYCLE, OPINION) for t in (*spec.triggers, *spec.openings) if "_" in t.name}
    names |= {s for s in REPORT_STATUSES if "_" in s} | {m.name for m in MILESTONES} | {k.name for k in KINDS}
    return {n for n in names if "_" in n or "." in n}


CODE = re.compile(r"(?<![\w./-])(" + "|".join(sorted(map(re.escape, program_names()), key=len, reverse=True))
                  + r")(?![\w-])")


def codes_outside_brackets(text: str) -> list[str]:
    return CODE.findall(FOR_SCRIPTS.sub(" ", text))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    return {"PDCA_CONFIG": str(CONFIG), "PDCA_DATABASE_URL": f"sqlite:///{tmp_path}/pdca.sqlite3"}


@pytest.fixture
def pdca(env: dict[str, str | None]) -> Run:
    """`pdca --lang ja ...` on a SQLite file, its output (stdout and stderr) checked: Japanese,
    and no program name a person is not meant to type."""

    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(cli, ["--lang", "ja", *args], env=env)
        assert result.exit_code == code, result.output
        assert "Traceback" not in result.output
        assert JAPANESE.search(result.output), result.output
        assert codes_outside_brackets(result.output) == [], result.output
        return result.output

    return run


def test_the_main_commands_speak_japanese(pdca: Run) -> None:
    assert "15人" in pdca("init")
    imported = pdca("import", str(SAMPLE), "--open-fy", "2026")
    assert "取組12件（新規12件" in imported and "FY2026 (令和8年度)の年度サイクルを12件開始しました" in imported
    listed = pdca("actions", "--fy", "2026")
    assert "計画作成中" in listed and "12件" in listed and "cycle" not in listed

    shown = pdca("show", "1-1-2", "--fy", "2026", "--as", CHAIR)
    assert "経緯" in shown and "年度サイクルを開始" in shown and "担当課 農政課" in shown
    assert "次にできること: 計画を提出 (submit_plan) → 計画審査中" in shown
    assert "あなたは実行できません: 「計画を提出」は担当課が行います" in shown
    for english in ("history", "next:", "owner", "due ", "not you"):
        assert english not in shown

    refused = pdca("fire", "1-1-2", "approve_plan", "--fy", "2026", "--as", CHAIR, code=1)
    assert "「計画を承認」は、いま（計画作成中）はできません。いまできること: 計画を提出" in refused
    assert "担当課が行います" in pdca("fire", "1-1-2", "submit_plan", "--fy", "2026", "--as", CHAIR, code=1)
    assert "登録されていない人です" in pdca("fire", "1-1-2", "submit_plan", "--fy", "2026", "--as", "who@x.jp",
                                         code=1)
    assert "9-9-9は見つかりません" in pdca("fire", "9-9-9", "submit_plan", "--as", OWNER, code=1)
    fields = pdca("fire", "1-1-2", "submit_plan", "--fy", "2026", "--as", OWNER, "--field", "colour=red", code=1)
    assert "入力に1件の問題があります" in fields and "この操作にはない項目です" in fields

    fired = pdca("fire", "1-1-2", "submit_plan", "--fy", "2026", "--as", OWNER)
    assert "「計画を提出」を行いました: 計画作成中 → 計画審査中（第2版）" in fired
    pdca("fire", "1-1-2", "approve_plan", "--fy", "2026", "--as", CHAIR)
    pdca("fire", "1-1-2", "open_check", "--fy", "2026", "--as", ADMIN)
    report = pdca("show", "1-1-2", "--fy", "2026", "--as", OWNER)
    assert "一部実施 (status=partly_implemented)" in report and "あなたが実行できます" in report
    pdca("fire", "1-1-2", "submit_report", "--fy", "2026", "--as", OWNER, "--field", "status=partly_implemented",
         "--field", "content=間伐 4ha", "--field", "indicators.S1=41", "--field", "indicators.S2=500",
         "--field", "self_grade=B")
    assert "一部実施" in pdca("show", "1-1-2", "--fy", "2026")

    ticked = pdca("tick", "--at", "2027-05-01T09:00")
    assert "日次処理" in ticked and "年度サイクルを開始" in ticked and "transitions" not in ticked
    outbox = pdca("outbox")
    assert "送信待ち" in outbox and "queued" not in outbox
    calendar = pdca("calendar", "--fy", "2026")
    assert "実施状況報告の提出期限" in calendar and "FY2026 (令和8年度)の年間予定" in calendar
    assert "土曜日" in calendar and "Saturday" not in calendar


def test_a_simulated_year_is_told_in_words_even_what_the_calendar_does_itself(pdca: Run) -> None:
    """The replay's table names every step, the clock's own (publishing the year's results)
    as well as the workflows' triggers."""
    pdca("init")
    pdca("import", str(SAMPLE), "--open-fy", "2026")
    replay = pdca("simulate", "--from", "2027-04-01", "--to", "2027-09-30", "--actors", "none")
    assert "年度の結果を公表 1件" in replay, replay
    assert re.search(r"\b(publish|flag) \d", replay) is None


def test_json_is_the_same_in_either_language(pdca: Run, env: dict[str, str | None]) -> None:
    pdca("init")
    pdca("import", str(SAMPLE), "--open-fy", "2026")
    for args in (("actions", "--json"), ("show", "1-1-2", "--json"), ("calendar", "--fy", "2026", "--json")):
        said = [CliRunner().invoke(cli, ["--lang", lang, *args], env=env).stdout for lang in ("ja", "en")]
        assert json.loads(said[0]) == json.loads(said[1]), args


def test_an_unknown_language_is_a_config_error(env: dict[str, str | None], tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--lang", "fr", "init"], env=env)
    assert result.exit_code == 2
    assert "--lang fr" in result.output and "ja" in result.output and "en" in result.output
    result = runner.invoke(cli, ["init"], env={**env, "PDCA_LANG": "klingon"})
    assert result.exit_code == 2 and "PDCA_LANG klingon" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "pdca.sqlite3").exists()  # nothing was opened


def test_pdca_lang_and_the_locale_choose_japanese(env: dict[str, str | None]) -> None:
    def said(**more: str | None) -> str:
        result = CliRunner().invoke(cli, ["actions"], env={**env, **more})
        assert result.exit_code == 1  # no database yet: a sentence in the chosen language
        return result.output

    no_locale = {"PDCA_LANG": None, "LC_ALL": None, "LC_MESSAGES": None}
    assert "データベースがありません" in said(PDCA_LANG="ja")
    assert "データベースがありません" in said(**no_locale, LANG="ja_JP.UTF-8")
    assert "no database" in said(**no_locale, LANG="C.UTF-8")
    assert "no database" in said(PDCA_LANG=None, LC_ALL="C.UTF-8", LANG="ja_JP.UTF-8")  # LC_ALL decides first
    result = CliRunner().invoke(cli, ["--lang", "en", "actions"], env={**env, "PDCA_LANG": "ja"})
    assert "no database" in result.output  # --lang before PDCA_LANG


def test_the_choice_of_language() -> None:
    assert choose_language(None, {}) == "en"
    assert choose_language(None, {"LANG": "ja_JP.UTF-8"}) == "ja"
    assert choose_language(None, {"LC_ALL": "", "LC_MESSAGES": "ja_JP.UTF-8", "LANG": "C.UTF-8"}) == "ja"
    assert choose_language(None, {"LC_ALL": "C.UTF-8", "LANG": "ja_JP.UTF-8"}) == "en"
    assert choose_language(None, {"PDCA_LANG": "EN", "LANG": "ja_JP.UTF-8"}) == "en"
    assert choose_language("ja", {"PDCA_LANG": "en"}) == "ja"


def test_every_sentence_the_cli_says_is_in_the_catalogue() -> None:
    source = (ROOT / "app" / "cli.py").read_text(encoding="utf-8")
    keys = set(re.findall(r'_say\(\s*"(\w+)"', source))
    assert keys and sorted(k for k in keys if k not in CLI_WORDS) == []
    assert all(has(f"cli.{k}") for k in CLI_WORDS)
    for key, (ja, en) in CLI_WORDS.items():
        assert ja and en, key
