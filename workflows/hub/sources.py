"""Observations to import into the hub, read from the files partners actually have: a
Darwin Core Archive, an iNaturalist export, an いきものログ export, or any CSV whose columns
are Darwin Core term names. Each row comes out keyed by Darwin Core term, typed and
checked; curation (a person accepting or returning each one) comes after and is not here.

Why rows and problems side by side: a partner's file of 3,000 records with 12 mistakes
should come back with all 12 named by row and column, in Japanese and English, and the
2,988 good rows still readable; whether to import those or nothing is the caller's call.

Where the columns come from:
- iNaturalist: the header of the site's observation export (Export Observations, CSV),
  checked against a real export and its column notes (`observations-568611.csv` and
  `README.txt` in ymgan/dwc-dp-examples, exported 2025-05-11). The export's `latitude` and
  `longitude` are the public coordinates: of an obscured observation a random point in a
  large cell around the real one, so the uncertainty that goes with them is
  `public_positional_accuracy` ("includes uncertainty added by coordinate obscuration"),
  not `positional_accuracy`; `private_latitude`/`private_longitude` are never read.
- いきものログ: NOT checked against the real export (its download format could not be
  found): the columns 報告ID, 和名, 学名, 確認日, 緯度, 経度, 確認場所, 確認者, 個体数 are
  this module's own documented set. Check them against a real file before relying on it.
- Darwin Core: the term names of `publishing.dwca.OCCURRENCE_TERMS` (any case, bare or as
  `dwc:`/`dcterms:` or full URIs); other columns are ignored. In an archive, terms are
  matched by URI, and the core must be Occurrence.

Types of a row's values: text as `str`; `decimalLatitude`/`decimalLongitude` `float`;
`individualCount` and `coordinateUncertaintyInMeters` `int` (an uncertainty is rounded up);
`eventDate` a `datetime.date` - the day observed, as the source wrote it (a time of day and
its zone are dropped; the hub publishes days). iNaturalist's `observed_on` is that local
day; its `time_observed_at` is UTC and is used only when `observed_on` is empty. Every row
also has `sourceRow` (the row as a spreadsheet counts it, the header being row 1),
`sourceId` (the record's id in the source: iNaturalist's observation id, the DwC
`occurrenceID`, いきものログ's 報告ID), `obscured` (iNaturalist's `coordinates_obscured`;
False elsewhere, where `dataGeneralizations` says it) and `qualityGrade` (iNaturalist's
`quality_grade`, else None). Absent terms are None: a Darwin Core file without
basisOfRecord leaves it to curation, and iNaturalist's `license` stays its code (CC-BY-NC,
CC0, ...; empty is "all rights reserved"), for curation to judge what may be published.

Time is an input: "not in the future" is judged against the `today` the caller passes.
"""

from __future__ import annotations

import csv
import io
import math
import re
import tempfile
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from publishing.dwca import DCTERMS, DWC, OCCURRENCE, OCCURRENCE_TERMS, term_uri
from words.catalogue import say

MAX_BYTES = 20 * 1024 * 1024
MAX_MB = MAX_BYTES // (1024 * 1024)
MAX_UNZIPPED = 5 * MAX_BYTES
"""An archive may unpack to five times its limit, and no more: a zip of a few kilobytes
can hold gigabytes."""
MAX_ROWS = 20_000

BASIS_OF_RECORD = (
    "HumanObservation", "MachineObservation", "PreservedSpecimen", "LivingSpecimen", "FossilSpecimen",
    "MaterialSample", "MaterialCitation", "Occurrence",
)
"""Darwin Core's classes for basisOfRecord that GBIF takes for an occurrence."""
OCCURRENCE_STATUS = ("present", "absent")

INATURALIST_MARKS = frozenset({
    "observed_on", "time_observed_at", "quality_grade", "user_login", "positional_accuracy",
    "public_positional_accuracy", "coordinates_obscured", "place_guess", "iconic_taxon_name", "species_guess",
})
"""Columns of iNaturalist's export that no Darwin Core file has: two of them name the source."""
INATURALIST_OBSERVATION = "https://www.inaturalist.org/observations/{id}"

IKIMONOLOG_COLUMNS: dict[str, str] = {
    "vernacularName": "和名", "scientificName": "学名", "eventDate": "確認日", "decimalLatitude": "緯度",
    "decimalLongitude": "経度", "locality": "確認場所", "recordedBy": "確認者", "individualCount": "個体数",
}
"""term -> column of an いきものログ export (not checked against a real one: see above)."""
IKIMONOLOG_ID = "報告ID"

TEXT_TERMS = tuple(t for t in OCCURRENCE_TERMS if t not in {
    "eventDate", "decimalLatitude", "decimalLongitude", "coordinateUncertaintyInMeters", "individualCount",
    "basisOfRecord", "occurrenceStatus",
})

DAY = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?=$|[T\s])")
"""2025-05-03, 2025/5/3, 2025年5月3日, each optionally followed by a time."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong, where a person finds it: `row` as a spreadsheet counts it (the
    header is row 1; 0 is the file as a whole), `column` as the file names it."""

    row: int
    column: str
    key: str
    """a catalogue key, hub.*"""
    params: Mapping[str, Any] = field(default_factory=dict)

    def words(self, language: str) -> str:
        """The problem as a sentence in the person's language."""
        return say(self.key, language, row=self.row, column=self.column, **self.params)

    def __str__(self) -> str:
        return self.words("en")


@dataclass(frozen=True)
class Parsed:
    source: str
    """dwca | inaturalist | ikimonolog | csv"""
    rows: list[dict[str, Any]]
    """the good rows, by Darwin Core term (see the module's notes for their types)"""
    problems: list[Problem]
    """every problem found, in file order; a row with any is not among `rows`"""


@dataclass(frozen=True)
class Cell:
    """What the source said for one term, and under which column (\"\" for a value the
    source implies, such as iNaturalist's HumanObservation)."""

    column: str
    text: str


@dataclass
class Raw:
    """One source row before checking: its cells by term, and what only its source knows."""

    number: int
    cells: dict[str, Cell]
    source_id: str | None = None
    id_column: str = ""
    extras: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    """found while reading it (more values than columns)"""


def read_observations(filename: str, data: bytes, *, today: date) -> Parsed:
    """The observations in a file, typed by Darwin Core term, with every problem found."""
    source = "dwca" if is_zip(data) else "csv"
    if len(data) > MAX_BYTES:
        return Parsed(source, [], [file_problem("hub.too_large", filename, limit=MAX_MB)])
    if source == "dwca":
        raws, problems = read_archive(filename, data)
    else:
        source, raws, problems = read_csv(filename, data)
    if problems:
        return Parsed(source, [], problems)
    if len(raws) > MAX_ROWS:
        return Parsed(source, [], [file_problem("hub.too_many_rows", filename, limit=MAX_ROWS)])
    if not raws:
        return Parsed(source, [], [file_problem("hub.empty", filename)])
    rows, problems = check_rows(raws, today)
    return Parsed(source, rows, problems)


def is_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def file_problem(key: str, filename: str, **params: Any) -> Problem:
    return Problem(0, "", key, {"file": filename, **params})


# -- a Darwin Core Archive -----------------------------------------------------------------------


def read_archive(filename: str, data: bytes) -> tuple[list[Raw], list[Problem]]:
    """The core rows of an Occurrence archive, by term URI; python-dwca-reader reads it
    (it wants a path: the bytes go to a temporary folder, removed afterwards)."""
    # imported here, not at the top: only an archive needs it, and reading CSV must not
    from dwca.exceptions import InvalidArchive, InvalidSimpleArchive
    from dwca.read import DwCAReader

    unreadable = [file_problem("hub.dwca_unreadable", filename)]
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            unzipped = sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile:
        return [], unreadable
    if unzipped > MAX_UNZIPPED:
        return [], [file_problem("hub.too_large", filename, limit=MAX_MB)]
    with tempfile.TemporaryDirectory(prefix="pdca-dwca-") as folder:
        path = Path(folder) / "archive.zip"
        path.write_bytes(data)
        try:
            with DwCAReader(str(path), skip_metadata=True) as reader:
                if reader.descriptor is None:
                    return [], unreadable
                row_type = reader.descriptor.core.type
                if row_type != OCCURRENCE:
                    return [], [file_problem("hub.not_occurrence", filename, value=row_type or "")]
                header_lines = reader.core_file.file_descriptor.lines_to_ignore
                raws = []
                for core_row in reader:
                    if len(raws) > MAX_ROWS:
                        break
                    raws.append(archive_row(core_row.position + header_lines + 1, core_row.id, core_row.data))
                return raws, []
        except (InvalidArchive, InvalidSimpleArchive, ET.ParseError, zipfile.BadZipFile, OSError, LookupError,
                ValueError, AttributeError, IndexError, TypeError):
            # python-dwca-reader meets a broken archive with whichever of these its parsing
            # runs into (a metafile without <core> or <id> is an AttributeError)
            return [], unreadable


def archive_row(number: int, core_id: str | None, data: Mapping[str, str]) -> Raw:
    cells = {term: Cell(term, (data.get(term_uri(term)) or "").strip()) for term in OCCURRENCE_TERMS
             if term_uri(term) in data}
    if not (cells.get("occurrenceID") and cells["occurrenceID"].text) and core_id:
        cells["occurrenceID"] = Cell("occurrenceID", core_id.strip())
    source_id = cells["occurrenceID"].text if "occurrenceID" in cells else None
    return Raw(number, cells, source_id or None, "occurrenceID")


# -- CSV files -----------------------------------------------------------------------------------


def read_csv(filename: str, data: bytes) -> tuple[str, list[Raw], list[Problem]]:
    """(source, rows, problems) of a CSV file: decoded, split, its source recognised by
    its header, each row turned into cells by term."""
    text = decode(data)
    if text is None:
        return "csv", [], [file_problem("hub.encoding", filename)]
    try:
        records = table(text)
    except csv.Error:
        return "csv", [], [file_problem("hub.unreadable", filename)]
    if not records:
        return "csv", [], [file_problem("hub.empty", filename)]
    (_, header), body = records[0], records[1:]
    source = recognise(header)
    if not source:
        return "csv", [], [Problem(1, "", "hub.unknown_format")]
    mapper = MAPPERS[source]
    raws: list[Raw] = []
    for number, values in body:
        if len(raws) > MAX_ROWS:
            break
        raw = mapper(number, dict(zip(header, values, strict=False)))
        if any(values[len(header):]):
            raw.problems.append(Problem(number, "", "hub.cells", {"count": len(values), "columns": len(header)}))
        raws.append(raw)
    return source, raws, []


def decode(data: bytes) -> str | None:
    """UTF-8 (with or without the BOM Excel writes), else Shift_JIS as Windows writes it."""
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def table(text: str) -> list[tuple[int, list[str]]]:
    """(row number, cells) of each non-empty row; a cell spanning lines is one row, as in a
    spreadsheet. Tab-separated if the header has more tabs than commas."""
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    rows = []
    for number, record in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
        cells = [c.strip() for c in record]
        if any(cells):
            rows.append((number, cells))
    return rows


def recognise(header: list[str]) -> str:
    """Which source wrote this header ("" if none we know)."""
    names = set(header)
    if len(names & INATURALIST_MARKS) >= 2:
        return "inaturalist"
    if names & {IKIMONOLOG_COLUMNS["vernacularName"], IKIMONOLOG_COLUMNS["scientificName"]} and (
            IKIMONOLOG_COLUMNS["eventDate"] in names):
        return "ikimonolog"
    if any(dwc_term(h) for h in header):
        return "csv"
    return ""


TERMS_BY_LOWER = {t.lower(): t for t in OCCURRENCE_TERMS}


def dwc_term(column: str) -> str | None:
    """The Darwin Core term a column names: eventDate, eventdate, dwc:eventDate or its URI."""
    name = column.strip()
    for prefix in (DWC, DCTERMS, "dwc:", "dcterms:"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    return TERMS_BY_LOWER.get(name.lower())


def first(record: Mapping[str, str], *columns: str) -> Cell | None:
    """The first of these columns that has a value, or the first that exists (empty)."""
    present = [c for c in columns if c in record]
    for column in present:
        if record[column]:
            return Cell(column, record[column])
    return Cell(present[0], "") if present else None


def keep(cells: dict[str, Cell | None]) -> dict[str, Cell]:
    return {term: cell for term, cell in cells.items() if cell is not None}


def inaturalist_row(number: int, record: Mapping[str, str]) -> Raw:
    """iNaturalist's columns as Darwin Core terms; an observation is a HumanObservation of
    something present, in WGS84."""
    observation = record.get("id", "")
    url = record.get("url", "") or (INATURALIST_OBSERVATION.format(id=observation) if observation else "")
    located = bool(record.get("latitude") or record.get("longitude"))
    cells = keep({
        "occurrenceID": Cell("url" if record.get("url") else "id", url) if url else None,
        "basisOfRecord": Cell("", "HumanObservation"),
        "scientificName": first(record, "scientific_name"),
        "vernacularName": first(record, "common_name"),
        "eventDate": first(record, "observed_on", "time_observed_at"),
        "decimalLatitude": first(record, "latitude"),
        "decimalLongitude": first(record, "longitude"),
        "geodeticDatum": Cell("", "EPSG:4326") if located else None,
        "coordinateUncertaintyInMeters": first(record, "public_positional_accuracy", "positional_accuracy"),
        "locality": first(record, "place_guess"),
        "occurrenceStatus": Cell("", "present"),
        "recordedBy": first(record, "user_name", "user_login"),
        "license": first(record, "license"),
    })
    extras = {
        "obscured": record.get("coordinates_obscured", "").strip().lower() == "true",
        "qualityGrade": record.get("quality_grade") or None,
    }
    return Raw(number, cells, observation or url or None, "id" if observation else "url", extras)


def ikimonolog_row(number: int, record: Mapping[str, str]) -> Raw:
    """いきものログ's columns as Darwin Core terms (the column set is this module's own)."""
    cells = keep({term: first(record, column) for term, column in IKIMONOLOG_COLUMNS.items()})
    cells["basisOfRecord"] = Cell("", "HumanObservation")
    cells["occurrenceStatus"] = Cell("", "present")
    return Raw(number, cells, record.get(IKIMONOLOG_ID) or None, IKIMONOLOG_ID)


def darwin_core_row(number: int, record: Mapping[str, str]) -> Raw:
    """A CSV whose columns are term names: each known term as it is, the rest ignored."""
    cells: dict[str, Cell] = {}
    for column, value in record.items():
        term = dwc_term(column)
        if term and term not in cells:
            cells[term] = Cell(column, value)
    id_cell = cells.get("occurrenceID")
    return Raw(number, cells, (id_cell.text if id_cell else "") or None, id_cell.column if id_cell else "")


MAPPERS: dict[str, Callable[[int, Mapping[str, str]], Raw]] = {
    "inaturalist": inaturalist_row, "ikimonolog": ikimonolog_row, "csv": darwin_core_row,
}


# -- checking a row ------------------------------------------------------------------------------


def check_rows(raws: Iterable[Raw], today: date) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The good rows, typed, and every problem of the bad ones (a record given twice too)."""
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for raw in raws:
        row, found = check_row(raw, today)
        if raw.source_id is not None:
            if raw.source_id in seen:
                found.append(Problem(raw.number, raw.id_column, "hub.duplicate",
                                     {"value": raw.source_id, "first": seen[raw.source_id]}))
            else:
                seen[raw.source_id] = raw.number
        problems += found
        if not found:
            rows.append(row)
    return rows, problems


def check_row(raw: Raw, today: date) -> tuple[dict[str, Any], list[Problem]]:
    """One row typed by term, and what is wrong with it."""
    problems = list(raw.problems)
    row: dict[str, Any] = dict.fromkeys(OCCURRENCE_TERMS)
    for term in TEXT_TERMS:
        if term in raw.cells:
            row[term] = raw.cells[term].text.strip() or None
    row["eventDate"] = event_date(raw, today, problems)
    row["decimalLatitude"], row["decimalLongitude"] = coordinates(raw, problems)
    row["coordinateUncertaintyInMeters"] = uncertainty(raw, problems)
    row["individualCount"] = individual_count(raw, problems)
    row["basisOfRecord"] = basis_of_record(raw, problems)
    row["occurrenceStatus"] = occurrence_status(raw, problems)
    if not (row["scientificName"] or row["vernacularName"]):
        column = raw.cells.get("scientificName") or raw.cells.get("vernacularName")
        problems.append(Problem(raw.number, column.column if column else "", "hub.name_missing"))
    row.update({"sourceRow": raw.number, "sourceId": raw.source_id, "obscured": False, "qualityGrade": None})
    row.update(raw.extras)
    return row, problems


def value_of(raw: Raw, term: str) -> tuple[str, str]:
    """(column, text) of a term; text normalised (full-width digits become ASCII)."""
    cell = raw.cells.get(term)
    if cell is None:
        return term, ""
    return cell.column, unicodedata.normalize("NFKC", cell.text).strip()


def problem(raw: Raw, column: str, key: str, **params: Any) -> Problem:
    return Problem(raw.number, column, key, params)


def event_date(raw: Raw, today: date, problems: list[Problem]) -> date | None:
    column, text = value_of(raw, "eventDate")
    if not text:
        problems.append(problem(raw, column, "hub.date_missing"))
        return None
    day = parse_day(text)
    if day is None:
        problems.append(problem(raw, column, "hub.date", value=text))
    elif day > today:
        problems.append(problem(raw, column, "hub.date_future", value=text, today=today.isoformat()))
    return day


def parse_day(text: str) -> date | None:
    """The day of a date as written, with or without a time after it; None if not a real day
    (an interval such as 2025-05-01/2025-05-03, or a month alone, is not one day)."""
    match = DAY.match(text)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def parse_number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def coordinates(raw: Raw, problems: list[Problem]) -> tuple[float | None, float | None]:
    """Latitude and longitude, both or neither, each within its range."""
    (lat_column, lat_text), (lon_column, lon_text) = value_of(raw, "decimalLatitude"), value_of(raw, "decimalLongitude")
    if not lat_text and not lon_text:
        return None, None
    if not lat_text or not lon_text:
        problems.append(problem(raw, lat_column if not lat_text else lon_column, "hub.coordinates_pair"))
        return None, None
    found = len(problems)
    latitude = ranged(raw, lat_column, lat_text, 90, "hub.latitude", problems)
    longitude = ranged(raw, lon_column, lon_text, 180, "hub.longitude", problems)
    return (latitude, longitude) if len(problems) == found else (None, None)


def ranged(raw: Raw, column: str, text: str, limit: float, key: str, problems: list[Problem]) -> float | None:
    number = parse_number(text)
    if number is None:
        problems.append(problem(raw, column, "hub.number", value=text))
    elif not -limit <= number <= limit:
        problems.append(problem(raw, column, key, value=text))
        return None
    return number


def uncertainty(raw: Raw, problems: list[Problem]) -> int | None:
    """Metres above zero (Darwin Core: zero is not an uncertainty), rounded up: a circle is
    never drawn smaller than the source said."""
    column, text = value_of(raw, "coordinateUncertaintyInMeters")
    if not text:
        return None
    number = parse_number(text)
    if number is None or number <= 0:
        problems.append(problem(raw, column, "hub.uncertainty", value=text))
        return None
    return math.ceil(number)


def individual_count(raw: Raw, problems: list[Problem]) -> int | None:
    column, text = value_of(raw, "individualCount")
    if not text:
        return None
    number = parse_number(text)
    if number is None or number < 0 or not number.is_integer():
        problems.append(problem(raw, column, "hub.count", value=text))
        return None
    return int(number)


BASIS_BY_KEY = {b.lower(): b for b in BASIS_OF_RECORD}


def basis_of_record(raw: Raw, problems: list[Problem]) -> str | None:
    """One of Darwin Core's classes, as Darwin Core spells it (GBIF's HUMAN_OBSERVATION too)."""
    column, text = value_of(raw, "basisOfRecord")
    if not text:
        return None
    basis = BASIS_BY_KEY.get(text.replace("_", "").replace(" ", "").lower())
    if basis is None:
        problems.append(problem(raw, column, "hub.basis", value=text, allowed=", ".join(BASIS_OF_RECORD)))
    return basis


def occurrence_status(raw: Raw, problems: list[Problem]) -> str | None:
    column, text = value_of(raw, "occurrenceStatus")
    if not text:
        return None
    if text.lower() not in OCCURRENCE_STATUS:
        problems.append(problem(raw, column, "hub.status", value=text))
        return None
    return text.lower()


__all__ = ["MAX_BYTES", "MAX_ROWS", "Parsed", "Problem", "read_observations"]
