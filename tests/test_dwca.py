"""The hub's Darwin Core Archive, read back by an independent reader (python-dwca-reader):
every value comes back under its term's URI, hostile text neither breaks a row nor the XML,
the metafile declares exactly the terms we publish, and the same input gives the same bytes."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from dwca.read import DwCAReader

from publishing.dwca import CC_BY, OCCURRENCE, OCCURRENCE_TERMS, Dataset, archive, term_uri

# The URI of each term we publish, as the "Identifier" row of its entry in the Darwin Core
# Quick Reference Guide gives it (tdwg/dwc, docs/terms/index.md, checked at commit 4f1cb23 of
# 2026-08-15; the Text Guide, docs/text/index.md, names http://purl.org/dc/terms/modified as
# the form of a Dublin Core term in a metafile). Kept by hand, not derived from the code.
KNOWN_TERM_URIS = frozenset({
    "http://rs.tdwg.org/dwc/terms/occurrenceID",
    "http://rs.tdwg.org/dwc/terms/basisOfRecord",
    "http://rs.tdwg.org/dwc/terms/scientificName",
    "http://rs.tdwg.org/dwc/terms/vernacularName",
    "http://rs.tdwg.org/dwc/terms/eventDate",
    "http://rs.tdwg.org/dwc/terms/decimalLatitude",
    "http://rs.tdwg.org/dwc/terms/decimalLongitude",
    "http://rs.tdwg.org/dwc/terms/geodeticDatum",
    "http://rs.tdwg.org/dwc/terms/coordinateUncertaintyInMeters",
    "http://rs.tdwg.org/dwc/terms/locality",
    "http://rs.tdwg.org/dwc/terms/individualCount",
    "http://rs.tdwg.org/dwc/terms/occurrenceStatus",
    "http://rs.tdwg.org/dwc/terms/recordedBy",
    "http://rs.tdwg.org/dwc/terms/informationWithheld",
    "http://rs.tdwg.org/dwc/terms/dataGeneralizations",
    "http://rs.tdwg.org/dwc/terms/associatedReferences",
    "http://purl.org/dc/terms/license",
    "http://purl.org/dc/terms/modified",
})

HOSTILE = "池の\tほとり\n<script>alert('x')</script> & \"quoted\"\r\nend\x00\x07 🐸"
HOSTILE_READ = "池の ほとり <script>alert('x')</script> & \"quoted\"  end 🐸"

DATASET = Dataset(
    title="みどり市 生きもの情報拠点の観察記録 <script>&\"'\x01🐸",
    title_en="Midori City biodiversity hub: observations",
    description="市民と協力団体が報告し、市が確認した観察記録です。",
    description_en="Observations reported by residents and partners and checked by the city.",
    publisher="みどり市 環境政策課",
    contact_name="山田 花子",
    contact_email="kankyo@city.midori.example.jp",
    pub_date=date(2026, 4, 1),
    version="1.2",
    bbox=(139.45, 139.72, 35.51, 35.68),
    identifier="https://city.midori.example.jp/hub/dataset",
    area="みどり市全域",
)

OCCURRENCES: list[dict[str, Any]] = [
    {
        "occurrenceID": "https://city.midori.example.jp/hub/o/1", "basisOfRecord": "HumanObservation",
        "scientificName": "Nipponia nippon", "vernacularName": "トキ", "eventDate": date(2025, 5, 3),
        "decimalLatitude": 35.123456000000004, "decimalLongitude": 139.1 + 0.2, "geodeticDatum": "EPSG:4326",
        "coordinateUncertaintyInMeters": 30, "locality": "みどり川 河川敷", "individualCount": 2,
        "occurrenceStatus": "present", "recordedBy": "佐藤 一郎", "modified": date(2026, 3, 1),
        "associatedReferences": "https://city.midori.example.jp/hub/o/1",
        "sourceRow": 2, "obscured": False,  # not terms: left out of the archive
    },
    {
        "occurrenceID": "https://city.midori.example.jp/hub/o/2", "basisOfRecord": "HumanObservation",
        "scientificName": None, "vernacularName": "ニホンアカガエル", "eventDate": "2025-03-09",
        "decimalLatitude": None, "decimalLongitude": None, "locality": HOSTILE, "individualCount": None,
        "coordinateUncertaintyInMeters": 0.1 + 0.2, "informationWithheld": "位置は非公開",
        "license": "http://creativecommons.org/publicdomain/zero/1.0/legalcode",
    },
    {"occurrenceID": "https://city.midori.example.jp/hub/o/3", "scientificName": "Oryzias latipes",
     "decimalLatitude": -0.00000001, "decimalLongitude": 139.7, "dataGeneralizations": "1km四方に丸めた"},
]

EXPECTED = [
    {
        "occurrenceID": "https://city.midori.example.jp/hub/o/1", "basisOfRecord": "HumanObservation",
        "scientificName": "Nipponia nippon", "vernacularName": "トキ", "eventDate": "2025-05-03",
        "decimalLatitude": "35.123456", "decimalLongitude": "139.3", "geodeticDatum": "EPSG:4326",
        "coordinateUncertaintyInMeters": "30", "locality": "みどり川 河川敷", "individualCount": "2",
        "occurrenceStatus": "present", "recordedBy": "佐藤 一郎", "informationWithheld": "",
        "dataGeneralizations": "", "license": CC_BY, "modified": "2026-03-01",
        "associatedReferences": "https://city.midori.example.jp/hub/o/1",
    },
    {
        "occurrenceID": "https://city.midori.example.jp/hub/o/2", "basisOfRecord": "HumanObservation",
        "scientificName": "", "vernacularName": "ニホンアカガエル", "eventDate": "2025-03-09",
        "decimalLatitude": "", "decimalLongitude": "", "geodeticDatum": "", "coordinateUncertaintyInMeters": "0.3",
        "locality": HOSTILE_READ, "individualCount": "", "occurrenceStatus": "", "recordedBy": "",
        "informationWithheld": "位置は非公開", "dataGeneralizations": "",
        "license": "http://creativecommons.org/publicdomain/zero/1.0/legalcode", "modified": "",
        "associatedReferences": "",
    },
    {
        "occurrenceID": "https://city.midori.example.jp/hub/o/3", "basisOfRecord": "",
        "scientificName": "Oryzias latipes",
        "vernacularName": "", "eventDate": "", "decimalLatitude": "0", "decimalLongitude": "139.7", "geodeticDatum": "",
        "coordinateUncertaintyInMeters": "", "locality": "", "individualCount": "", "occurrenceStatus": "",
        "recordedBy": "", "informationWithheld": "", "dataGeneralizations": "1km四方に丸めた", "license": CC_BY,
        "modified": "", "associatedReferences": "",
    },
]


@pytest.fixture()
def written(tmp_path: Path) -> Path:
    path = tmp_path / "dwca-midori-v1.2.zip"
    path.write_bytes(archive(DATASET, OCCURRENCES))
    return path


def test_every_value_comes_back_under_its_terms_uri(written: Path) -> None:
    with DwCAReader(str(written)) as reader:
        assert reader.descriptor is not None and reader.descriptor.core.type == OCCURRENCE
        rows = list(reader)
    assert len(rows) == len(EXPECTED)
    for row, expected in zip(rows, EXPECTED, strict=True):
        assert row.id == expected["occurrenceID"]
        assert row.data == {term_uri(term): value for term, value in expected.items()}


def test_a_hostile_value_stays_one_field_of_one_line(written: Path) -> None:
    with zipfile.ZipFile(written) as zf:
        lines = zf.read("occurrence.txt").decode("utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == len(OCCURRENCES) + 2
    assert lines[0].split("\t") == list(OCCURRENCE_TERMS)
    assert all(len(line.split("\t")) == len(OCCURRENCE_TERMS) for line in lines[:-1])
    assert "\r" not in "".join(lines) and "\x00" not in "".join(lines)


def test_the_metafile_declares_exactly_the_terms_we_publish(written: Path) -> None:
    with zipfile.ZipFile(written) as zf:
        meta = ET.fromstring(zf.read("meta.xml"))
    ns = {"t": "http://rs.tdwg.org/dwc/text/"}
    assert meta.tag == "{http://rs.tdwg.org/dwc/text/}archive" and meta.get("metadata") == "eml.xml"
    core = meta.find("t:core", ns)
    assert core is not None
    assert {k: core.get(k) for k in ("rowType", "encoding", "fieldsTerminatedBy", "linesTerminatedBy",
                                     "fieldsEnclosedBy", "ignoreHeaderLines")} == {
        "rowType": "http://rs.tdwg.org/dwc/terms/Occurrence", "encoding": "UTF-8", "fieldsTerminatedBy": "\\t",
        "linesTerminatedBy": "\\n", "fieldsEnclosedBy": "", "ignoreHeaderLines": "1"}
    assert core.findtext("t:files/t:location", namespaces=ns) == "occurrence.txt"
    core_id = core.find("t:id", ns)
    assert core_id is not None and core_id.get("index") == "0"
    fields = [(f.get("index"), f.get("term")) for f in core.findall("t:field", ns)]
    assert fields == [(str(i), term_uri(t)) for i, t in enumerate(OCCURRENCE_TERMS)]
    assert OCCURRENCE_TERMS[0] == "occurrenceID" and len(set(OCCURRENCE_TERMS)) == len(OCCURRENCE_TERMS)
    assert {uri for _, uri in fields} == KNOWN_TERM_URIS


def test_the_metadata_names_the_dataset_in_both_languages(written: Path) -> None:
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    with DwCAReader(str(written)) as reader:
        eml = reader.metadata
    assert eml is not None and eml.tag == "{eml://ecoinformatics.org/eml-2.1.1}eml"
    assert eml.get("packageId") == "https://city.midori.example.jp/hub/dataset/v1.2"
    assert eml.get("system") == "http://gbif.org" and eml.get(lang) == "ja"
    titles = {t.get(lang): t.text for t in eml.findall("dataset/title")}
    assert titles == {"ja": "みどり市 生きもの情報拠点の観察記録 <script>&\"'🐸",  # \x01 cannot be XML: dropped
                      "en": "Midori City biodiversity hub: observations"}
    dataset = eml.find("dataset")
    assert dataset is not None
    for party in ("creator", "metadataProvider", "contact"):
        assert dataset.findtext(f"{party}/organizationName") == "みどり市 環境政策課"
        assert dataset.findtext(f"{party}/electronicMailAddress") == "kankyo@city.midori.example.jp"
    assert dataset.findtext("contact/individualName/surName") == "山田 花子"
    assert dataset.findtext("pubDate") == "2026-04-01" and dataset.findtext("language") == "ja"
    assert [p.text for p in dataset.findall("abstract/para")] == [DATASET.description, DATASET.description_en]
    link = dataset.find("intellectualRights/para/ulink")
    assert link is not None and link.get("url") == CC_BY
    assert link.findtext("citetitle") == "Creative Commons Attribution (CC-BY) 4.0 License"
    box = dataset.find("coverage/geographicCoverage/boundingCoordinates")
    assert box is not None
    assert [box.findtext(f"{side}BoundingCoordinate") for side in ("west", "east", "south", "north")] == [
        "139.45", "139.72", "35.51", "35.68"]
    assert dataset.findtext("coverage/geographicCoverage/geographicDescription") == "みどり市全域"
    order = [child.tag for child in dataset]
    assert order == ["alternateIdentifier", "title", "title", "creator", "metadataProvider", "pubDate", "language",
                     "abstract", "intellectualRights", "distribution", "coverage", "contact"]  # EML's schema order


def test_without_a_bounding_box_there_is_no_coverage() -> None:
    plain = Dataset(title="t", title_en="t", description="d", description_en="d", publisher="p",
                    contact_name="c", contact_email="c@example.jp", pub_date=date(2026, 4, 1), version="1.0")
    with zipfile.ZipFile(io.BytesIO(archive(plain, []))) as zf:
        eml = ET.fromstring(zf.read("eml.xml"))
        assert zf.read("occurrence.txt").decode("utf-8") == "\t".join(OCCURRENCE_TERMS) + "\n"
    assert eml.find("dataset/coverage") is None and eml.find("dataset/alternateIdentifier") is None
    assert eml.get("packageId", "").endswith("/v1.0")


def test_the_same_input_gives_the_same_bytes() -> None:
    first = archive(DATASET, OCCURRENCES)
    assert archive(DATASET, iter(OCCURRENCES)) == first
    with zipfile.ZipFile(io.BytesIO(first)) as zf:
        assert [i.filename for i in zf.infolist()] == ["meta.xml", "eml.xml", "occurrence.txt"]
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_a_bounding_box_upside_down_is_refused() -> None:
    with pytest.raises(ValueError):
        Dataset(title="t", title_en="t", description="d", description_en="d", publisher="p", contact_name="c",
                contact_email="c@example.jp", pub_date=date(2026, 4, 1), version="1.0", bbox=(139.0, 140.0, 36.0, 35.0))
