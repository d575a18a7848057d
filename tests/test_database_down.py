"""No database error reaches a person as a traceback: with the database out of reach (or
busy past its timeout), every page is a 503 page in words, the API a 503 in JSON with
Retry-After, and every command a line in words with exit 1."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.bootstrap import Pdca
from app.web.main import create_app
from tests.conftest import CONFIG, settings_for
from tests.smtp_server import free_port

NOWHERE = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/pdca"  # nothing listens there


@pytest.fixture(scope="module")
def web() -> Iterator[TestClient]:
    pdca = Pdca(settings_for(NOWHERE))
    yield TestClient(create_app(pdca), raise_server_exceptions=False)
    pdca.close()


PAGES = ["/", "/public", "/public/hub", "/public/meetings", "/public/exchange", "/public/review/"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_says_in_words_that_the_database_is_not_available(web: TestClient, path: str) -> None:
    page = web.get(path, headers={"Accept-Language": "ja"}, follow_redirects=False)
    if page.status_code in (302, 303, 307):  # a page that only sends elsewhere first
        page = web.get(page.headers["location"], headers={"Accept-Language": "ja"})
    assert page.status_code == 503, page.text
    assert page.headers["Retry-After"] == "5"
    assert "データベースが一時的に使えません" in page.text and "Traceback" not in page.text
    assert "psycopg" not in page.text and "127.0.0.1" not in page.text  # the cause is for the log


def test_asking_for_a_sign_in_link_says_it_and_sends_nothing(web: TestClient) -> None:
    form = web.get("/sign-in")
    csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
    answer = web.post("/sign-in", data={"csrf": csrf, "email": "nourin@city.example.jp"})
    assert answer.status_code == 503 and "データベースが一時的に使えません" in answer.text


def test_the_api_answers_503_in_json(web: TestClient) -> None:
    answer = web.get("/api/cycles", headers={"Authorization": "Bearer pdca_whatever"})
    assert answer.status_code == 503
    assert answer.json()["error"] == "database_unavailable"
    assert answer.headers["Retry-After"] == "5"


@pytest.mark.parametrize("args", [["actions"], ["tick"], ["audit", "verify"], ["outbox"], ["token", "list"]])
def test_every_command_says_it_in_a_line_and_exits_1(args: list[str]) -> None:
    env = {"PDCA_CONFIG": str(CONFIG), "PDCA_DATABASE_URL": NOWHERE, "PDCA_LANG": "en", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "app.cli", *args], env=env, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    assert "cannot reach the database server at 127.0.0.1" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
