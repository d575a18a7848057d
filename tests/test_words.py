"""People read words, not codes: every page, every mail and every public file of a sample
city in the middle of its year, in Japanese and in English, read by each of its people,
shows no name meant for programs (a state such as `plan.review`, a step such as
`submit_plan`, a choice such as `partly_implemented`, a milestone such as `report_due`, a
kind of mail such as `report_reminder`, `indicator:`), and a Japanese page says nothing in
English."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from app.bootstrap import Pdca
from app.cli import cli
from app.config import load_settings
from app.web.auth import create_link
from app.web.main import create_app
from engine import db
from engine.outbox import OutboxMessage
from tests.conftest import CONFIG
from tests.test_web import Clock
from workflows.action_cycle.mail import KINDS
from workflows.action_cycle.spec import ACTION_CYCLE, DECISIONS, REPORT_STATUSES
from workflows.calendar import MILESTONES
from workflows.opinion.spec import OPINION

AS_OF = "2027-08-10"
NOW = datetime.fromisoformat(f"{AS_OF}T09:00:00+09:00")


def program_names() -> set[str]:
    names = {s.name for spec in (ACTION_CYCLE, OPINION) for s in spec.states if "." in s.name or "_" in s.name}
    names |= {t.name for spec in (ACTION_CYCLE, OPINION) for t in (*spec.triggers, *spec.openings) if "_" in t.name}
    names |= {s for s in REPORT_STATUSES if "_" in s} | {m.name for m in MILESTONES} | {k.name for k in KINDS}
    names |= {"indicator:", "flags_kept_because", "revised_plan", "self_grade", "return_count", ", up)", ", down)"}
    return {n for n in names if "_" in n or "." in n or n.endswith((":", ")"))} - set(DECISIONS)


CODES = program_names()
WORDLIKE = sorted((re.escape(c) for c in CODES if c[0].isalnum()), key=len, reverse=True)
PUNCTUATED = sorted((re.escape(c) for c in CODES if not c[0].isalnum()), key=len, reverse=True)
CODE = re.compile(r"((?<![\w./-])(?:" + "|".join(WORDLIKE) + r")(?![\w-])|" + "|".join(PUNCTUATED) + ")")


def visible_text(html: str) -> str:
    """What a person reads of a page: its text, not its markup, names or values."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pdca]:
    folder = tmp_path_factory.mktemp("city")
    shutil.copy(CONFIG, folder / "config.toml")
    result = CliRunner().invoke(cli, ["--config", str(folder / "config.toml"), "init", "--sample", "--as-of", AS_OF],
                                env={"PDCA_DATABASE_URL": ""})
    assert result.exit_code == 0, result.output
    pdca = Pdca(load_settings(folder / "config.toml", env={}))
    yield pdca
    pdca.close()


def pages_of(pdca: Pdca, email: str, language: str, skip: str | None = None) -> Iterator[tuple[str, str]]:
    """(path, visible text) of every page this person may open, in one language; `skip`:
    elements left out (a mail's subject is in its recipient's language, not the page's)."""
    with TestClient(create_app(pdca, clock=Clock(NOW)), follow_redirects=False) as client:
        with db.writing(pdca.engine) as conn:
            created = create_link(conn, email=email, next_url="/", now=NOW, minutes=30)
        assert created is not None
        client.get(f"/sign-in/{created[0]}")
        client.get(f"/?lang={language}")
        seen: set[str] = set()
        todo = ["/", "/councils/internal", "/councils/promotion", "/admin", "/admin/outbox", "/admin/audit",
                "/admin/people", "/admin/import", "/public"]
        while todo:
            path = todo.pop(0)
            if path in seen:
                continue
            seen.add(path)
            page = client.get(path)
            if page.status_code != 200 or "text/html" not in page.headers.get("content-type", ""):
                continue
            html = page.text if skip is None else re.sub(re.escape(skip) + r".*?</small>", " ", page.text)
            yield path, visible_text(html)
            todo += [link for link in re.findall(r'href="(/(?:actions|w)/[^"?#]+)"', page.text) if link not in seen]


def test_no_page_mail_or_public_file_shows_a_name_meant_for_programs(city: Pdca) -> None:
    found: list[tuple[str, str, str]] = []
    people = [p.email for p in city.settings.people]
    for language in ("ja", "en"):
        for email in people:
            for path, text in pages_of(city, email, language):
                found += [(f"{language} {email} {path}", m, text[max(0, i - 40):i + 40])
                          for m, i in ((m.group(1), m.start()) for m in CODE.finditer(text))][:3]
    with db.reading(city.engine) as conn:
        raws = conn.execute(select(OutboxMessage.kind, OutboxMessage.raw).where(OutboxMessage.raw.is_not(None)))
        for kind, raw in raws:
            message = message_from_bytes(bytes(raw))
            for part in message.walk():
                if part.get_content_maintype() == "text":
                    body = part.get_payload(decode=True).decode()  # type: ignore[union-attr]
                    text = visible_text(body) if part.get_content_subtype() == "html" else body
                    found += [(f"mail {kind}", m.group(1), text[max(0, m.start() - 40):m.start() + 40])
                              for m in CODE.finditer(text)][:2]
    public = Path(city.settings.web.public_dir)
    for path in public.rglob("*"):
        if path.suffix in (".html", ".csv", ".svg"):
            text = path.read_text(encoding="utf-8-sig")
            text = visible_text(text) if path.suffix != ".csv" else text
            found += [(f"public {path.relative_to(public)}", m.group(1), text[max(0, m.start() - 40):m.start() + 40])
                      for m in CODE.finditer(text)][:2]
    assert found == [], "\n".join(map(str, found))


ENGLISH = re.compile(r"\b(?:the|is|not|possible|missing|reload|someone|number|please|may)\b", re.I)


def test_a_japanese_page_says_nothing_in_english(city: Pdca) -> None:
    """Beyond names (which people and actions may have in English), a Japanese page's own
    words are Japanese."""
    found: list[Any] = []
    for email in ("jimukyoku@city.example.jp", "fukushichou@city.example.jp", "nourin@city.example.jp"):
        for path, text in pages_of(city, email, "ja", skip='<small class="subject">'):
            found += [(email, path, m.group(0), text[max(0, m.start() - 40):m.start() + 40])
                      for m in ENGLISH.finditer(text)][:2]
    assert found == [], "\n".join(map(str, found))
