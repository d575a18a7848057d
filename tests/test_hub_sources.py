"""Reading observations to import into the hub: an iNaturalist export, a Shift_JIS
いきものログ file, a CSV of Darwin Core terms and a Darwin Core Archive (our own, read back)
come out as the same typed rows; every bad row is named by its row and column, in
Japanese and English, while the good rows still come through."""

from __future__ import annotations

import csv
import io
import re
import string
import zipfile
from datetime import date
from typing import Any

import pytest

from publishing.dwca import Dataset, archive
from words.catalogue import has
from words.hub import HUB_WORDS
from workflows.hub.sources import MAX_BYTES, MAX_ROWS, Parsed, Problem, read_observations

TODAY = date(2026, 6, 1)

# The header of iNaturalist's observation export, column for column as a real export has it
# (ymgan/dwc-dp-examples, organism_interaction/inaturalist/input_data/observations-568611.csv,
# exported 2025-05-11), less the project's own "field:" columns.
INATURALIST_HEADER = [
    "id", "uuid", "observed_on_string", "observed_on", "time_observed_at", "time_zone", "user_id", "user_login",
    "user_name", "created_at", "updated_at", "quality_grade", "license", "url", "image_url", "sound_url",
    "tag_list", "description", "num_identification_agreements", "num_identification_disagreements",
    "captive_cultivated", "oauth_application_id", "place_guess", "latitude", "longitude", "positional_accuracy",
    "private_place_guess", "private_latitude", "private_longitude", "public_positional_accuracy", "geoprivacy",
    "taxon_geoprivacy", "coordinates_obscured", "positioning_method", "positioning_device", "place_town_name",
    "place_county_name", "place_state_name", "place_country_name", "place_admin1_name", "place_admin2_name",
    "species_guess", "scientific_name", "common_name", "iconic_taxon_name", "taxon_id", "taxon_kingdom_name",
    "taxon_phylum_name", "taxon_subphylum_name", "taxon_superclass_name", "taxon_class_name", "taxon_subclass_name",
    "taxon_superorder_name", "taxon_order_name", "taxon_suborder_name", "taxon_superfamily_name",
    "taxon_family_name", "taxon_subfamily_name", "taxon_supertribe_name", "taxon_tribe_name", "taxon_subtribe_name",
    "taxon_genus_name", "taxon_genushybrid_name", "taxon_species_name", "taxon_hybrid_name",
    "taxon_subspecies_name", "taxon_variety_name", "taxon_form_name",
]


def csv_bytes(header: list[str], rows: list[dict[str, Any]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def where(parsed: Parsed) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.key) for p in parsed.problems]


def said_in_both_languages(parsed: Parsed) -> None:
    """Each problem is a catalogue sentence, whole, in Japanese and in English."""
    for p in parsed.problems:
        assert has(p.key), p.key
        ja, en = p.words("ja"), p.words("en")
        assert "{" not in ja + en and re.search("[ぁ-んァ-ン一-龥]", ja), (ja, en)
        if p.row:
            assert ja.startswith(f"{p.row}行目") and en.startswith(f"row {p.row}")


# -- iNaturalist -------------------------------------------------------------------------------------


def observation(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": "204871", "uuid": "5c1b2f0e-9f7a-4d53-a1b8-2e0c6f1d9a11", "observed_on_string": "2025/05/03 7:28",
        "observed_on": "2025-05-03", "time_observed_at": "2025-05-02 22:28:00 UTC", "time_zone": "Osaka",
        "user_id": "77", "user_login": "midori_taro", "user_name": "緑 太郎", "quality_grade": "research",
        "license": "CC-BY-NC", "url": "https://www.inaturalist.org/observations/204871", "captive_cultivated": "false",
        "place_guess": "みどり市 みどり公園", "latitude": "35.612345", "longitude": "139.601234",
        "positional_accuracy": "8", "public_positional_accuracy": "8", "geoprivacy": "",
        "coordinates_obscured": "false",
        "species_guess": "ニホンアカガエル", "scientific_name": "Rana japonica", "common_name": "ニホンアカガエル",
        "iconic_taxon_name": "Amphibia", "taxon_id": "26001",
    }
    row.update(values)
    return row


def test_an_inaturalist_export_becomes_darwin_core() -> None:
    data = csv_bytes(INATURALIST_HEADER, [
        observation(),
        observation(id="204880", url="", user_name="", observed_on="", time_observed_at="2025-05-04 01:10:00 UTC",
                    latitude="35.7", longitude="139.7", positional_accuracy="5", public_positional_accuracy="29039",
                    coordinates_obscured="true", geoprivacy="obscured", quality_grade="needs_id",
                    scientific_name="Ardea alba", common_name="ダイサギ"),
    ])
    parsed = read_observations("observations-1234.csv", data, today=TODAY)
    assert parsed.source == "inaturalist" and parsed.problems == []
    first, second = parsed.rows
    assert first == {
        "occurrenceID": "https://www.inaturalist.org/observations/204871", "basisOfRecord": "HumanObservation",
        "scientificName": "Rana japonica", "vernacularName": "ニホンアカガエル",
        "eventDate": date(2025, 5, 3),  # the local day observed_on gives, not the UTC day of time_observed_at
        "decimalLatitude": 35.612345, "decimalLongitude": 139.601234, "geodeticDatum": "EPSG:4326",
        "coordinateUncertaintyInMeters": 8, "locality": "みどり市 みどり公園", "individualCount": None,
        "occurrenceStatus": "present", "recordedBy": "緑 太郎", "informationWithheld": None,
        "dataGeneralizations": None, "license": "CC-BY-NC", "modified": None, "associatedReferences": None,
        "sourceRow": 2, "sourceId": "204871", "obscured": False, "qualityGrade": "research",
    }
    assert second["occurrenceID"] == "https://www.inaturalist.org/observations/204880"  # made from the id
    assert second["sourceId"] == "204880" and second["recordedBy"] == "midori_taro"  # login when no name
    assert second["eventDate"] == date(2025, 5, 4)  # time_observed_at when observed_on is empty
    assert second["obscured"] is True and second["qualityGrade"] == "needs_id"
    assert second["coordinateUncertaintyInMeters"] == 29039  # the public point's uncertainty, not the private one


def test_an_inaturalist_export_never_reads_the_private_coordinates() -> None:
    data = csv_bytes(INATURALIST_HEADER, [observation(latitude="", longitude="", private_latitude="35.61",
                                                      private_longitude="139.6", coordinates_obscured="true")])
    (row,) = read_observations("observations.csv", data, today=TODAY).rows
    assert row["decimalLatitude"] is None and row["decimalLongitude"] is None and row["geodeticDatum"] is None


# -- いきものログ ------------------------------------------------------------------------------------

IKIMONOLOG_HEADER = ["報告ID", "和名", "学名", "確認日", "緯度", "経度", "確認場所", "確認者", "個体数"]


def test_a_shift_jis_ikimonolog_file_is_read_and_its_bad_row_named() -> None:
    data = csv_bytes(IKIMONOLOG_HEADER, [
        {"報告ID": "IK-0001", "和名": "メダカ", "学名": "Oryzias latipes", "確認日": "2025/6/1", "緯度": "35.61",
         "経度": "139.61", "確認場所": "みどり池（北岸）", "確認者": "髙橋 ①", "個体数": "１２"},
        {"報告ID": "IK-0002", "和名": "ゲンジボタル", "学名": "", "確認日": "2025年6月31日", "緯度": "", "経度": "",
         "確認場所": "", "確認者": "", "個体数": ""},
        {"報告ID": "IK-0003", "和名": "ゲンジボタル", "学名": "", "確認日": "2025年6月30日", "緯度": "", "経度": "",
         "確認場所": "ほたるの里", "確認者": "", "個体数": ""},
    ], encoding="cp932")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    parsed = read_observations("ikilog.csv", data, today=TODAY)
    assert parsed.source == "ikimonolog"
    assert where(parsed) == [(3, "確認日", "hub.date")]
    assert parsed.problems[0].words("ja") == (
        "3行目: 「確認日」の日付「2025年6月31日」を読めません（2025-05-03 の形で書いてください）")
    medaka, hotaru = parsed.rows
    assert (medaka["vernacularName"], medaka["scientificName"], medaka["eventDate"]) == (
        "メダカ", "Oryzias latipes", date(2025, 6, 1))
    assert (medaka["decimalLatitude"], medaka["decimalLongitude"], medaka["individualCount"]) == (35.61, 139.61, 12)
    assert (medaka["locality"], medaka["recordedBy"], medaka["sourceId"]) == ("みどり池（北岸）", "髙橋 ①", "IK-0001")
    assert medaka["basisOfRecord"] == "HumanObservation" and medaka["sourceRow"] == 2
    assert hotaru["eventDate"] == date(2025, 6, 30) and hotaru["sourceRow"] == 4 and hotaru["scientificName"] is None


# -- a CSV of Darwin Core terms -----------------------------------------------------------------------

DWC_HEADER = ["occurrenceID", "basisOfRecord", "scientificName", "vernacularName", "eventDate", "decimalLatitude",
              "decimalLongitude", "coordinateUncertaintyInMeters", "individualCount", "occurrenceStatus", "kingdom"]
GOOD = {"occurrenceID": "midori:1", "basisOfRecord": "HumanObservation", "scientificName": "Rana japonica",
        "vernacularName": "ニホンアカガエル", "eventDate": "2025-03-09T06:30:00+09:00", "decimalLatitude": "35.6",
        "decimalLongitude": "139.6", "coordinateUncertaintyInMeters": "12.5", "individualCount": "3",
        "occurrenceStatus": "present", "kingdom": "Animalia"}


def test_a_darwin_core_csv_with_a_bom_is_read_by_term() -> None:
    data = csv_bytes(DWC_HEADER, [GOOD, {**GOOD, "occurrenceID": "midori:2", "basisOfRecord": "HUMAN_OBSERVATION",
                                         "occurrenceStatus": "Absent", "individualCount": "0"}], encoding="utf-8-sig")
    parsed = read_observations("partner.csv", data, today=TODAY)
    assert parsed.source == "csv" and parsed.problems == []
    first, second = parsed.rows
    assert first["eventDate"] == date(2025, 3, 9) and first["coordinateUncertaintyInMeters"] == 13  # rounded up
    assert (first["decimalLatitude"], first["individualCount"], first["sourceId"]) == (35.6, 3, "midori:1")
    assert "kingdom" not in first
    assert (second["basisOfRecord"], second["occurrenceStatus"], second["individualCount"]) == (
        "HumanObservation", "absent", 0)


BAD_ROWS = [
    pytest.param({"eventDate": ""}, "eventDate", "hub.date_missing", id="no date"),
    pytest.param({"eventDate": "2025-02-30"}, "eventDate", "hub.date", id="not a real day"),
    pytest.param({"eventDate": "2025-05"}, "eventDate", "hub.date", id="a month, not a day"),
    pytest.param({"eventDate": "2025-05-01/2025-05-03"}, "eventDate", "hub.date", id="an interval"),
    pytest.param({"eventDate": "2026-06-02"}, "eventDate", "hub.date_future", id="tomorrow"),
    pytest.param({"decimalLatitude": "90.5"}, "decimalLatitude", "hub.latitude", id="latitude"),
    pytest.param({"decimalLongitude": "-180.01"}, "decimalLongitude", "hub.longitude", id="longitude"),
    pytest.param({"decimalLongitude": "東経139度"}, "decimalLongitude", "hub.number", id="not a number"),
    pytest.param({"decimalLatitude": "nan"}, "decimalLatitude", "hub.number", id="nan"),
    pytest.param({"decimalLongitude": ""}, "decimalLongitude", "hub.coordinates_pair", id="latitude alone"),
    pytest.param({"scientificName": "", "vernacularName": ""}, "scientificName", "hub.name_missing", id="no name"),
    pytest.param({"individualCount": "-1"}, "individualCount", "hub.count", id="negative count"),
    pytest.param({"individualCount": "2.5"}, "individualCount", "hub.count", id="half an animal"),
    pytest.param({"coordinateUncertaintyInMeters": "0"}, "coordinateUncertaintyInMeters", "hub.uncertainty",
                 id="zero uncertainty"),
    pytest.param({"occurrenceStatus": "maybe"}, "occurrenceStatus", "hub.status", id="status"),
    pytest.param({"basisOfRecord": "Photograph"}, "basisOfRecord", "hub.basis", id="basis of record"),
    pytest.param({"occurrenceID": "midori:1"}, "occurrenceID", "hub.duplicate", id="the same record twice"),
]


@pytest.mark.parametrize(("change", "column", "key"), BAD_ROWS)
def test_a_bad_row_is_named_by_its_row_and_column(change: dict[str, str], column: str, key: str) -> None:
    data = csv_bytes(DWC_HEADER, [GOOD, {**GOOD, "occurrenceID": "midori:2", **change}])
    parsed = read_observations("partner.csv", data, today=TODAY)
    assert where(parsed) == [(3, column, key)]
    assert [r["sourceRow"] for r in parsed.rows] == [2]  # the good row still comes through
    said_in_both_languages(parsed)


def test_every_bad_row_is_reported_not_just_the_first() -> None:
    rows = [GOOD,
            {**GOOD, "occurrenceID": "midori:2", "eventDate": "昨日"},
            {**GOOD, "occurrenceID": "midori:3"},
            {**GOOD, "occurrenceID": "midori:4", "decimalLatitude": "135.6", "decimalLongitude": "35.6"},
            {**GOOD, "occurrenceID": "midori:5", "individualCount": "多数", "occurrenceStatus": "seen"}]
    parsed = read_observations("partner.csv", csv_bytes(DWC_HEADER, rows), today=TODAY)
    assert where(parsed) == [(3, "eventDate", "hub.date"), (5, "decimalLatitude", "hub.latitude"),
                             (6, "individualCount", "hub.count"), (6, "occurrenceStatus", "hub.status")]
    assert sorted({p.row for p in parsed.problems}) == [3, 5, 6]
    assert [r["sourceId"] for r in parsed.rows] == ["midori:1", "midori:3"]
    said_in_both_languages(parsed)


def test_today_is_an_input() -> None:
    data = csv_bytes(DWC_HEADER, [{**GOOD, "eventDate": "2026-06-02"}])
    assert where(read_observations("a.csv", data, today=date(2026, 6, 1))) == [(2, "eventDate", "hub.date_future")]
    assert read_observations("a.csv", data, today=date(2026, 6, 2)).problems == []


def test_a_row_with_more_values_than_columns_is_named() -> None:
    data = b"scientificName,eventDate\nRana japonica,2025-05-03\nRana japonica,2025-05-03,35.6\n"
    parsed = read_observations("a.csv", data, today=TODAY)
    assert where(parsed) == [(3, "", "hub.cells")] and len(parsed.rows) == 1
    said_in_both_languages(parsed)


# -- a Darwin Core Archive ----------------------------------------------------------------------------

DATASET = Dataset(title="みどり市の観察記録", title_en="Midori City observations", description="説明",
                  description_en="About", publisher="みどり市 環境政策課", contact_name="山田 花子",
                  contact_email="kankyo@city.midori.example.jp", pub_date=date(2026, 4, 1), version="1.0")


def test_our_own_archive_reads_back_as_the_rows_it_was_made_from() -> None:
    occurrences = [
        {"occurrenceID": "https://city.midori.example.jp/hub/o/1", "basisOfRecord": "HumanObservation",
         "scientificName": "Nipponia nippon", "vernacularName": "トキ", "eventDate": date(2025, 5, 3),
         "decimalLatitude": 35.123456000000004, "decimalLongitude": 139.1 + 0.2, "geodeticDatum": "EPSG:4326",
         "coordinateUncertaintyInMeters": 30, "locality": "みどり川\t河川敷", "individualCount": 2,
         "occurrenceStatus": "present", "recordedBy": "佐藤 一郎"},
        {"occurrenceID": "https://city.midori.example.jp/hub/o/2", "basisOfRecord": "HumanObservation",
         "vernacularName": "ニホンアカガエル", "eventDate": date(2025, 3, 9), "informationWithheld": "位置は非公開"},
    ]
    parsed = read_observations("dwca-midori-v1.0.zip", archive(DATASET, occurrences), today=TODAY)
    assert parsed.source == "dwca" and parsed.problems == []
    toki, frog = parsed.rows
    assert toki == {
        "occurrenceID": "https://city.midori.example.jp/hub/o/1", "basisOfRecord": "HumanObservation",
        "scientificName": "Nipponia nippon", "vernacularName": "トキ", "eventDate": date(2025, 5, 3),
        "decimalLatitude": 35.123456, "decimalLongitude": 139.3, "geodeticDatum": "EPSG:4326",
        "coordinateUncertaintyInMeters": 30, "locality": "みどり川 河川敷", "individualCount": 2,
        "occurrenceStatus": "present", "recordedBy": "佐藤 一郎", "informationWithheld": None,
        "dataGeneralizations": None, "license": DATASET.license, "modified": None, "associatedReferences": None,
        "sourceRow": 2, "sourceId": "https://city.midori.example.jp/hub/o/1", "obscured": False, "qualityGrade": None,
    }
    assert frog["sourceRow"] == 3 and frog["decimalLatitude"] is None and frog["informationWithheld"] == "位置は非公開"


def test_a_bad_row_of_an_archive_is_named_by_its_line() -> None:
    occurrences = [{"occurrenceID": f"o{n}", "scientificName": "Rana japonica", "eventDate": date(2025, 5, n)}
                   for n in (1, 2)] + [{"occurrenceID": "o3", "scientificName": "Rana japonica"}]
    parsed = read_observations("a.zip", archive(DATASET, occurrences), today=TODAY)
    assert where(parsed) == [(4, "eventDate", "hub.date_missing")] and len(parsed.rows) == 2


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def test_an_archive_whose_core_is_not_occurrences_is_refused() -> None:
    meta = ('<archive xmlns="http://rs.tdwg.org/dwc/text/"><core encoding="UTF-8" fieldsTerminatedBy="\\t" '
            'linesTerminatedBy="\\n" fieldsEnclosedBy="" ignoreHeaderLines="1" '
            'rowType="http://rs.tdwg.org/dwc/terms/Taxon"><files><location>taxon.txt</location></files>'
            '<id index="0"/><field index="1" term="http://rs.tdwg.org/dwc/terms/scientificName"/></core></archive>')
    data = zipped({"meta.xml": meta, "taxon.txt": "taxonID\tscientificName\nt1\tRana japonica\n"})
    parsed = read_observations("taxa.zip", data, today=TODAY)
    assert (parsed.source, where(parsed), parsed.rows) == ("dwca", [(0, "", "hub.not_occurrence")], [])
    assert "http://rs.tdwg.org/dwc/terms/Taxon" in parsed.problems[0].words("en")


@pytest.mark.parametrize("data", [
    pytest.param(b"PK\x03\x04 this is no zip", id="not a zip"),
    pytest.param(zipped({"meta.xml": "<archive><core>", "occurrence.txt": ""}), id="broken metafile"),
    pytest.param(zipped({"meta.xml": '<archive><core rowType="http://rs.tdwg.org/dwc/terms/Occurrence"/></archive>'}),
                 id="a core without files"),
])
def test_a_broken_archive_is_a_problem_not_an_exception(data: bytes) -> None:
    parsed = read_observations("broken.zip", data, today=TODAY)
    assert (parsed.source, where(parsed), parsed.rows) == ("dwca", [(0, "", "hub.dwca_unreadable")], [])
    said_in_both_languages(parsed)


# -- the file as a whole ------------------------------------------------------------------------------


def test_limits_are_problems_not_exceptions() -> None:
    too_big = read_observations("big.csv", b"scientificName\n" + b"x" * MAX_BYTES, today=TODAY)
    assert where(too_big) == [(0, "", "hub.too_large")] and too_big.rows == []
    lines = "\n".join(f"Rana japonica,2025-05-03,{n}" for n in range(MAX_ROWS + 1))
    too_many = read_observations("many.csv", f"scientificName,eventDate,occurrenceID\n{lines}\n".encode(),
                                 today=TODAY)
    assert where(too_many) == [(0, "", "hub.too_many_rows")] and too_many.rows == []
    exactly = read_observations("many.csv", b"scientificName,eventDate\n" + b"Rana,2025-05-03\n" * MAX_ROWS,
                                today=TODAY)
    assert exactly.problems == [] and len(exactly.rows) == MAX_ROWS
    said_in_both_languages(too_big)
    said_in_both_languages(too_many)


@pytest.mark.parametrize(("data", "key", "row"), [
    pytest.param(b"scientificName\n\x85\x40\x81\x20", "hub.encoding", 0, id="neither UTF-8 nor Shift_JIS"),
    pytest.param(b"", "hub.empty", 0, id="empty"),
    pytest.param(b"scientificName,eventDate\n", "hub.empty", 0, id="a header alone"),
    pytest.param("名前,日付\nメダカ,2025-05-03\n".encode(), "hub.unknown_format", 1, id="columns we do not know"),
])
def test_a_file_we_cannot_use_says_why(data: bytes, key: str, row: int) -> None:
    parsed = read_observations("upload.csv", data, today=TODAY)
    assert where(parsed) == [(row, "", key)] and parsed.rows == []
    said_in_both_languages(parsed)


def test_the_hub_words_are_in_the_catalogue_in_both_languages() -> None:
    for key, (ja, en) in HUB_WORDS.items():
        assert has(f"hub.{key}") and ja and en
        names = {f for _, f, _, _ in string.Formatter().parse(ja) if f}
        assert names == {f for _, f, _, _ in string.Formatter().parse(en) if f}, key
    assert Problem(3, "確認日", "hub.date", {"value": "昨日"}).words("ja") == (
        "3行目: 「確認日」の日付「昨日」を読めません（2025-05-03 の形で書いてください）")
    assert str(Problem(3, "確認日", "hub.date", {"value": "昨日"})).startswith("row 3: the date “昨日”")
