"""The shipped framework lists: the counts the official texts give, codes a tag can rely on,
both languages everywhere, and a loader that reads once and refuses a broken file."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from workflows import frameworks
from workflows.frameworks import KINDS, Framework, FrameworkItem, item, load, title

GOOD_HEAD = """
[framework]
code = "{code}"
name_ja = "テスト枠組"
name_en = "Test framework"
source = "https://example.org/framework"
adopted = 2024-04-01
"""


def write(tmp_path: Path, code: str, body: str) -> Path:
    path = tmp_path / f"{code}.toml"
    path.write_text(GOOD_HEAD.format(code=code) + body, encoding="utf-8")
    return path


def kinds(fw: Framework) -> Counter[str]:
    return Counter(i.kind for i in fw.items)


def test_kmgbf_has_4_goals_and_23_targets_in_order() -> None:
    fw = load("kmgbf")
    assert kinds(fw) == {"goal": 4, "target": 23}
    assert [i.code for i in fw.of_kind("goal")] == ["A", "B", "C", "D"]
    assert [i.code for i in fw.of_kind("target")] == [str(n) for n in range(1, 24)]
    assert fw.adopted.isoformat() == "2022-12-19"
    assert title(item(fw, "3"), "en") == "Conserve 30% of land, waters and seas"
    assert "30by30" in title(item(fw, "3"), "ja")


def test_the_national_strategy_has_5_basic_strategies_15_state_and_25_action_targets() -> None:
    fw = load("nbsap_japan_2023")
    assert kinds(fw) == {"basic_strategy": 5, "state_target": 15, "action_target": 25}
    assert [i.code for i in fw.of_kind("basic_strategy")] == ["1", "2", "3", "4", "5"]
    for strategy in fw.of_kind("basic_strategy"):
        under = Counter(i.kind for i in fw.children(strategy.code))
        assert under["state_target"] == 3, strategy.code  # three state targets per strategy
        assert 4 <= under["action_target"] <= 6, strategy.code
    assert fw.adopted.isoformat() == "2023-03-31"
    assert item(fw, "A1-1").label("ja") == "行動目標1-1"
    assert item(fw, "S1-1").label("en") == "State target 1-1"


@pytest.mark.parametrize("code", ["kmgbf", "nbsap_japan_2023"])
def test_codes_are_unique_parents_exist_and_both_languages_are_there(code: str) -> None:
    fw = load(code)
    codes = [i.code for i in fw.items]
    assert len(codes) == len(set(codes))
    by_code = {i.code: i for i in fw.items}
    for i in fw.items:
        assert i.kind in KINDS
        assert title(i, "ja").strip() and title(i, "en").strip(), i.code
        if i.kind in ("state_target", "action_target"):
            assert i.parent is not None, i.code
            assert by_code[i.parent].kind == "basic_strategy", i.code
            assert i.number.startswith(f"{i.parent}-"), i.code
    assert fw.name("ja") and fw.name("en")
    assert fw.source.startswith("https://")


def test_frameworks_lists_every_shipped_file() -> None:
    assert [fw.code for fw in frameworks.frameworks()] == ["kmgbf", "nbsap_japan_2023"]


def test_the_loader_reads_each_file_once() -> None:
    assert load("kmgbf") is load("kmgbf")
    assert item("kmgbf", "A") is load("kmgbf").items[0]


def test_items_are_frozen() -> None:
    it = item("kmgbf", "1")
    assert isinstance(it, FrameworkItem)
    with pytest.raises(AttributeError):
        it.title_en = "changed"  # type: ignore[misc]


def test_unknown_item_and_language_are_refused() -> None:
    with pytest.raises(KeyError, match="kmgbf has no item '24'"):
        item("kmgbf", "24")
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        title(item("kmgbf", "1"), "fr")  # type: ignore[arg-type]


def test_a_well_formed_file_in_another_directory_loads(tmp_path: Path) -> None:
    write(tmp_path, "tiny", """
[[items]]
code = "1"
kind = "basic_strategy"
title_ja = "戦略"
title_en = "Strategy"

[[items]]
code = "S1-1"
number = "1-1"
kind = "state_target"
parent = "1"
title_ja = "状態"
title_en = "State"
en_source = "translation"
""")
    fw = load("tiny", tmp_path)
    assert [i.code for i in fw.items] == ["1", "S1-1"]
    assert fw.items[1].en_source == "translation" and fw.items[0].number == "1"


ONE_ITEM = """
[[items]]
code = "1"
kind = "target"
title_ja = "一"
title_en = "One"
"""


@pytest.mark.parametrize(("body", "message"), [
    (ONE_ITEM + ONE_ITEM, "duplicate code '1'"),
    (ONE_ITEM.replace('kind = "target"', 'kind = "aim"'), "unknown kind 'aim'"),
    (ONE_ITEM.replace('kind = "target"', 'kind = "action_target"'), "needs a parent"),
    (ONE_ITEM.replace('kind = "target"', 'kind = "action_target"\nparent = "9"'), "parent '9' does not exist"),
    (ONE_ITEM.replace('title_en = "One"\n', ""), "missing title_en"),
    (ONE_ITEM.replace('title_en = "One"', 'title_en = "  "'), "empty title_en"),
    (ONE_ITEM + 'ja_source = "guess"\n', "ja_source 'guess'"),
    (ONE_ITEM + "colour = 1\n", "unknown keys \\['colour'\\]"),
    (ONE_ITEM + "shortened = \"yes\"\n", "shortened should be a bool"),
    ("", "no \\[\\[items\\]\\]"),
    (ONE_ITEM + "[[items]\n", "not valid TOML"),
])
def test_a_malformed_file_is_rejected_with_the_file_named(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, "bad", body)
    with pytest.raises(ValueError, match=message) as caught:
        load("bad", tmp_path)
    assert str(path) in str(caught.value)


def test_the_framework_table_is_checked(tmp_path: Path) -> None:
    (tmp_path / "nohead.toml").write_text(ONE_ITEM, encoding="utf-8")
    with pytest.raises(ValueError, match="must start with a \\[framework\\] table"):
        load("nohead", tmp_path)
    write(tmp_path, "other", ONE_ITEM).rename(tmp_path / "renamed.toml")
    with pytest.raises(ValueError, match="code is 'other' but the file is named 'renamed'"):
        load("renamed", tmp_path)
    (tmp_path / "undated.toml").write_text(
        GOOD_HEAD.format(code="undated").replace("2024-04-01", '"April 2024"') + ONE_ITEM, encoding="utf-8")
    with pytest.raises(ValueError, match="adopted should be a date"):
        load("undated", tmp_path)
    with pytest.raises(ValueError, match="no framework 'missing'"):
        load("missing", tmp_path)
