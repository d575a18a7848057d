"""The hub's accepted items as an Atom feed and as a CSV: the two ways a reader (a feed reader,
a spreadsheet) follows the information hub without opening its pages.

Pure: the caller gives the items as the public sees them (already generalised where they must
be: a sensitive species' place is the centre of its grid square, its locality the square's
code), every word in the reader's language, and the site's base address; out come bytes. No
database, no clock, no web framework, and no word of the hub's own here, so that what a feed
or a file says is decided in the one place the pages decide it too.

Partners' text is only ever text: feedgen (lxml) escapes it in the feed, where it is a text
`summary`, never HTML; the CSV keeps a cell that a spreadsheet would run as a formula as text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from feedgen.feed import FeedGenerator

from publishing.cells import safe
from publishing.dwca import coordinate, number

ATOM_TYPE = "application/atom+xml; charset=utf-8"
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""What XML 1.0 cannot hold: lxml refuses it, so a stray control character a partner pasted
would otherwise break the whole feed."""


class Square(Protocol):
    """A generalised place's grid square (`workflows.hub.sensitive.Square`)."""

    @property
    def south(self) -> float: ...

    @property
    def west(self) -> float: ...

    @property
    def north(self) -> float: ...

    @property
    def east(self) -> float: ...


class Place(Protocol):
    """Where the public may see an item (`workflows.hub.sensitive.Place`)."""

    @property
    def latitude(self) -> float | None: ...

    @property
    def longitude(self) -> float | None: ...

    @property
    def square(self) -> Square | None: ...


class FeedItem(Protocol):
    """What the feed reads of an item: `workflows.hub.public.PublicItem` has all of it."""

    @property
    def id(self) -> int: ...

    @property
    def occurrence_id(self) -> str: ...

    @property
    def accepted_at(self) -> datetime: ...

    @property
    def place(self) -> Place: ...

    @property
    def by(self) -> str: ...


@dataclass(frozen=True)
class FeedWords:
    """The feed's own words, in the reader's language."""

    title: str
    subtitle: str
    author: str
    language: str


def clean(text: str) -> str:
    return NOT_XML.sub("", text)


def atom(items: Sequence[FeedItem], *, words: FeedWords, base_url: str, page_path: str, feed_path: str,
         title: Callable[[Any], str], summary: Callable[[Any], str], updated: datetime) -> bytes:
    """The Atom feed of these items, in their order.

    Each entry's id is the item's occurrenceID (a `urn:uuid:`, the same in the Darwin Core
    Archive, so a reader of both can tell a record is one record); `updated` is when it was
    accepted; its link is the item's page (`base_url` + `page_path` + `/ID`). `title` and
    `summary` give an item's words as plain text. A place is a `georss:point` only as the
    public may see it, a generalised one with its square as a `georss:box` beside it.
    `updated` is the feed's time when it has no entry.
    """
    base = base_url.rstrip("/")
    page = f"{base}{page_path}"
    fg = FeedGenerator()
    fg.load_extension("geo")
    fg.id(page)
    fg.title(clean(words.title))
    fg.subtitle(clean(words.subtitle))
    fg.author({"name": clean(words.author)})
    fg.link(href=page, rel="alternate", type="text/html")
    fg.link(href=f"{base}{feed_path}", rel="self", type="application/atom+xml")
    fg.language(words.language)
    fg.generator("pdca")
    fg.updated(max((i.accepted_at for i in items), default=updated))
    for item in items:
        entry = fg.add_entry(order="append")
        entry.id(item.occurrence_id)
        entry.title(clean(title(item)).strip() or item.occurrence_id)  # Atom wants a title, never empty
        entry.updated(item.accepted_at)
        entry.published(item.accepted_at)
        entry.link(href=f"{page}/{item.id}", rel="alternate", type="text/html")
        entry.summary(clean(summary(item)), type="text")
        if item.by:
            entry.author({"name": clean(item.by)})
        place = item.place
        if place.latitude is not None and place.longitude is not None:
            entry.geo.point(f"{coordinate(place.latitude)} {coordinate(place.longitude)}")
            if place.square is not None:
                s = place.square
                entry.geo.box(" ".join(coordinate(v) for v in (s.south, s.west, s.north, s.east)))
    return bytes(fg.atom_str(pretty=True))


def csv_bytes(columns: Sequence[tuple[str, str]], rows: Iterable[Mapping[str, Any]]) -> bytes:
    """A CSV of `rows` under `columns` ((key, heading in words) pairs), UTF-8 with a BOM so
    that Excel opens Japanese as Japanese, and no cell a formula."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([heading for _, heading in columns])
    for row in rows:
        writer.writerow([_cell(row.get(key)) for key, _ in columns])
    return buffer.getvalue().encode("utf-8-sig")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, float):
        return number(value)  # 30 m, not 30.0
    return safe(value)


__all__ = ["ATOM_TYPE", "FeedItem", "FeedWords", "atom", "csv_bytes"]
