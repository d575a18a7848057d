"""Every template family renders in both languages from a context, strictly: a missing
value is an error, not an empty string; HTML escapes what people typed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email import message_from_bytes
from typing import Any

import pytest
from jinja2 import UndefinedError

from notifications.render import Identity, Renderer

IDENTITY = Identity("biodiversity@city.example.jp", "みどり市生物多様性戦略", "kankyo@city.example.jp",
                    "みどり市生物多様性戦略", "biodiversity-2026.city.example.jp")
ITEM = {"code": "2-1-3", "title": "湿地の<再生>", "division": "河川課", "fy": 2025, "fy_label": "FY2025 (令和7年度)",
        "state": "check.self_assessment", "state_label": "実施状況報告中", "url": "http://pdca.example/actions/2-1-3/2025",
        "flags": ["指標「湿地」が想定値の40%にとどまっています"]}


def context(family: str, language: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": 1, "kind": {"packet": "internal_packet", "opinion": "opinion_requested"}.get(family, f"report_{family}"),
        "family": family,
        "topic": "report", "language": language, "recipient": {"email": "kasen@city.example.jp", "name": "河川 四郎"},
        "fy": 2025, "fy_label": "FY2025 (令和7年度)", "wareki": "令和7年度", "due": date(2026, 5, 29), "step": "-7",
        "days": 7, "strategy": "みどり市生物多様性戦略", "base_url": "http://pdca.example", "item": ITEM,
        "items": [ITEM, {**ITEM, "code": "2-1-4"}], "event": {"comment": "根拠を<b>追記</b>", "to_label": "承認済"},
        "council_url": "http://pdca.example/councils/internal", "entries": [
            {"subject": "【提出期限 5/29】…", "url": ITEM["url"], "id": 9, "kind": "report_reminder",
             "recipient": "x@example.jp", "error": "550 no such user"}],
        "link": "http://pdca.example/sign-in/abc", "expires_minutes": 30, "url": "http://pdca.example/public/2025",
        "opinion": {"question": "外来種の<影響>は？", "due": date(2026, 7, 1),
                    "asked_by": "prof.mori@univ.example.ac.jp"},
    }
    return base | extra


FAMILIES = ["request", "reminder", "overdue", "escalation", "packet", "decisions", "returned", "decided", "revision",
            "digest", "dead_letters", "sign_in", "published", "opinion"]


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_renders_in_both_languages(family: str, language: str) -> None:
    rendered = Renderer(IDENTITY).render(context(family, language))
    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.text.strip() and rendered.html.startswith("<!DOCTYPE html>")
    assert rendered.text.startswith("河川 四郎 様" if language == "ja" else "Dear 河川 四郎,")
    assert "<再生>" not in rendered.html and "<b>追記</b>" not in rendered.html  # escaped in HTML


def test_the_issue_s_subjects() -> None:
    r = Renderer(IDENTITY)
    assert r.render(context("reminder", "ja")).subject == "【提出期限 5/29】令和7年度 実施状況報告 2-1-3 湿地の<再生>"
    assert r.render(context("reminder", "en")).subject == "[Due 29 May] FY2025 report, action 2-1-3 湿地の<再生>"


def test_a_missing_value_is_an_error_not_a_blank() -> None:
    broken = context("reminder", "ja")
    del broken["due"]
    with pytest.raises(UndefinedError):
        Renderer(IDENTITY).render(broken)


def test_the_same_message_renders_to_the_same_bytes() -> None:
    r = Renderer(IDENTITY)
    rendered = r.render(context("reminder", "ja"))
    now = datetime(2026, 5, 22, tzinfo=UTC)
    first = r.build(rendered, recipient="kasen@city.example.jp", name="河川 四郎", dedupe_key="k", now=now)
    assert first == r.build(rendered, recipient="kasen@city.example.jp", name="河川 四郎", dedupe_key="k", now=now)
    parsed = message_from_bytes(first)
    assert parsed["Reply-To"] == "kankyo@city.example.jp"
    assert parsed["Message-ID"] == r.message_id("k") != r.message_id("k2")


def test_a_packet_shows_each_items_flags() -> None:
    rendered = Renderer(IDENTITY).render(context("packet", "ja"))
    assert "⚑ 指標「湿地」が想定値の40%にとどまっています" in rendered.text
    assert "⚑ 指標「湿地」" in rendered.html
