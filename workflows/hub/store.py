"""Where the hub's items live (`hub_item`), who holds which role for them, and what the
public may see of an accepted one.

Roles, from the strategy's bodies (`[hub]` in config.toml, seats editable on the web):
the sender (whoever sent the item), partners (`partners`: may send), curators
(`curators`: take, accept, return, reject, withdraw) and experts (`experts`: verify an
identification); the strategy's admins may stand in. Field names are Darwin Core's; the
table's columns are ours, and `observation_columns` is the one place that maps them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select

from engine.runtime import Instance
from engine.spec import Field, Label
from words.numbers import plain
from workflows.basic import BasicStore
from workflows.bodies import CURATORS, EXPERTS, PARTNERS
from workflows.hub import photos
from workflows.hub.sensitive import Place, public_place
from workflows.hub.spec import (
    CURATION_LABELS,
    CURATOR,
    EXPERT,
    FIELDS_OF,
    HUB_ITEM,
    OBSERVATION,
    PARTNER,
    SENDER,
    SOURCE_LABELS,
)
from workflows.models import Action, HubItem, HubPhoto
from workflows.tenants import Tenants

if TYPE_CHECKING:
    from engine.runtime import FireContext

hub_table = HubItem.__table__  # type: ignore[attr-defined]

OBSERVATION_TERMS = {
    "scientificName": "scientific_name", "vernacularName": "vernacular_name", "speciesGroup": "species_group",
    "eventDate": "event_date",
    "decimalLatitude": "latitude", "decimalLongitude": "longitude",
    "coordinateUncertaintyInMeters": "uncertainty_m", "locality": "locality", "basisOfRecord": "basis_of_record",
    "occurrenceStatus": "occurrence_status", "individualCount": "individual_count", "recordedBy": "recorded_by",
    "actions": "actions", "remarks": "remarks",
}
"""Darwin Core term (the field's name) -> column."""
ACTIVITY_TERMS = {
    "title": "title", "eventDate": "event_date", "locality": "locality", "decimalLatitude": "latitude",
    "decimalLongitude": "longitude", "participants": "participants", "text": "text", "actions": "actions",
}
INTEGERS = ("individual_count", "participants")


def observation_title(fields: Mapping[str, Any]) -> str:
    """How an observation is named in lists and mail: what was seen, then where."""
    seen = fields.get("vernacularName") or fields.get("scientificName") or ""
    return f"{seen}（{fields.get('locality', '')}）"[:300]


class HubStore(BasicStore):
    def __init__(self, tenants: Tenants) -> None:
        super().__init__(hub_table, HUB_ITEM, tenants, creator=SENDER,
                         members={PARTNER: PARTNERS, CURATOR: CURATORS, EXPERT: EXPERTS})

    # -- what the spec's checks and recorders ask ------------------------------------------

    def today(self, conn: Connection, instance: Instance, now: datetime) -> date:
        return self.tenants.calendar(conn, instance.tenant).today(now) if instance.tenant else now.date()

    def unknown_actions(self, conn: Connection, instance: Instance, codes: Sequence[str]) -> list[str]:
        known = set(conn.execute(select(Action.code).where(Action.strategy_id == instance.tenant)).scalars())
        return [c for c in codes if c not in known]

    def observation_columns(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        columns = _columns(fields, OBSERVATION_TERMS)
        return columns | {"title": observation_title(fields)}

    def activity_columns(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        return _columns(fields, ACTIVITY_TERMS)

    def fieldset(self, conn: Connection, instance: Instance, source: str) -> Sequence[Field]:
        """What a returned item is sent again with: the fields of its kind."""
        kind = instance.data.get("kind")
        return FIELDS_OF[str(kind)] if kind in FIELDS_OF else ()

    # -- the engine's Store protocol ---------------------------------------------------------

    def insert(self, conn: Connection, proposed: Instance, columns: Mapping[str, Any], *, now: datetime) -> int:
        from engine.clock import to_storage

        return super().insert(conn, proposed, {"occurrence_id": f"urn:uuid:{uuid.uuid4()}", "source": "web",
                                               "sent_at": to_storage(now), "extra": {}, **columns}, now=now)

    def apply(self, conn: Connection, instance: Instance, effects: Sequence[tuple[str, Mapping[str, Any]]],
              ctx: FireContext) -> None:
        """Photos are kept cleaned of their metadata; the rest is the basic store's (notify)."""
        for kind, data in effects:
            if kind == "photos":
                rows = [{"item_id": instance.id, "seq": seq, "content_type": p.content_type, "width": p.width,
                         "height": p.height, "data": p.data}
                        for seq, p in enumerate((photos.cleaned(f) for f in data["files"]), start=1)]
                conn.execute(insert(HubPhoto), rows)
        super().apply(conn, instance, [e for e in effects if e[0] != "photos"], ctx)

    # -- what a curator and the sender read ------------------------------------------------

    def address(self, instance: Instance) -> dict[str, Any]:
        return {"key": str(instance.id), "path": f"/w/{self.spec.name}/{instance.id}",
                "label": f"#{instance.id} {instance.data.get('title', '')}"}

    def details(self, conn: Connection, instance: Instance, *, today: date | None) -> dict[str, Any]:
        """The generic record (columns, for scripts) and the same in words, field by field
        as the form labels it, with the curation's notes and the place the public will see."""
        out = super().details(conn, instance, today=today)
        return out | {"title_ja": instance.data.get("title"), "record_rows": self.record_rows(conn, instance),
                      "photos": self.photos_of(conn, instance.id, f"/w/{self.spec.name}/{instance.id}")}

    def photos_of(self, conn: Connection, item_id: int, page: str) -> list[dict[str, Any]]:
        """Each photo kept with the item: where a page finds it, and its size."""
        return [{"url": f"{page}/photos/{seq}", "width": w, "height": h} for seq, w, h in conn.execute(
            select(HubPhoto.seq, HubPhoto.width, HubPhoto.height).where(HubPhoto.item_id == item_id)
            .order_by(HubPhoto.seq))]

    def record_rows(self, conn: Connection, instance: Instance) -> list[dict[str, Any]]:
        data = instance.data
        terms = OBSERVATION_TERMS if data.get("kind") == OBSERVATION else ACTIVITY_TERMS
        titles = dict(conn.execute(select(Action.code, Action.title_ja).where(
            Action.strategy_id == instance.tenant)).all())
        rows = []
        for f in FIELDS_OF.get(str(data.get("kind")), ()):
            value = data.get(terms[f.name])
            if value in (None, "", []):
                continue
            rows.append({"label": _words(f.label), "value": _value_words(f, value, titles)})
        rows += [{"label": _words(CURATION_LABELS["source"]), "value": _words(SOURCE_LABELS[data["source"]])}
                 if data.get("source") in SOURCE_LABELS else None]
        for key in ("curator", "verified_by", "returned_comment", "rejected_reason", "withdrawn_reason"):
            if data.get(key):
                shown = str(data[key])
                if key == "verified_by" and data.get("verified_name"):
                    shown += f"（{data['verified_name']}）"
                rows.append({"label": _words(CURATION_LABELS[key]), "value": {"ja": shown, "en": shown}})
        if (data.get("extra") or {}).get("obscured"):
            rows.append({"label": _words(CURATION_LABELS["obscured"]), "value": {"ja": "はい", "en": "yes"}})
        place = self.place(conn, data)
        if place.square is not None:
            square = {"ja": f"2次メッシュ {place.square.code} の中心（約10km四方、保護のため）",
                      "en": f"the centre of grid square {place.square.code} (about 10 km, for protection)"}
            rows.append({"label": _words(CURATION_LABELS["public_place"]), "value": square})
        return [r for r in rows if r is not None]

    # -- what the public sees ----------------------------------------------------------------

    def place(self, conn: Connection, row: Mapping[str, Any]) -> Place:
        """Where the public may see this item: generalised for a sensitive species."""
        sensitive = self.tenants.get(conn, row["tenant_id"]).sensitive
        return public_place(row["latitude"], row["longitude"], row["uncertainty_m"], row["scientific_name"],
                            sensitive)

    def prefill(self, instance: Instance) -> dict[str, dict[str, Any]]:
        """A returned item's form starts from what was sent: the sender changes what the
        curator asked for, not everything again."""
        sent = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.sent_as(instance).items()}
        return {"resend": {"item": sent}}

    def sent_as(self, instance: Instance) -> dict[str, Any]:
        """The item as its fields say it (Darwin Core names): what a returned item's form is
        filled in with."""
        terms = OBSERVATION_TERMS if instance.data.get("kind") == OBSERVATION else ACTIVITY_TERMS
        return {term: instance.data.get(column) for term, column in terms.items()}


def _words(label: Label) -> dict[str, str]:
    return {"ja": label.ja, "en": label.en}


def _value_words(f: Field, value: Any, titles: Mapping[str, str]) -> dict[str, str]:
    """A recorded value as the form's reader says it: a choice by its words, the actions
    with their titles, a number without float noise."""
    if f.type == "choice" and value in f.labels:
        return _words(f.labels[value])
    if f.type == "lines":
        shown = "、".join(f"{code} {titles.get(code, '')}".strip() for code in value)
        return {"ja": shown, "en": ", ".join(value)}
    if isinstance(value, float):
        value = plain(value)
    if isinstance(value, date):
        value = value.isoformat()
    return {"ja": str(value), "en": str(value)}


def _columns(fields: Mapping[str, Any], terms: Mapping[str, str]) -> dict[str, Any]:
    """The columns for the fields sent (a field left empty clears its column)."""
    out: dict[str, Any] = {}
    for term, column in terms.items():
        value = fields.get(term)
        if column in INTEGERS and value is not None:
            value = int(value)
        out[column] = value if value is not None else ([] if column == "actions" else None)
    return out
