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
from typing import Any

from sqlalchemy import Connection, select

from engine.runtime import Instance
from engine.spec import Field
from workflows.basic import BasicStore
from workflows.bodies import CURATORS, EXPERTS, PARTNERS
from workflows.hub.sensitive import Place, public_place
from workflows.hub.spec import CURATOR, EXPERT, FIELDS_OF, HUB_ITEM, OBSERVATION, PARTNER, SENDER
from workflows.models import Action, HubItem
from workflows.tenants import Tenants

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

    # -- what the public sees ----------------------------------------------------------------

    def place(self, conn: Connection, row: Mapping[str, Any]) -> Place:
        """Where the public may see this item: generalised for a sensitive species."""
        sensitive = self.tenants.get(conn, row["tenant_id"]).sensitive
        return public_place(row["latitude"], row["longitude"], row["uncertainty_m"], row["scientific_name"],
                            sensitive)

    def sent_as(self, instance: Instance) -> dict[str, Any]:
        """The item as its fields say it (Darwin Core names): what a returned item's form is
        filled in with."""
        terms = OBSERVATION_TERMS if instance.data.get("kind") == OBSERVATION else ACTIVITY_TERMS
        return {term: instance.data.get(column) for term, column in terms.items()}


def _columns(fields: Mapping[str, Any], terms: Mapping[str, str]) -> dict[str, Any]:
    """The columns for the fields sent (a field left empty clears its column)."""
    out: dict[str, Any] = {}
    for term, column in terms.items():
        value = fields.get(term)
        if column in INTEGERS and value is not None:
            value = int(value)
        out[column] = value if value is not None else ([] if column == "actions" else None)
    return out
