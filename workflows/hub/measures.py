"""Indicators whose yearly value the hub already knows: "participants in the surveys" is
the sum of the participants of the accepted activity reports that serve the action, "species
recorded" the distinct species of the accepted observations. An indicator that declares such
a measure (`hub_measure` in the actions file) is offered its value in the owner's report,
with the query in words and a link to the very records counted, instead of a number typed
from a spreadsheet.

Counted: accepted items only, whose date falls in the fiscal year; for the measures without
`all_`, only items that name the indicator's action among the actions they serve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Connection

from engine.spec import Label
from workflows.fiscal import fy_label
from workflows.hub.public import Filters, PublicItem, accepted
from workflows.hub.spec import ACTIVITY, OBSERVATION
from workflows.tenants import Tenant


def _count(items: list[PublicItem]) -> float:
    return float(len(items))


def _species(items: list[PublicItem]) -> float:
    """Distinct species recorded present: by scientific name, else by common name."""
    return float(len({(i.scientific_name or i.vernacular_name or "").strip().lower() for i in items
                      if i.occurrence_status != "absent"} - {""}))


def _participants(items: list[PublicItem]) -> float:
    return float(sum(i.participants or 0 for i in items))


@dataclass(frozen=True)
class Measure:
    kind: str
    """the items counted: observation | activity"""
    words: Label
    """what is counted, in words ({scope} and {fy} filled in)"""
    value: Callable[[list[PublicItem]], float]


_OBSERVATIONS = Label("{scope}採用された観察記録の件数（観察日が{fy}のもの）",
                      "accepted observations {scope}dated in {fy}")
_SPECIES = Label("{scope}採用された観察記録の種数（確認できたもの、観察日が{fy}のもの）",
                 "distinct species among the accepted observations {scope}recorded present in {fy}")
_ACTIVITIES = Label("{scope}採用された活動報告の件数（実施日が{fy}のもの）",
                    "accepted activity reports {scope}dated in {fy}")
_PARTICIPANTS = Label("{scope}採用された活動報告の参加者数の合計（実施日が{fy}のもの）",
                      "participants of the accepted activity reports {scope}dated in {fy}, summed")

HUB_MEASURES: dict[str, Measure] = {
    "observations": Measure(OBSERVATION, _OBSERVATIONS, _count),
    "species": Measure(OBSERVATION, _SPECIES, _species),
    "activities": Measure(ACTIVITY, _ACTIVITIES, _count),
    "participants": Measure(ACTIVITY, _PARTICIPANTS, _participants),
}
HUB_MEASURES |= {f"all_{name}": measure for name, measure in list(HUB_MEASURES.items())}
"""What an indicator's `hub_measure` may be: the measure's name, `all_` for the whole hub
rather than the items serving the indicator's action."""


def measured(conn: Connection, tenant: Tenant, *, name: str, action: str, fy: int) -> dict[str, Any]:
    """The indicator's value from the hub for the year, with what was counted in both
    languages and the public hub's address listing exactly those items."""
    measure = HUB_MEASURES[name]
    whole = name.startswith("all_")
    filters = Filters(kind=measure.kind, fy=fy, action=None if whole else action)
    items = accepted(conn, tenant, filters)
    scope = {"ja": "" if whole else f"取組{action}に関係する", "en": "" if whole else f"serving action {action} "}
    query = {k: v for k, v in (("kind", measure.kind), ("fy", fy), ("action", filters.action)) if v is not None}
    return {
        "measure": name,
        "value": measure.value(items),
        "items": len(items),
        "query": {lang: measure.words(lang).format(scope=scope[lang], fy=fy_label(fy)) for lang in ("ja", "en")},
        "link": f"/public/hub?{urlencode(query)}",
    }
