"""Property tests over every route: each route of the app, read from `create_app` itself, is
sent generated requests. Path parameters of any text, huge, negative, unicode or empty-ish;
query strings with the route's own names and garbage values; for POST, form bodies, JSON
bodies (unknown keys, wrong types, nested junk, infinities), multipart bodies with files and
with text parts that are not UTF-8, and bytes of any kind under any content type.

Four ways: signed out; signed in as an action's owner; with the owner's API token; and signed
in as the strategy's admin, whose pages an owner is refused. A form goes without a CSRF
value, with a wrong one, or with the right one, so that the handlers' own checks are
reached too. Whatever is sent: never a 5xx, never a traceback, and every answer under /api
is JSON. On SQLite, and on PostgreSQL when PDCA_TEST_DATABASE_URL names a server (its
errors differ: a number out of range is the driver's error there).

Hypothesis is derandomized: the same requests on every run and in CI. A failure names the
request that found it (shrunk). `PDCA_FUZZ_EXAMPLES=200` sends more of them."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from starlette.routing import Mount

from app.bootstrap import Pdca
from app.config import load_settings
from app.web import auth
from app.web.main import create_app
from app.web.site import CSRF_COOKIE, SESSION_COOKIE
from engine import db
from tests.conftest import ADMIN, CONFIG, NOW, OWNER, Year, _empty_pg
from tests.test_web import Clock

TOO_BIG = "9223372036854775808"
EXAMPLES = int(os.environ.get("PDCA_FUZZ_EXAMPLES", "6"))
"""Requests per route and way: a few in the suite (about 45 s on SQLite); more for a deeper run."""


@dataclass(frozen=True)
class Target:
    """One route and method, as the app has it."""

    method: str
    path: str
    params: tuple[tuple[str, str], ...]
    """each path parameter's name and convertor (str, int, path)"""
    queries: tuple[str, ...]
    forms: tuple[str, ...]

    @property
    def api(self) -> bool:
        return self.path.startswith("/api")


def _app_routes() -> tuple[list[Target], dict[str, Any]]:
    """Every route of `create_app` (its static mounts left out), and the words the app's
    workflows use, for requests that get past the first checks. Nothing is opened: a Pdca
    connects only when asked."""
    pdca = Pdca(load_settings(CONFIG, env={"PDCA_DATABASE_URL": "sqlite://"}))
    app = create_app(pdca)
    targets = []
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, Mount):
            continue
        dependant = getattr(context, "dependant", None)
        queries = tuple(p.alias for p in dependant.query_params) if dependant else ()
        forms = tuple(p.alias for p in dependant.body_params) if dependant else ()
        params = tuple((m[1], m[2] or "str") for m in re.finditer(r"{(\w+)(?::(\w+))?}", context.path))
        for method in sorted((context.methods or {"GET"}) - {"HEAD"}):
            targets.append(Target(method, context.path, params, queries, forms))
    triggers = sorted({t.name for e in pdca.registry for t in (*e.spec.triggers, *e.spec.openings)})
    fields = sorted({f.name for e in pdca.registry for t in (*e.spec.triggers, *e.spec.openings) for f in t.fields})
    words = {"triggers": triggers, "fields": fields, "workflows": [e.name for e in pdca.registry],
             "segments": sorted({e.options.get("segment") or "w" for e in pdca.registry}),
             "strategy": pdca.settings.strategy.code}
    return targets, words


TARGETS, WORDS = _app_routes()

NASTY = [
    "", " ", "0", "-1", "1", "00", "²", "①", "١٢", "２０２６", TOO_BIG, "99999999999999999999", "9" * 5000,
    "-9223372036854775809", "1e999", "-1e999", "NaN", "inf", "1.5", "0x10", "2026-02-30", "0000-00-00",
    "\x00", "a\x00b", "\r\nX-Injected: yes", "subject\r\nBcc: evil@example.net", "../../etc/passwd", "%",
    "%00", "%ff", "..", ".", "/", "//", "\\", "<script>alert(1)</script>", "' OR 1=1 --", "日本語", "🦋",
    "\u202e", "\ufeff", "\ud7ff", "x" * 10_000, "null", "true", "[]", "{}", "yes", "v1", "v²", "ja", "en", "de",
]
VALID = {
    "code": ["1-1-2", "2-1-1", "1-1-1"], "fy": ["2026", "2025", "2027"], "strategy": [WORDS["strategy"]],
    "workflow": WORDS["workflows"], "instance_id": ["1", "2", "3"], "item_id": ["1", "2"], "meeting_id": ["1"],
    "topic_id": ["1"], "seq": ["1"], "key": ["internal", "promotion", "partners"], "secret": ["abc"],
    "child": WORDS["segments"], "trigger": WORDS["triggers"], "path": ["", "index.html", "v1/", "x/../../y"],
    "number": ["1", "2"],
}
QUERY_NAMES = ["lang", "done", "page", "from", "to", "next", "moved", "kind", "group", "action", "fy", "strategy",
               "status", "recipient", "actor", "trigger", "code", "state"]
FORM_NAMES = ["csrf", "trigger", "version", "confirm", "save_draft", "email", "password", "next", "item", "all",
              "milestone", "day", "closed_add", "closed_remove", "why", "reminder_days", "repeat_days",
              "escalate_after_days", "absent", "code", "emails", "name", "name_en", "division", "language",
              "admin", "digest", "active", "body", "role", "name_ja", "website", "comment", "indicators.S1",
              "indicators.S2.reason", "item.locality", "details.budget"]
RAW_QUERIES = ["%ff=%fe", "a=%", "=", "&&&", "fy=%00", "lang=%c0%af", "page=%EF%BC%92", "done=%C2%B2"]
RAW_BODIES = [
    b"", b"\xff\xfe\xfd", b"csrf=%ff&trigger=%fe", "計画=里山林".encode("cp932"), b"[" * 20_000 + b"]" * 20_000,
    b'{"a":' * 3000 + b"1" + b"}" * 3000, b"1e999", b'{"trigger": "submit_plan", "expected_version": 1e999}',
    b'{"trigger": "submit_plan", "fields": {"plan": NaN}}', b"\x00" * 64, b"--x\r\nContent-Disposition: form-da",
    b"PK\x03\x04" + b"\x00" * 30, b'{"trigger": "submit_plan"', b"null", b'"text"', b"[1, 2]", b"true",
]
CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                 "multipart/form-data", "text/plain", "application/octet-stream", "",
                 "application/x-www-form-urlencoded; charset=shift_jis", "application/json; charset=latin-1"]
FILES = [
    b"", b"not a file at all", b"code,title_ja\n1-1-2,", b"\xef\xbb\xbfcode,title_ja\r\n\"1-1-9,\xe9\x87\x8c",
    "code,title_ja\n1-1-9,里山".encode("cp932"), b"PK\x03\x04" + b"\x00" * 40, b"\xff\xd8\xff\xe0" + b"\x00" * 20,
    b"\x89PNG\r\n\x1a\n", b"\x00" * 100,
]
FILENAMES = ["actions.csv", "actions.xlsx", "occurrences.zip", "photo.jpg", "", "../../etc/passwd.csv", "a\x00.csv",
             "日本語.csv", "x" * 300 + ".csv", "noext"]


def values(name: str | None = None) -> st.SearchStrategy[str]:
    valid = VALID.get(name or "", [])
    choices = [st.sampled_from(NASTY), st.text(max_size=24), st.integers().map(str)]
    return st.one_of(st.sampled_from(valid), *choices) if valid else st.one_of(*choices)


json_junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=16) | st.sampled_from(NASTY[:30]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8)
api_bodies = st.one_of(
    st.fixed_dictionaries({}, optional={
        "trigger": st.sampled_from(WORDS["triggers"]) | json_junk,
        "fields": st.dictionaries(st.sampled_from(WORDS["fields"]) | st.text(max_size=8), json_junk, max_size=4)
        | json_junk,
        "expected_version": st.integers() | json_junk, "about": st.integers() | json_junk,
        "expected_verison": json_junk}),
    json_junk)


@dataclass
class Sent:
    """A request as drawn; the credentials are added when it is sent."""

    method: str
    url: str
    form: list[tuple[str, str]] | None = None
    json_body: Any = None
    raw: bytes | None = None
    content_type: str | None = None
    files: list[tuple[str, tuple[str | None, bytes, str]]] = field(default_factory=list)
    csrf: str = "none"
    """none, wrong or valid"""
    wrong: str = ""


@st.composite
def requests(draw: st.DrawFn, target: Target) -> Sent:
    url = target.path
    for name, kind in target.params:
        value = draw(st.integers(min_value=-5, max_value=2**70).map(str) | values(name)) if kind in ("int", "id") \
            else draw(values(name))
        url = url.replace("{" + name + (f":{kind}" if kind != "str" else "") + "}",
                      quote(value, safe="/" if kind == "path" else ""), 1)
    names = st.sampled_from([*target.queries, *QUERY_NAMES]) | st.text(min_size=1, max_size=8)
    pairs = draw(st.lists(st.tuples(names, values()), max_size=4))
    query = urlencode(pairs)
    if draw(st.integers(0, 9)) == 0:
        query = "&".join(filter(None, [query, draw(st.sampled_from(RAW_QUERIES))]))
    sent = Sent(target.method, url + (f"?{query}" if query else ""))
    if target.method == "GET":
        return sent
    sent.csrf = draw(st.sampled_from(["none", "wrong", "valid"]))
    sent.wrong = draw(st.sampled_from(["", "forged", "é", "\x00", "a" * 5000]) | st.text(max_size=12))
    kind = draw(st.sampled_from(["form", "form", "json", "raw", "multipart"] if not target.api
                                else ["json", "json", "json", "form", "raw"]))
    field_names = st.sampled_from([*target.forms, *FORM_NAMES, *WORDS["fields"]]) | st.text(min_size=1, max_size=8)
    form = draw(st.lists(st.tuples(field_names, values()), max_size=6))
    if draw(st.booleans()):
        form.append(("trigger", draw(st.sampled_from(WORDS["triggers"]))))
    if kind == "form":
        sent.form = form
    elif kind == "json":
        sent.json_body = draw(api_bodies if target.api else json_junk)
    elif kind == "raw":
        sent.raw = draw(st.sampled_from(RAW_BODIES) | st.binary(max_size=64))
        sent.content_type = draw(st.sampled_from(CONTENT_TYPES))
    else:
        sent.form = form
        for _ in range(draw(st.integers(0, 2))):
            name = draw(st.sampled_from(["file", "photos", "csrf", "plan", "trigger"])
                        | st.text(min_size=1, max_size=6))
            filename = draw(st.sampled_from([*FILENAMES, None]))  # None: a text part, its bytes any
            content = draw(st.sampled_from(FILES) | st.binary(max_size=32))
            sent.files.append((name, (filename, content, draw(st.sampled_from(["text/csv", "image/jpeg", ""])))))
    return sent


class Fuzzing:
    """The app on one database for the module, with the owner's and the admin's sessions and
    the owner's API token."""

    def __init__(self, year: Year) -> None:
        self.year = year
        self.client = TestClient(create_app(year.pdca, clock=Clock(NOW)), follow_redirects=False,
                                 raise_server_exceptions=False)
        with db.writing(year.engine) as conn:
            token = auth.create_api_token(conn, email=OWNER, name="fuzz", now=NOW)
        assert token
        self.token = token
        self.sessions = {email: self._sign_in(email) for email in (OWNER, ADMIN)}

    def _sign_in(self, email: str) -> tuple[str, str]:
        with db.writing(self.year.engine) as conn:
            created = auth.create_link(conn, email=email, next_url="/", now=NOW, minutes=30)
            assert created
            redeemed = auth.redeem_link(conn, created[0], now=NOW, session_days=1)
            assert redeemed
            visitor = auth.session_visitor(conn, redeemed[0], now=NOW)
        assert visitor
        return redeemed[0], visitor.csrf

    def signed_in(self, email: str) -> tuple[str, str]:
        """A session and its CSRF value; a new one when a request ended it (a sign-out with
        the right CSRF)."""
        with db.reading(self.year.engine) as conn:
            alive = auth.session_visitor(conn, self.sessions[email][0], now=NOW)
        if alive is None:
            self.sessions[email] = self._sign_in(email)
        return self.sessions[email]

    def send(self, sent: Sent, way: str) -> Any:
        headers: dict[str, str] = {}
        cookies: dict[str, str] = {}
        csrf = sent.wrong
        if way in ("session", "admin"):
            cookies[SESSION_COOKIE], valid = self.signed_in(ADMIN if way == "admin" else OWNER)
        else:
            valid = "fuzzed-csrf-cookie"
            cookies[CSRF_COOKIE] = valid  # a signed-out form checks its CSRF value against this cookie
        if way == "token":
            headers["Authorization"] = f"Bearer {self.token}"
        if sent.csrf == "valid":
            csrf = valid
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        form = list(sent.form or [])
        if sent.csrf != "none" and sent.form is not None:
            form.insert(0, ("csrf", csrf))
        self.client.cookies.clear()
        kwargs: dict[str, Any] = {}
        if sent.files:
            data: dict[str, list[str]] = {}
            for k, v in form:
                data.setdefault(k, []).append(v)
            kwargs = {"data": data, "files": sent.files}
        elif sent.form is not None:
            kwargs = {"content": urlencode(form).encode("ascii")}
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif sent.raw is not None:
            kwargs = {"content": sent.raw}
            if sent.content_type:
                headers["Content-Type"] = sent.content_type
        elif sent.method != "GET":
            kwargs = {"content": json.dumps(sent.json_body).encode()}  # NaN and Infinity as Python writes them
            headers["Content-Type"] = "application/json"
        return self.client.request(sent.method, sent.url, headers=headers, **kwargs)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzzing(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzing]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("fuzz") / "pdca.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_url")
        _empty_pg(url)
    year = Year(url)
    fuzz = Fuzzing(year)
    with fuzz.client:
        yield fuzz
    year.close()


def _shown(sent: Sent) -> str:
    return repr(sent)[:2000]


@pytest.mark.parametrize("way", ["signed_out", "session", "token", "admin"])
@pytest.mark.parametrize("target", TARGETS, ids=[f"{t.method} {t.path}" for t in TARGETS])
def test_no_request_to_any_route_is_a_server_error(fuzzing: Fuzzing, target: Target, way: str) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=False,
              suppress_health_check=list(HealthCheck))
    @given(requests(target))
    def check(sent: Sent) -> None:
        note(_shown(sent))
        answer = fuzzing.send(sent, way)
        assert answer.status_code < 500, (answer.status_code, _shown(sent), answer.text[:300])
        assert "Traceback" not in answer.text
        if target.api:
            assert answer.headers.get("content-type", "").startswith("application/json"), (
                answer.status_code, answer.headers.get("content-type"), _shown(sent))

    check()


def test_every_route_of_the_app_is_fuzzed() -> None:
    """The list is the app's own, not one kept by hand: a new route is fuzzed without a word here."""
    paths = {t.path for t in TARGETS}
    assert len(TARGETS) >= 100 and {"/api/cycles/{code}/{fy}/fire", "/admin/import", "/w/{workflow}/new",
                                    "/public/hub/{item_id:id}", "/s/{strategy}/public/hub/join"} <= paths
    assert all(not t.path.startswith(("/static", "/docs-assets")) for t in TARGETS)
