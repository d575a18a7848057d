"""A bad config names its key, exits 2, and touches no database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.config import ConfigError, load_settings
from tests.conftest import CONFIG

SAMPLE = CONFIG.read_text(encoding="utf-8")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


BROKEN = [
    ('chair = "fukushichou@city.example.jp"', 'chiar = "fukushichou@city.example.jp"',
     "councils.internal.chiar: Extra inputs are not permitted"),
    ('chair = "prof.mori@univ.example.ac.jp"', 'chair = "nobody@example.jp"',
     "councils.promotion.chair: nobody@example.jp"),
    ('timezone = "Asia/Tokyo"', 'timezone = "Asia/Kumamoto"', "calendar.timezone: unknown time zone"),
    ('fiscal_year_start = "04-01"', 'fiscal_year_start = "4/1"', "calendar.fiscal_year_start: write MM-DD"),
    ("target_fy = 2030", "target_fy = 2020", "target_fy 2020 is before first_fy 2025"),
    ('email = "zoo@city.example.jp"', 'email = "zoo-at-city"', "people[8].email: 'zoo-at-city' is not an email"),
    ('language = "en"', 'language = "fr"', "people[8].language: Input should be 'ja' or 'en'"),
    ('backend = "file"', 'backend = "pigeon"', "mail.backend: Input should be 'file', 'console' or 'smtp'"),
    ('url = "sqlite:///var/pdca.sqlite3"', 'url = "mysql://x/y"', "database.url: only sqlite"),
    ('grades = ["A", "B", "C", "D", "-"]', 'grades = ["A", "A"]', "grades must not repeat"),
    ("[councils.promotion]", "[councils.promotional]", "councils.promotional"),
    ("first_fy = 2025", "first_fy = 2025 2027", "not valid TOML"),
]


@pytest.mark.parametrize(("old", "new", "message"), BROKEN)
def test_each_mistake_is_named_by_its_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in SAMPLE
    path = write(tmp_path, SAMPLE.replace(old, new, 1))
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={})
    assert message in str(error.value)


@pytest.mark.parametrize(("old", "new", "message"), BROKEN[:3])
def test_the_cli_exits_2_and_creates_no_database(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = write(tmp_path, SAMPLE.replace(old, new, 1))
    result = CliRunner().invoke(cli, ["--config", str(path), "init", "--sample"])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "var").exists()


def test_a_missing_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["actions"], env={"PDCA_CONFIG": str(tmp_path / "nope.toml")})
    assert result.exit_code == 2
    assert "PDCA_CONFIG" in result.output


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, SAMPLE), env={})
    assert settings.database.url == f"sqlite:///{tmp_path}/var/pdca.sqlite3"
    assert settings.mail.dir == f"{tmp_path}/var/mail"


def test_the_environment_overrides_path_and_database(tmp_path: Path) -> None:
    path = write(tmp_path, SAMPLE)
    settings = load_settings(None, env={"PDCA_CONFIG": str(path), "PDCA_DATABASE_URL": "sqlite:////tmp/x.db"})
    assert settings.database.url == "sqlite:////tmp/x.db"
    assert settings.strategy.code == "biodiversity-2026"


def test_the_secretariat_are_admins() -> None:
    settings = load_settings(CONFIG, env={})
    assert "jimukyoku@city.example.jp" in settings.admins()


def test_a_vice_chair_who_is_the_chair_is_refused(tmp_path: Path) -> None:
    vice = 'vice_chair = "kankyo.kyokucho@city.example.jp"'
    text = SAMPLE.replace(vice, 'vice_chair = "FUKUSHICHOU@city.example.jp"')
    with pytest.raises(ConfigError, match="is also the chair"):
        load_settings(write(tmp_path, text), env={})


def test_a_config_that_is_not_text_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    result = CliRunner().invoke(cli, ["--config", str(path), "actions"])
    assert result.exit_code == 2
    assert "UTF-8" in result.output


def test_a_grade_meaning_must_name_a_grade() -> None:
    from pydantic import ValidationError

    from workflows.directory import StrategyIn

    base = {"code": "s", "name_ja": "戦略", "name_en": "Strategy", "first_fy": 2025, "target_fy": 2030,
            "grades": ["A", "B"]}
    assert StrategyIn(**base, grade_meanings={"A": ("良い", "good")}).grade_meanings["A"] == ("良い", "good")
    with pytest.raises(ValidationError, match="grade_meanings: Z is not one of the grades"):
        StrategyIn(**base, grade_meanings={"Z": ("?", "?")})


HUB = 'sensitive = ["Hynobius tokyoensis", "Cypripedium japonicum", "Pseudobagrus tokiensis"]'


def test_the_hub_s_map_outline_is_read_beside_the_config_and_a_bad_one_is_named(tmp_path: Path) -> None:
    """A deployment draws its public maps on its own city: `[hub] outline`, relative to the
    config file; a file that is missing or draws no city is a config error (exit 2)."""
    from app.bootstrap import Pdca
    from app.web.routes.hub_public import outline
    from engine import db

    town = {"type": "Feature", "properties": {"name_ja": "みなみ町", "name_en": "Minami Town"},
            "geometry": {"type": "Polygon", "coordinates": [[[139.5, 35.6], [139.6, 35.6], [139.6, 35.7],
                                                             [139.5, 35.6]]]}}
    (tmp_path / "town.geojson").write_text(json.dumps(town), encoding="utf-8")
    settings = load_settings(write(tmp_path, SAMPLE.replace(HUB, f'{HUB}\noutline = "town.geojson"')), env={})
    assert settings.hub.outline == str(tmp_path / "town.geojson")
    pdca = Pdca(settings)
    try:
        pdca.migrate()
        pdca.sync()
        with db.reading(pdca.engine) as conn:
            assert outline(pdca.tenants.get(conn, pdca.sync())).name_en == "Minami Town"
    finally:
        pdca.close()

    (tmp_path / "lines.geojson").write_text(json.dumps({**town, "geometry": {
        "type": "LineString", "coordinates": [[139.5, 35.6], [139.6, 35.7]]}}), encoding="utf-8")
    for name, said in (("nowhere.geojson", "does not exist"), ("lines.geojson", "no Polygon")):
        with pytest.raises(ConfigError) as error:
            load_settings(write(tmp_path, SAMPLE.replace(HUB, f'{HUB}\noutline = "{name}"')), env={})
        assert "hub.outline" in str(error.value) and said in str(error.value)
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "config.toml"), "actions"])
    assert result.exit_code == 2 and "hub.outline" in result.output
