"""Observations imported from an iNaturalist export go through the hub's curation like what
partners send on the web: `pdca hub import` sends each row, a curator accepts it; a file
with a bad row imports nothing and names every problem by its row in Japanese; importing
the same export again adds only what is new."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import cli
from engine import db
from tests.conftest import CONFIG, Year
from tests.test_hub_sources import INATURALIST_HEADER, csv_bytes, observation
from workflows import service
from workflows.models import HubItem

CURATOR = "museum@city.example.jp"
PARTNER = "npo.tombo@example.org"


def run(url: str, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args), env={"PDCA_CONFIG": str(CONFIG), "PDCA_DATABASE_URL": url})
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def items(year: Year) -> list[Any]:
    with db.reading(year.engine) as conn:
        return list(conn.execute(select(HubItem.__table__).order_by(HubItem.id)).mappings())  # type: ignore[attr-defined]


def export(tmp_path: Path, rows: list[dict[str, Any]], name: str = "observations-1.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(csv_bytes(INATURALIST_HEADER, rows))
    return path


def test_an_inaturalist_export_is_curated_like_a_partner_s_observations(database_url: str, tmp_path: Path) -> None:
    year = Year(database_url)
    frog = observation()
    kingfisher = observation(id="204872", url="https://www.inaturalist.org/observations/204872",
                             scientific_name="Alcedo atthis", common_name="カワセミ", place_guess="緑川",
                             coordinates_obscured="true", quality_grade="needs_id")
    path = export(tmp_path, [frog, kingfisher])
    done = json.loads(run(database_url, "hub", "import", str(path), "--as", PARTNER, "--json"))
    assert done["source"] == "inaturalist" and len(done["sent"]) == 2 and done["already"] == []
    first, second = items(year)
    assert (first["state"], first["source"], first["basis_of_record"], first["vernacular_name"]) == (
        "submitted", "inaturalist", "HumanObservation", "ニホンアカガエル")
    assert first["source_id"] == "204871"  # iNaturalist's observation id
    assert second["extra"] == {"obscured": True, "qualityGrade": "needs_id"}  # the curator sees it

    again = run(database_url, "--lang", "ja", "hub", "import", str(export(tmp_path, [frog, kingfisher, observation(
        id="204873", url="https://www.inaturalist.org/observations/204873")], "observations-2.csv")), "--as", PARTNER)
    assert "1件の観察記録を取り込みました" in again and "2件は以前に取り込み済み" in again
    assert len(items(year)) == 3

    with db.writing(year.engine) as conn:
        workflow = year.pdca.registry["hub_item"].workflow
        for step in ("take", "accept"):
            workflow.fire_in(conn, first["id"], step, service.actor_for(conn, CURATOR), {}, now=first["sent_at"])
    assert items(year)[0]["state"] == "accepted"
    year.close()


def test_a_file_with_bad_rows_imports_nothing_and_names_each_row(database_url: str, tmp_path: Path) -> None:
    year = Year(database_url)
    path = export(tmp_path, [observation(), observation(id="2", url="u2", observed_on="2025-13-40",
                                                          time_observed_at=""),
                             observation(id="3", url="u3", place_guess="")])
    refused = run(database_url, "--lang", "ja", "hub", "import", str(path), "--as", PARTNER, code=1)
    assert "何も取り込みませんでした" in refused
    assert "3行目" in refused and "4行目: 場所の名前" in refused, refused
    assert items(year) == []
    outsider = run(database_url, "hub", "import", str(export(tmp_path, [observation()])), "--as",
                   "nourin@city.example.jp", code=1)
    assert "wrong_role" in outsider and items(year) == []
    year.close()
