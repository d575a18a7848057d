"""Hostile and broken input refused cleanly: a clear answer with the right status, nothing
stored, never a 500 (the cases an independent API fuzzer and an operator found)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import OWNER, Year
from tests.test_web import clock, token_for, web  # noqa: F401  (the fixtures)

TOO_BIG = "9223372036854775808"  # one past the largest 64-bit integer


@pytest.mark.parametrize(("path", "status"), [
    (f"/api/cycles?fy={TOO_BIG}", 422), (f"/api/cycles/1-1-2/{TOO_BIG}", 422), ("/api/cycles/1-1-2/-1", 422),
    (f"/api/strategies/biodiversity-2026/cycles?fy={TOO_BIG}", 422),
    (f"/api/workflows/hub_item/{TOO_BIG}", 404), ("/api/workflows/meeting/0", 404),
])
def test_a_number_beyond_what_the_database_holds_is_refused_in_json(web: TestClient, year: Year,  # noqa: F811
                                                                   path: str, status: int) -> None:
    """A fiscal year outside 1-9999 is not one (422); an id beyond 64 bits is no record (404)."""
    answer = web.get(path, headers=token_for(year, OWNER))
    assert answer.status_code == status and answer.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(("path", "status"), [
    (f"/actions/1-1-2/{TOO_BIG}", 422), (f"/public/hub/{TOO_BIG}", 404), (f"/public/meetings/{TOO_BIG}", 404),
    (f"/public/exchange/{TOO_BIG}", 404), (f"/public/hub/{TOO_BIG}/photos/1", 404),
    (f"/public/hub/1/photos/{TOO_BIG}", 404)])
def test_a_page_address_with_such_a_number_is_a_page_in_words(web: TestClient, path: str,  # noqa: F811
                                                              status: int) -> None:
    answer = web.get(path)
    assert answer.status_code == status, path
    assert "text/html" in answer.headers["content-type"] and "Traceback" not in answer.text


def test_a_firing_with_its_fields_to_the_fire_path_with_a_huge_year_is_refused(web: TestClient,  # noqa: F811
                                                                            year: Year) -> None:
    answer = web.post(f"/api/cycles/1-1-2/{TOO_BIG}/fire", headers=token_for(year, OWNER),
                      json={"trigger": "submit_plan", "fields": {"plan": "x"}})
    assert answer.status_code == 422


def test_a_misspelt_key_in_an_api_body_is_named_and_nothing_fires(web: TestClient, year: Year) -> None:  # noqa: F811
    """`expected_verison` used to be ignored, so the stale-version check was skipped."""
    before = year.story("1-1-2")
    answer = web.post("/api/cycles/1-1-2/2026/fire", headers=token_for(year, OWNER),
                      json={"trigger": "submit_plan", "fields": {"plan": "里山林の間伐"}, "expected_verison": 1})
    assert answer.status_code == 422 and "expected_verison" in answer.text
    after = year.story("1-1-2")
    assert (after["state"], after["version"]) == (before["state"], before["version"])


@pytest.mark.parametrize("csrf", ["é", "日本語", "\x00", "a" * 5000])
def test_a_sign_in_form_with_any_csrf_text_is_refused_not_a_500(web: TestClient, csrf: str) -> None:  # noqa: F811
    answer = web.post("/sign-in", data={"email": "nourin@city.example.jp", "csrf": csrf, "next": "/"})
    assert answer.status_code == 403 and "Traceback" not in answer.text


def test_the_openapi_document_declares_every_refusal_with_its_shape(web: TestClient) -> None:  # noqa: F811
    """A client generated from /openapi.json knows the 401, 403, 404, 409 and 422 answers and
    reads each as one `Refusal` object."""
    document = web.get("/openapi.json").json()
    assert "Refusal" in document["components"]["schemas"]
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            declared = set(operation["responses"])
            assert {"401", "403", "404", "409", "422"} <= declared, (method, path, declared)
            assert operation["responses"]["409"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Refusal"}


def test_a_request_the_api_cannot_read_answers_in_the_same_shape(web: TestClient, year: Year) -> None:  # noqa: F811
    answer = web.post("/api/cycles/1-1-2/2026/fire", headers=token_for(year, OWNER),
                      json={"trigger": "submit_plan", "expected_verison": 1})
    body = answer.json()
    assert answer.status_code == 422 and body["error"] == "invalid_field"
    assert [p["field"] for p in body["problems"]] == ["body.expected_verison"] and body["message"]


def test_every_csv_keeps_a_formula_looking_cell_as_text(year: Year, tmp_path: Path) -> None:
    """An action titled like a formula (or an owner's report beginning with @ or -) is text in
    the yearly CSV, as in the hub's; a lone "-" (a grade) and numbers stay as they are."""
    import csv

    from sqlalchemy import update

    from engine import db
    from publishing import contributions, tables
    from publishing.cells import safe
    from workflows.action_cycle import results
    from workflows.models import Action

    with db.writing(year.engine) as conn:
        conn.execute(update(Action).where(Action.code == "1-1-2").values(title_ja='=HYPERLINK("http://x","y")'))
        snapshot = results.snapshot(conn, strategy_code=year.pdca.strategy_code, fy=2026)
    written = tables.write_csv(snapshot, tmp_path / "results.csv")
    with written.open(encoding="utf-8-sig", newline="") as f:
        titles = [row["title_ja"] for row in csv.DictReader(f)]
    assert "'=HYPERLINK(\"http://x\",\"y\")" in titles and not any(t.startswith("=") for t in titles)
    assert [safe(v) for v in ("@SUM(A1)", "-2+3", "+1", "\t=1", "-", "里山", 5.0)] == [
        "'@SUM(A1)", "'-2+3", "'+1", "'\t=1", "-", "里山", 5.0]
    table = [{"framework_ja": "昆明・モントリオール", "target": "T3", "label_ja": "目標3", "title_ja": "30by30",
              "title_en": "30x30", "verified": False, "serving": [{
                  "action": "1-1-2", "title_ja": "=cmd|' /C calc'!A0", "title_en": "", "indicator": "S1",
                  "indicator_name_ja": "@SUM(1)", "council_grade": "-", "status": None}]}]
    body = contributions.csv_bytes(table).decode("utf-8-sig")
    assert "'=cmd" in body and "'@SUM(1)" in body and ",-," in body


def _workbook_bytes() -> bytes:
    import io

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["code", "title_ja"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("content", [b"not a workbook at all", _workbook_bytes()[:600], b"PK\x03\x04" + b"\x00" * 40,
                                     b""])
def test_a_corrupt_or_truncated_workbook_is_refused_in_words_and_imports_nothing(
        year: Year, tmp_path: Path, content: bytes) -> None:
    from typer.testing import CliRunner

    from app.cli import cli
    from tests.conftest import CONFIG

    path = tmp_path / "actions.xlsx"
    path.write_bytes(content)
    before = year.actions()
    url = str(year.pdca.settings.database.url)
    result = CliRunner().invoke(cli, ["--config", str(CONFIG), "import", str(path)], env={"PDCA_DATABASE_URL": url})
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "actions.xlsx" in result.output
    assert year.actions() == before


def test_a_form_sent_in_shift_jis_is_refused_and_nothing_is_stored(web: TestClient, year: Year) -> None:  # noqa: F811
    from urllib.parse import quote

    from tests.test_web import csrf_of, sign_in

    sign_in(web, year, OWNER)
    page = web.get("/actions/1-1-2/2026").text
    body = (f"csrf={csrf_of(page)}&trigger=submit_plan&version=1&plan=" + quote("里山林の間伐".encode("cp932")))
    answer = web.post("/actions/1-1-2/2026/fire", content=body.encode("ascii"),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 400 and "UTF-8" in answer.text
    assert year.state("1-1-2") == "plan.drafting"
    utf8 = body.replace(quote("里山林の間伐".encode("cp932")), quote("里山林の間伐"))
    fine = web.post("/actions/1-1-2/2026/fire", content=utf8.encode("ascii"),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert fine.status_code == 303 and year.state("1-1-2") == "plan.review"


@pytest.mark.parametrize("path", ["/sign-in", "/public", "/public/hub", "/public/meetings", "/api/workflows",
                                  "/no-such-page", "/static/pdca.css"])
def test_every_answer_carries_the_security_headers(web: TestClient, path: str) -> None:  # noqa: F811
    headers = web.get(path).headers
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
    assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"


def test_sign_in_requests_and_passwords_are_limited_per_address(web: TestClient, year: Year,  # noqa: F811
                                                                clock: Any) -> None:  # noqa: F811
    """Five links an address in a quarter of an hour; a sixth is refused with 429 and sent
    nothing (an address that is no person's the same); five wrong passwords, then even the
    right one waits; after the window, all is well again. Counted in the database, so every
    process and node shares the count."""
    import re
    from datetime import timedelta

    from sqlalchemy import func, select

    from app.web.auth import set_password
    from engine import db
    from engine.outbox import OutboxMessage

    def ask(email: str) -> Any:
        form = web.get("/sign-in").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf
        return web.post("/sign-in", data={"email": email, "csrf": csrf[1], "next": "/"})

    def links() -> int:
        with db.reading(year.engine) as conn:
            return conn.execute(select(func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.kind == "sign_in_link")).scalar_one()

    for _ in range(5):
        assert ask(OWNER).status_code == 200
    assert links() == 5
    refused = ask(OWNER)
    assert refused.status_code == 429 and "分ほどたってから" in refused.text and refused.headers["retry-after"]
    assert links() == 5
    for _ in range(5):
        ask("nobody@example.net")
    assert ask("nobody@example.net").status_code == 429  # the same answer for an address that is no one's
    assert ask("kasen@city.example.jp").status_code == 200

    with db.writing(year.engine) as conn:
        set_password(conn, email="kankyo.admin@city.example.jp", password="correct horse battery", now=clock())

    def password(secret: str) -> Any:
        form = web.get("/sign-in").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf
        return web.post("/sign-in/password", data={"email": "kankyo.admin@city.example.jp", "password": secret,
                                                    "csrf": csrf[1], "next": "/"})

    for _ in range(5):
        assert password("wrong guess").status_code == 401
    assert password("correct horse battery").status_code == 429
    clock.now = clock.now + timedelta(minutes=16)
    assert password("correct horse battery").status_code == 303
    assert ask(OWNER).status_code == 200


def test_an_indicator_value_it_cannot_take_is_refused_and_nothing_is_stored(year: Year) -> None:
    """No -5 ha of woodland and no -100 volunteers (a count or area is never below 0, a share
    never above 100 %), in the report and in interim progress alike; a declared range holds
    in the import too."""
    from engine.errors import InvalidFields
    from tests.test_action_cycle import REPORT

    year.fire("1-1-2", "submit_plan", OWNER, plan="計画")
    year.fire("1-1-2", "approve_plan", "fukushichou@city.example.jp")
    with pytest.raises(InvalidFields) as refused:
        year.fire("1-1-2", "post_progress", OWNER, **{"indicators.S1": "-5", "indicators.S2.reason": "集計中"})
    assert "S1: -5" in str(refused.value) and "at least 0" in str(refused.value)
    version = year.story("1-1-2")["version"]
    year.fire("1-1-2", "open_check", "kankyo.admin@city.example.jp")
    with pytest.raises(InvalidFields):
        year.fire("1-1-2", "submit_report", OWNER, **(REPORT | {"indicators.S1": "-100"}))
    story = year.story("1-1-2")
    assert story["state"] == "check.self_assessment" and story["version"] == version + 1
    assert all(i["value"] is None for i in story["indicators"])
    year.fire("1-1-2", "submit_report", OWNER, **REPORT)  # 45 ha is fine


def test_an_import_names_a_baseline_or_target_the_indicator_cannot_take(year: Year, tmp_path: Path) -> None:
    from app.importing import ImportRefused, import_actions
    from engine import db
    from tests.conftest import NOW, SAMPLE

    text = SAMPLE.read_text(encoding="utf-8")
    assert "ha,up,2.0,2025,4.5,2030" in text
    broken = tmp_path / "actions.csv"
    broken.write_text(text.replace("ha,up,2.0,2025,4.5,2030", "%,up,2.0,2025,120,2030"), encoding="utf-8")
    before = year.actions()
    with pytest.raises(ImportRefused) as refused, db.writing(year.engine) as conn:
        import_actions(conn, strategy=year.strategy, path=broken, now=NOW)
    assert any(p.key == "import.out_of_range" and p.params["column"] == "target_value"
               for p in refused.value.problems)
    assert year.actions() == before
