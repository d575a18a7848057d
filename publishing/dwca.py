"""The hub's accepted observations as a Darwin Core Archive (DwC-A): the zip that GBIF's IPT
and GBIF itself read, so the city's records can travel beyond the city's own pages.

An archive is three files: `meta.xml` says which column holds which Darwin Core term
(Darwin Core Text Guide, https://dwc.tdwg.org/text/), `occurrence.txt` holds one
tab-separated line per occurrence, and `eml.xml` describes the dataset in EML 2.1.1 with
the GBIF metadata profile 1.1, in the shape IPT 2.x writes it (the element order EML's
schema demands; the licence as a `ulink`, which is where GBIF looks for it).

Pure: no database, no clock, no files. The same input gives the same bytes (fixed zip
timestamps and attributes, rows and columns in the order given), so a published version
can be checked by its hash and a republication that changed nothing is recognisable.
"""

from __future__ import annotations

import io
import math
import re
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

DWC = "http://rs.tdwg.org/dwc/terms/"
DCTERMS = "http://purl.org/dc/terms/"
OCCURRENCE = DWC + "Occurrence"
TEXT_NS = "http://rs.tdwg.org/dwc/text/"
EML_NS = "eml://ecoinformatics.org/eml-2.1.1"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"
EML_SCHEMA = f"{EML_NS} http://rs.gbif.org/schema/eml-gbif-profile/1.1/eml.xsd"
CC_BY = "http://creativecommons.org/licenses/by/4.0/legalcode"

OCCURRENCE_TERMS: tuple[str, ...] = (
    "occurrenceID", "basisOfRecord", "scientificName", "vernacularName", "eventDate", "decimalLatitude",
    "decimalLongitude", "geodeticDatum", "coordinateUncertaintyInMeters", "locality", "individualCount",
    "occurrenceStatus", "recordedBy", "informationWithheld", "dataGeneralizations", "license", "modified",
    "associatedReferences",
)
"""The columns of `occurrence.txt`, in order; `occurrenceID` first, as the core's id."""

DCTERMS_TERMS = frozenset({"license", "modified"})
COORDINATES = frozenset({"decimalLatitude", "decimalLongitude"})
COORDINATE_DECIMALS = 6
"""Six decimals of a degree are about 0.1 m: finer says nothing true about a field record."""

LICENSE_TITLES = {
    "http://creativecommons.org/publicdomain/zero/1.0/legalcode": "Creative Commons Public Domain (CC0 1.0) Waiver",
    CC_BY: "Creative Commons Attribution (CC-BY) 4.0 License",
    "http://creativecommons.org/licenses/by-nc/4.0/legalcode":
        "Creative Commons Attribution Non Commercial (CC-BY-NC) 4.0 License",
}
"""The three licences GBIF accepts, named as IPT names them in `intellectualRights`."""

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
"""The earliest time a zip can hold: a fixed stamp keeps the bytes the same on every run."""

LINE_BREAKING = re.compile("[\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
"""Characters some reader takes for the end of a field or a line (Python's own
`splitlines` among them): replaced by a space so one occurrence stays one line."""

NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""What XML 1.0 cannot hold (other control characters, lone surrogates, U+FFFE/U+FFFF)."""


def term_uri(term: str) -> str:
    """A term's URI: `license` and `modified` are Dublin Core's, the rest Darwin Core's."""
    return (DCTERMS if term in DCTERMS_TERMS else DWC) + term


@dataclass(frozen=True)
class Dataset:
    """What the archive says about itself (eml.xml): in Japanese, with the English beside it."""

    title: str
    title_en: str
    description: str
    description_en: str
    publisher: str
    """the organisation that publishes (the city's division), creator and metadata provider"""
    contact_name: str
    contact_email: str
    pub_date: date
    version: str
    """e.g. "1.3": IPT's major.minor version of the published dataset"""
    license: str = CC_BY
    """a licence URI; one of LICENSE_TITLES for GBIF to accept the dataset"""
    language: str = "ja"
    bbox: tuple[float, float, float, float] | None = None
    """(west, east, south, north) in decimal degrees"""
    identifier: str = ""
    """the dataset's own identifier, e.g. its page's URL; stable across versions"""
    area: str = ""
    """in words, the area the bounding box covers (EML requires a description beside it)"""

    def __post_init__(self) -> None:
        if self.bbox is not None:
            west, east, south, north = self.bbox
            if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
                raise ValueError(f"bounding box {self.bbox} is not (west, east, south, north) in degrees")


def archive(dataset: Dataset, occurrences: Iterable[Mapping[str, Any]]) -> bytes:
    """The Darwin Core Archive (a zip) of these occurrences, each a mapping by term name
    (other keys are left out); an occurrence without a licence takes the dataset's."""
    files = (
        ("meta.xml", meta_xml()),
        ("eml.xml", eml_xml(dataset)),
        ("occurrence.txt", occurrence_txt(occurrences, default_license=dataset.license)),
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, content in files:
            zf.writestr(zip_entry(name), content, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()


def zip_entry(name: str) -> zipfile.ZipInfo:
    """A zip member whose header does not depend on the clock or on the machine."""
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.create_system = 3  # Unix, whatever machine writes it
    info.external_attr = 0o644 << 16
    return info


# -- occurrence.txt ------------------------------------------------------------------------------


def occurrence_txt(occurrences: Iterable[Mapping[str, Any]], *, default_license: str = "") -> bytes:
    """The data file: a header of term names, then one line per occurrence."""
    lines = ["\t".join(OCCURRENCE_TERMS)]
    for occurrence in occurrences:
        values = dict(occurrence)
        if default_license and not values.get("license"):
            values["license"] = default_license
        lines.append("\t".join(cell(term, values.get(term)) for term in OCCURRENCE_TERMS))
    return ("\n".join(lines) + "\n").encode("utf-8")


def cell(term: str, value: Any) -> str:
    """One value as the data file writes it: text kept to one line, numbers without float
    noise, coordinates to six decimals, dates in ISO 8601, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | Decimal) and term in COORDINATES:
        return coordinate(value)
    if isinstance(value, float | Decimal):
        return number(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return clean(str(value))


def coordinate(value: float | Decimal) -> str:
    """Degrees to at most six decimals, trailing zeros dropped: 35.1 stays 35.1."""
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    text = f"{Decimal(value):.{COORDINATE_DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def number(value: float | Decimal) -> str:
    """A number as a person wrote it: 0.1 + 0.2 is 0.3, never 0.30000000000000004, and no
    exponent (1e-05 is 0.00001)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        value = Decimal(f"{value:.15g}")
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def clean(text: str) -> str:
    """Text that stays one field of one line and that XML and UTF-8 can hold."""
    return NOT_XML.sub("", LINE_BREAKING.sub(" ", text))


# -- meta.xml ------------------------------------------------------------------------------------


def meta_xml() -> bytes:
    """The metafile: where each term is in occurrence.txt and how the file is written."""
    root = ET.Element("archive", {"xmlns": TEXT_NS, "metadata": "eml.xml"})
    core = ET.SubElement(root, "core", {
        "encoding": "UTF-8", "fieldsTerminatedBy": "\\t", "linesTerminatedBy": "\\n", "fieldsEnclosedBy": "",
        "ignoreHeaderLines": "1", "rowType": OCCURRENCE,
    })
    ET.SubElement(ET.SubElement(core, "files"), "location").text = "occurrence.txt"
    ET.SubElement(core, "id", {"index": "0"})
    for index, term in enumerate(OCCURRENCE_TERMS):
        ET.SubElement(core, "field", {"index": str(index), "term": term_uri(term)})
    return xml_bytes(root)


def xml_bytes(root: ET.Element) -> bytes:
    """Indented for a person who opens the file, except inside running text (a sentence
    with a link in it), where added whitespace would become part of the words."""
    ET.indent(root)
    for element in root.iter():
        if element.text and element.text.strip() and len(element):
            for inner in element.iter():
                if inner is not element and inner.text is not None and not inner.text.strip():
                    inner.text = None
                if inner is not element and inner.tail is not None and not inner.tail.strip():
                    inner.tail = None
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


# -- eml.xml -------------------------------------------------------------------------------------


def eml_xml(dataset: Dataset) -> bytes:
    """The dataset's metadata, EML 2.1.1 in the GBIF profile, elements in the schema's order."""
    root = ET.Element("eml:eml", {
        "xmlns:eml": EML_NS, "xmlns:dc": DCTERMS, f"{{{XSI_NS}}}schemaLocation": EML_SCHEMA,
        "packageId": package_id(dataset), "system": "http://gbif.org", "scope": "system",
        f"{{{XML_NS}}}lang": dataset.language,
    })
    body = ET.SubElement(root, "dataset")
    if dataset.identifier:
        text(body, "alternateIdentifier", dataset.identifier)
    text(body, "title", dataset.title, {f"{{{XML_NS}}}lang": dataset.language})
    text(body, "title", dataset.title_en, {f"{{{XML_NS}}}lang": "en"})
    agent(body, "creator", dataset)
    agent(body, "metadataProvider", dataset)
    text(body, "pubDate", dataset.pub_date.isoformat())
    text(body, "language", dataset.language)
    abstract = ET.SubElement(body, "abstract")
    for paragraph in (dataset.description, dataset.description_en):
        text(abstract, "para", paragraph)
    rights(body, dataset.license)
    if dataset.identifier.startswith(("http://", "https://")):
        online = ET.SubElement(ET.SubElement(body, "distribution", {"scope": "document"}), "online")
        text(online, "url", dataset.identifier, {"function": "information"})
    if dataset.bbox is not None:
        coverage(body, dataset.bbox, dataset.area)
    agent(body, "contact", dataset, person=dataset.contact_name)
    return xml_bytes(root)


def package_id(dataset: Dataset) -> str:
    """IPT's `<identifier>/v<version>`; without an identifier, a UUID made from the
    publisher and title, so each version of the same dataset keeps the same stem."""
    stem = dataset.identifier or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{dataset.publisher}\n{dataset.title}"))
    return f"{stem}/v{dataset.version}"


def text(parent: ET.Element, tag: str, value: str, attributes: dict[str, str] | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes or {})
    element.text = clean_xml(value)
    return element


def clean_xml(value: str) -> str:
    """What XML 1.0 can carry of a text: markup characters are escaped by ElementTree,
    characters it cannot carry at all are dropped."""
    return NOT_XML.sub("", value)


def agent(parent: ET.Element, tag: str, dataset: Dataset, person: str = "") -> None:
    """A party of the GBIF profile: the publishing organisation and its address."""
    element = ET.SubElement(parent, tag)
    if person:
        text(ET.SubElement(element, "individualName"), "surName", person)
    text(element, "organizationName", dataset.publisher)
    text(element, "electronicMailAddress", dataset.contact_email)


def rights(parent: ET.Element, license_uri: str) -> None:
    """The licence as IPT writes it: a sentence whose `ulink` GBIF reads as the licence."""
    para = ET.SubElement(ET.SubElement(parent, "intellectualRights"), "para")
    para.text = "This work is licensed under a "
    link = ET.SubElement(para, "ulink", {"url": clean_xml(license_uri)})
    text(link, "citetitle", LICENSE_TITLES.get(license_uri, license_uri))
    link.tail = "."


def coverage(parent: ET.Element, bbox: tuple[float, float, float, float], area: str) -> None:
    west, east, south, north = bbox
    geographic = ET.SubElement(ET.SubElement(parent, "coverage"), "geographicCoverage")
    text(geographic, "geographicDescription", area or "N/A")
    box = ET.SubElement(geographic, "boundingCoordinates")
    for tag, value in (("westBoundingCoordinate", west), ("eastBoundingCoordinate", east),
                       ("northBoundingCoordinate", north), ("southBoundingCoordinate", south)):
        text(box, tag, coordinate(float(value)))


__all__ = ["CC_BY", "OCCURRENCE", "OCCURRENCE_TERMS", "Dataset", "archive", "term_uri"]
