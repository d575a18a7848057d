"""Importing actions: CSV in UTF-8 or Shift_JIS, XLSX; all rows or none, every bad row listed."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.importing import ImportRefused, Kept, import_actions, kept_words
from engine import db
from engine.audit import AuditEvent
from tests.conftest import ADMIN, NOW, SAMPLE, Year
from tests.test_action_cycle import CHECKING, CODE, FIELDS, FY, OWNER, PLANNING, ROUTE, step, walk
from workflows.action_cycle.spec import ACTION_CYCLE
from workflows.actions import set_owners
from workflows.models import Action, ActionOwner, Indicator

HEADER = SAMPLE.read_text(encoding="utf-8").splitlines()[0]  # the documented column order
GOOD = [
    "5-1-1,5 新しい方針,5 New policy,ため池の保全,Conserving ponds,農政課,nourin@city.example.jp,ため池を守る,"
    "T1,保全したため池の数,Ponds conserved,箇所,up,3,2025,10,2030",
    "5-1-1,,,,,,,,T2,外来魚の駆除数,Invasive fish removed,匹,up,100,2025,500,2030",
    "5-1-2,5 新しい方針,5 New policy,水辺の観察会,Waterside walks,博物館,museum@city.example.jp,,,,,,,,,,",
]


def csv_file(tmp_path: Path, rows: list[str], encoding: str = "utf-8") -> Path:
    path = tmp_path / "actions.csv"
    path.write_bytes(("\n".join([HEADER, *rows]) + "\n").encode(encoding))
    return path


def run(year: Year, path: Path):  # type: ignore[no-untyped-def]
    with db.writing(year.engine) as conn:
        return import_actions(conn, strategy=year.strategy, path=path, now=NOW)


def counts(year: Year) -> tuple[int, int]:
    with db.reading(year.engine) as conn:
        return (conn.execute(select(func.count()).select_from(Action)).scalar_one(),
                conn.execute(select(func.count()).select_from(Indicator)).scalar_one())


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "shift_jis"])
def test_csv_in_either_encoding(year: Year, tmp_path: Path, encoding: str) -> None:
    before = counts(year)
    result = run(year, csv_file(tmp_path, GOOD, encoding))
    assert (result.created, result.updated, result.indicators) == (2, 0, 2)
    assert counts(year) == (before[0] + 2, before[1] + 2)
    with db.reading(year.engine) as conn:
        title = conn.execute(select(Action.title_ja).where(Action.code == "5-1-1")).scalar_one()
    assert title == "ため池の保全"


def test_xlsx(year: Year, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    for row in GOOD:
        cells: list[object] = row.split(",")
        sheet.append([float(c) if c.isdigit() else (c or None) for c in cells])  # numbers as numbers
    path = tmp_path / "actions.xlsx"
    book.save(path)
    result = run(year, path)
    assert (result.created, result.indicators) == (2, 2)
    with db.reading(year.engine) as conn:
        target = conn.execute(select(Indicator.target_year).where(Indicator.code == "T1")).scalar_one()
    assert target == 2030


def test_one_bad_row_imports_nothing_and_every_bad_row_is_listed(year: Year, tmp_path: Path) -> None:
    before = counts(year)
    rows = [
        *GOOD,
        "5-x,5,5,名前,Name,課,nourin@city.example.jp,,,,,,,,,,",
        "5-2-1,5,5,名前,Name,課,stranger@example.jp,,I1,指標,,,sideways,abc,1800,,2030",
        "5-1-1,,,違う名前,,,,,T3,指標,,,up,,,5,2030",
        "5-1-2,,,,,,,,W1,指標,,,up,1,2030,5,2025",
        "5-3-1,5,5,名前,Name,課,;,,N1,指標,,,up,1,2025,nan,2030",
    ]
    with pytest.raises(ImportRefused) as refused:
        run(year, csv_file(tmp_path, rows))
    problems = "\n".join(refused.value.problems)
    assert "row 5: code '5-x' must look like 2-1-3" in problems
    assert "row 6: owner stranger@example.jp is not a person in the config" in problems
    assert "row 6: direction 'sideways' must be up or down" in problems
    assert "row 6: baseline_value 'abc': not a number" in problems
    assert "row 6: baseline_year '1800': 1800 is not a plausible year" in problems
    assert "row 6: target_value is empty" in problems
    assert "row 7: title_ja of action 5-1-1 differs from row 2" in problems
    assert "row 8: target_year 2025 is before baseline_year 2030" in problems
    assert "row 9: owners ';' has no email in it" in problems
    assert "row 9: target_value 'nan': not a number" in problems
    assert counts(year) == before


def test_a_wrong_header_is_named(year: Year, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("code,title,owners\n1,2,3\n", encoding="utf-8")
    with pytest.raises(ImportRefused) as refused:
        run(year, path)
    assert "row 1: missing column 'basic_policy'" in refused.value.problems
    assert any("unknown column 'title'" in p for p in refused.value.problems)


def test_importing_again_updates_in_place(year: Year, tmp_path: Path) -> None:
    run(year, csv_file(tmp_path, GOOD))
    changed = [GOOD[0].replace("ため池の保全", "ため池の保全と再生").replace("nourin@", "kasen@"), GOOD[1]]
    result = run(year, csv_file(tmp_path, changed))
    assert (result.created, result.updated) == (0, 1)
    with db.reading(year.engine) as conn:
        action = conn.execute(select(Action.id, Action.title_ja).where(Action.code == "5-1-1")).one()
        owners = conn.execute(select(func.count()).where(ActionOwner.action_id == action.id)).scalar_one()
    assert action.title_ja == "ため池の保全と再生"
    assert owners == 1


# -- importing again keeps what a step or an admin changed since -----------------------------

def again(year: Year, zone: str = "Asia/Tokyo") -> Any:
    """The sample file imported again, as `pdca init --sample` does on a second run."""
    with db.writing(year.engine) as conn:
        return import_actions(conn, strategy=year.strategy, path=SAMPLE, now=CHECKING, zone=ZoneInfo(zone))


def action_row(year: Year, code: str) -> Any:
    with db.reading(year.engine) as conn:
        return conn.execute(select(Action.__table__).where(Action.code == code)).one()  # type: ignore[attr-defined]


def trail(year: Year, code: str) -> list[tuple[str, dict[str, Any]]]:
    """The action's own audit rows: (trigger, fields)."""
    with db.reading(year.engine) as conn:
        action_id = conn.execute(select(Action.id).where(Action.code == code)).scalar_one()
        return [(t, f) for t, f in conn.execute(
            select(AuditEvent.trigger, AuditEvent.fields)
            .where(AuditEvent.workflow == "action", AuditEvent.instance_id == action_id)
            .order_by(AuditEvent.id))]  # type: ignore[arg-type]


def said(kept: Kept, language: str) -> str:
    """A kept field as the import page says it."""
    return kept_words(kept, language, names={}, zone=ZoneInfo("Asia/Tokyo"),
                      step_name=lambda step: ACTION_CYCLE.name_of("trigger", step, language))


def test_an_adopted_revision_is_kept_and_the_import_says_by_which_step_and_when(year: Year) -> None:
    year.open(FY, now=PLANNING)
    walk(year, ROUTE["act.revision_review"])
    step(year, "approve_revision")  # on 2028-05-10 in Japan
    revised = FIELDS["submit_revision"]["revised_plan"]
    result = again(year)
    assert [str(k) for k in result.kept] == [f"kept: {CODE} plan (revised by approve_revision on 2028-05-10)"]
    assert said(result.kept[0], "ja") == (f"{CODE}の計画: 2028/05/10に「見直しを承認」で見直し後の計画になったため、"
                                          "ファイルの値にしませんでした")
    assert action_row(year, CODE).plan == revised
    assert result.updated == 0 and result.unchanged == 12
    assert [str(k) for k in again(year).kept] == [str(k) for k in result.kept]  # and again, still kept
    assert action_row(year, CODE).plan == revised


def test_an_ended_action_is_left_as_it_is(year: Year) -> None:
    year.open(FY, now=PLANNING)
    walk(year, ROUTE["act.deciding"])
    step(year, "decide_complete")
    edited = SAMPLE.read_text(encoding="utf-8").replace("里山林の保全管理", "里山林の保全と活用")
    path = edited_copy(edited)
    with db.writing(year.engine) as conn:
        result = import_actions(conn, strategy=year.strategy, path=path, now=CHECKING, zone=ZoneInfo("Asia/Tokyo"))
    assert [str(k) for k in result.kept] == [
        f"kept: {CODE} (completed by decide_complete on 2028-05-10; an ended action is left as it is)"]
    assert said(result.kept[0], "en") == f"{CODE}: left as it is, as “Complete” made it completed on 2028/05/10"
    row = action_row(year, CODE)
    assert (row.status, row.title_ja) == ("completed", "里山林の保全管理")


def test_owners_changed_by_an_admin_stay_and_a_later_file_change_elsewhere_still_applies(year: Year) -> None:
    with db.writing(year.engine) as conn:
        before, after = set_owners(conn, strategy=year.strategy, code=CODE, emails=["kasen@city.example.jp"],
                                   by=ADMIN, now=CHECKING)
    assert (before, after) == ([OWNER], ["kasen@city.example.jp"])
    edited = SAMPLE.read_text(encoding="utf-8").replace("里山林の保全管理", "里山林の保全と活用")
    with db.writing(year.engine) as conn:
        result = import_actions(conn, strategy=year.strategy, path=edited_copy(edited), now=CHECKING,
                                zone=ZoneInfo("Asia/Tokyo"))
    assert [str(k) for k in result.kept] == [f"kept: {CODE} owners (changed by {ADMIN} on 2028-05-10)"]
    assert year.story(CODE)["owners"] == ["kasen@city.example.jp"]
    assert action_row(year, CODE).title_ja == "里山林の保全と活用"  # the file still owns the title
    assert (result.updated, result.unchanged) == (1, 11)
    triggers = [t for t, _ in trail(year, CODE)]
    assert triggers == ["import", "set_owners", "import"]
    assert trail(year, CODE)[-1][1] == {"changes": {"title_ja": ["里山林の保全管理", "里山林の保全と活用"]},
                                        "by": "actions.csv"}


def test_what_the_file_still_owns_is_updated_and_audited_with_the_files_name(year: Year) -> None:
    edited = (SAMPLE.read_text(encoding="utf-8")
              .replace("市民と協働して里山林の間伐・下草刈りを行う", "市民と協働して里山林を手入れする")
              .replace("S1,保全管理した里山林の面積,Area of managed satoyama woodland,ha,up,35,2025,60,2030",
                       "S1,保全管理した里山林の面積,Area of managed satoyama woodland,ha,up,35,2025,65,2030"))
    with db.writing(year.engine) as conn:
        result = import_actions(conn, strategy=year.strategy, path=edited_copy(edited), now=CHECKING)
    assert result.kept == [] and result.updated == 1
    assert action_row(year, CODE).plan == "市民と協働して里山林を手入れする"
    with db.reading(year.engine) as conn:
        assert conn.execute(select(Indicator.target_value).where(Indicator.code == "S1")).scalar_one() == 65
    assert trail(year, CODE)[-1] == ("import", {
        "changes": {"plan": ["市民と協働して里山林の間伐・下草刈りを行う", "市民と協働して里山林を手入れする"],
                    "indicator S1 target_value": [60.0, 65.0]},
        "by": "actions.csv"})


def edited_copy(text: str) -> Path:
    """An edited copy of the sample file, named as the original."""
    folder = Path(tempfile.mkdtemp(prefix="pdca-import-"))
    path = folder / "actions.csv"
    path.write_text(text, encoding="utf-8")
    return path
