"""What partners send to the information hub (情報拠点), and its curation, as data: read the
tables at the bottom as the process.

A partner (a citizen, a citizens' group, a business, a university, a local expert, an
agency, the museum, the zoo and botanical garden, the environment centre: people seated
in the strategy's `partners` body) sends an **observation**, with the Darwin Core terms
GBIF and いきものログ use, or an **activity report** (a survey, a clean-up, a nature walk)
with the strategy's actions it serves. A curator of the hub (the `curators` body: the
environment division, the museum, the zoo, the environment centre) takes it into review,
then accepts it (it is public from then on), returns it with a comment (the sender sends
it again, changed) or rejects it with a reason; an expert partner (the `experts` body) may
confirm or correct a species' identification while it is in review. Nobody curates or
verifies what they sent themselves. The sender is told at each step.

Field names are the Darwin Core terms (`scientificName`, `eventDate`, ...), so that a
script, the form and an exported archive say the same thing.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, cast

from engine.errors import Said
from engine.spec import OPENING, STAND_IN, Changes, Field, Guard, Label, Role, State, Trigger, WorkflowSpec

if TYPE_CHECKING:
    from engine.runtime import FireContext
    from workflows.hub.store import HubStore

SENDER = "sender"
PARTNER = "partner"
CURATOR = "curator"
EXPERT = "expert"

OBSERVATION = "observation"
ACTIVITY = "activity"

BASIS_OF_RECORD = ("HumanObservation", "MachineObservation", "PreservedSpecimen", "LivingSpecimen",
                   "MaterialSample")
"""Darwin Core's basisOfRecord vocabulary, as far as a city's partners record."""
BASIS_LABELS = {
    "HumanObservation": Label("目視・写真による観察", "Seen or photographed"),
    "MachineObservation": Label("自動撮影・録音など機器による記録", "Recorded by a device (camera trap, recorder)"),
    "PreservedSpecimen": Label("標本", "Preserved specimen"),
    "LivingSpecimen": Label("飼育・栽培されている生体", "Living specimen (kept or grown)"),
    "MaterialSample": Label("試料（環境DNAなど）", "Material sample (e.g. environmental DNA)"),
}
SPECIES_GROUPS = {
    "birds": Label("鳥類", "Birds"), "mammals": Label("哺乳類", "Mammals"),
    "amphibians_reptiles": Label("両生類・爬虫類", "Amphibians and reptiles"), "fish": Label("魚類", "Fish"),
    "insects": Label("昆虫類", "Insects"), "other_animals": Label("その他の動物", "Other animals"),
    "plants": Label("植物", "Plants"), "fungi": Label("菌類", "Fungi"),
}
"""The groups the public hub filters by, as a naturalist's field guide groups them."""
OCCURRENCE_STATUS = ("present", "absent")
STATUS_LABELS = {"present": Label("確認できた", "Present"), "absent": Label("確認できなかった", "Absent")}


def _store(ctx: FireContext) -> HubStore:
    return cast("HubStore", ctx.store)


# -- checks of one field ------------------------------------------------------------------


def not_in_future(value: Any, ctx: FireContext) -> str | None:
    today = _store(ctx).today(ctx.conn, ctx.instance, ctx.now)
    if isinstance(value, date) and value > today:
        return Said(f"{value.isoformat()} is after today", ja=f"{value.isoformat()} は今日より後の日付です")
    return None


def _between(low: float, high: float, what_ja: str, what_en: str) -> Any:
    def check(value: Any, ctx: FireContext) -> str | None:
        if low <= value <= high:
            return None
        return Said(f"{what_en} must be between {low:g} and {high:g}",
                    ja=f"{what_ja}は{low:g}から{high:g}の間で書いてください")
    return check


def not_negative(value: Any, ctx: FireContext) -> str | None:
    if value >= 0 and float(value).is_integer():
        return None
    return Said("must be a whole number, 0 or more", ja="0以上の整数で書いてください")


def usable_photos(value: Any, ctx: FireContext) -> str | None:
    from workflows.hub.photos import problem

    return problem(value)


def known_actions(value: Any, ctx: FireContext) -> str | None:
    unknown = _store(ctx).unknown_actions(ctx.conn, ctx.instance, value)
    if not unknown:
        return None
    return Said(f"no such action in this strategy: {', '.join(unknown)}",
                ja=f"この戦略に取組{'、'.join(unknown)}はありません")


# -- guards ---------------------------------------------------------------------------------


def _sent(ctx: FireContext) -> dict[str, Any]:
    """What was sent: the opening's fields, or the item sent again after a return."""
    return cast("dict[str, Any]", ctx.fields.get("item", ctx.fields))


def _kind(ctx: FireContext) -> str:
    return OBSERVATION if ctx.trigger.name == "send_observation" else str(ctx.instance.data.get("kind") or ACTIVITY)


def named_species(ctx: FireContext) -> str | None:
    """An observation says what was seen: a scientific or a common name, or both."""
    sent = _sent(ctx)
    if _kind(ctx) != OBSERVATION or sent.get("scientificName") or sent.get("vernacularName"):
        return None
    return Said("say what was seen: a scientific name (scientificName) or a common name (vernacularName)",
                ja="何を観察したか、学名か和名（どちらか一方でも）を書いてください")


def place_whole(ctx: FireContext) -> str | None:
    """Coordinates come as a pair: a latitude without a longitude is no place."""
    has = [_sent(ctx).get(k) is not None for k in ("decimalLatitude", "decimalLongitude")]
    if all(has) or not any(has):
        return None
    return Said("give both the latitude and the longitude, or neither",
                ja="緯度と経度は両方書くか、両方とも空けてください")


def not_own(ctx: FireContext) -> str | None:
    """Curation is a second pair of eyes: nobody accepts, returns, rejects or verifies what
    they sent themselves."""
    if ctx.instance.data.get("created_by") != ctx.actor.person_id or ctx.actor.is_system:
        return None
    return Said("you sent this item: another curator decides on it",
                ja="ご自身が提出したものです。ほかの担当者が確認します。")


def observations_only(ctx: FireContext) -> str | None:
    if ctx.instance.data.get("kind") == OBSERVATION:
        return None
    return Said("only an observation has a species to verify", ja="種の同定を確認できるのは観察記録だけです")


# -- recorders ------------------------------------------------------------------------------


def _received(ctx: FireContext) -> list[tuple[str, dict[str, Any]]]:
    """The curators are told; the photos sent are kept, cleaned (workflows/hub/photos.py)."""
    photos = [("photos", {"files": ctx.fields["photos"]})] if ctx.fields.get("photos") else []
    return [*photos, ("notify", {"kind": "hub_received", "roles": [CURATOR]})]


def record_observation(ctx: FireContext) -> Changes:
    return Changes({**_store(ctx).observation_columns(ctx.fields), "kind": OBSERVATION,
                    "created_by": ctx.actor.person_id}, _received(ctx))


def record_activity(ctx: FireContext) -> Changes:
    return Changes({**_store(ctx).activity_columns(ctx.fields), "kind": ACTIVITY, "created_by": ctx.actor.person_id},
                   _received(ctx))


def record_resent(ctx: FireContext) -> Changes:
    store = _store(ctx)
    item = ctx.fields.get("item") or {}
    columns = store.observation_columns(item) if ctx.instance.data["kind"] == OBSERVATION \
        else store.activity_columns(item)
    return Changes({**columns, "returned_comment": None}, [("notify", {"kind": "hub_received", "roles": [CURATOR]})])


def record_taken(ctx: FireContext) -> Changes:
    return Changes({"curator": ctx.actor.email})


def record_accepted(ctx: FireContext) -> Changes:
    from engine.clock import to_storage

    return Changes({"accepted_at": to_storage(ctx.now), "curator": ctx.actor.email},
                   [("notify", {"kind": "hub_accepted", "roles": [SENDER]})])


def record_returned(ctx: FireContext) -> Changes:
    return Changes({"returned_comment": ctx.comment}, [("notify", {"kind": "hub_returned", "roles": [SENDER]})])


def record_rejected(ctx: FireContext) -> Changes:
    return Changes({"rejected_reason": ctx.comment}, [("notify", {"kind": "hub_rejected", "roles": [SENDER]})])


def record_verified(ctx: FireContext) -> Changes:
    name = ctx.fields["identifiedAs"]
    return Changes({"verified_by": ctx.actor.email, "verified_name": name,
                    "scientific_name": name})


def record_withdrawn(ctx: FireContext) -> Changes:
    return Changes({"withdrawn_reason": ctx.comment, "accepted_at": None},
                   [("notify", {"kind": "hub_withdrawn", "roles": [SENDER]})])


# -- the process ----------------------------------------------------------------------------

OBSERVATION_FIELDS = (
    Field("scientificName", "text", Label("学名", "Scientific name"), required=False),
    Field("vernacularName", "text", Label("和名", "Common name"), required=False),
    Field("speciesGroup", "choice", Label("分類群", "Group"), required=False, choices=tuple(SPECIES_GROUPS),
          labels=SPECIES_GROUPS),
    Field("eventDate", "date", Label("観察日", "Date observed"), check=not_in_future),
    Field("decimalLatitude", "number", Label("緯度（十進）", "Latitude (decimal)"), required=False,
          check=_between(-90, 90, "緯度", "latitude")),
    Field("decimalLongitude", "number", Label("経度（十進）", "Longitude (decimal)"), required=False,
          check=_between(-180, 180, "経度", "longitude")),
    Field("coordinateUncertaintyInMeters", "number", Label("位置の誤差（m）", "Uncertainty of the place (m)"),
          required=False, check=_between(1, 100_000, "位置の誤差", "the uncertainty")),
    Field("locality", "text", Label("場所の名前", "Place")),
    Field("basisOfRecord", "choice", Label("記録の種類", "Kind of record"), choices=BASIS_OF_RECORD,
          labels=BASIS_LABELS),
    Field("occurrenceStatus", "choice", Label("確認の有無", "Present or absent"), choices=OCCURRENCE_STATUS,
          labels=STATUS_LABELS),
    Field("individualCount", "number", Label("個体数", "Number of individuals"), required=False, check=not_negative),
    Field("recordedBy", "text", Label("観察した人", "Recorded by"), required=False),
    Field("actions", "lines", Label("関係する取組（番号）", "Actions it serves (codes)"), required=False,
          check=known_actions),
    Field("remarks", "longtext", Label("備考", "Remarks"), required=False),
)
ACTIVITY_FIELDS = (
    Field("title", "text", Label("活動の名前", "Activity")),
    Field("eventDate", "date", Label("実施日", "Date"), check=not_in_future),
    Field("locality", "text", Label("場所", "Place")),
    Field("decimalLatitude", "number", Label("緯度（十進）", "Latitude (decimal)"), required=False,
          check=_between(-90, 90, "緯度", "latitude")),
    Field("decimalLongitude", "number", Label("経度（十進）", "Longitude (decimal)"), required=False,
          check=_between(-180, 180, "経度", "longitude")),
    Field("participants", "number", Label("参加者数", "Participants"), check=not_negative),
    Field("text", "longtext", Label("活動の内容", "What was done")),
    Field("actions", "lines", Label("関係する取組（番号）", "Actions it serves (codes)"), required=False,
          check=known_actions),
)
PHOTOS = Field("photos", "photos", Label("写真（4枚まで。位置情報などは取り除いて保存します）",
                                      "Photos (up to 4; location and other metadata are removed)"),
               required=False, check=usable_photos)
FIELDS_OF = {OBSERVATION: OBSERVATION_FIELDS, ACTIVITY: ACTIVITY_FIELDS}
"""What each kind of item asks: the openings' fields, and what a returned item is sent again with."""

CURATION_LABELS = {
    "source": Label("届いた経路", "Came from"),
    "curator": Label("確認した担当者", "Curator"),
    "verified_by": Label("同定を確認した専門家", "Identification verified by"),
    "returned_comment": Label("差戻しの理由", "Returned because"),
    "rejected_reason": Label("不採用の理由", "Rejected because"),
    "withdrawn_reason": Label("公開をやめた理由", "Withdrawn because"),
    "public_place": Label("公開される位置", "Place shown in public"),
    "obscured": Label("取込元で位置がぼかされています", "Its place was obscured where it came from"),
}
"""What curation records beside the item's own fields, in words."""
SOURCE_LABELS = {
    "web": Label("ウェブの送信フォーム", "The web form"),
    "dwca": Label("Darwin Core Archive の取込", "A Darwin Core Archive"),
    "inaturalist": Label("iNaturalist の書き出しの取込", "An iNaturalist export"),
    "ikimonolog": Label("いきものログの書き出しの取込", "An いきものログ export"),
    "csv": Label("CSV の取込", "A CSV file"),
}

ROLES = (
    Role(SENDER, Label("提出した人", "The sender")),
    Role(PARTNER, Label("情報拠点の連携主体", "A partner of the hub")),
    Role(CURATOR, Label("情報拠点の担当者", "A curator of the hub")),
    Role(EXPERT, Label("同定を確認する専門家", "An expert who verifies identifications")),
)

STATES = (
    State("submitted", Label("受付待ち", "Waiting for a curator")),
    State("in_review", Label("確認中", "In review")),
    State("returned", Label("差戻し（修正待ち）", "Returned for changes")),
    State("accepted", Label("公開中", "Accepted and public")),
    State("rejected", Label("不採用", "Rejected"), final=True),
    State("withdrawn", Label("公開取りやめ", "Withdrawn"), final=True),
)

SPECIES = (Guard("named_species", named_species), Guard("place_whole", place_whole))

OPENINGS = (
    Trigger("send_observation", OPENING, "submitted", (PARTNER, CURATOR, STAND_IN),
            Label("観察記録を送る", "Send an observation"), fields=(*OBSERVATION_FIELDS, PHOTOS), guards=SPECIES,
            record=record_observation),
    Trigger("send_activity", OPENING, "submitted", (PARTNER, CURATOR, STAND_IN),
            Label("活動報告を送る", "Send an activity report"), fields=(*ACTIVITY_FIELDS, PHOTOS), guards=SPECIES,
            record=record_activity),
)

NOT_OWN = (Guard("not_own", not_own),)

TRIGGERS = (
    Trigger("take", "submitted", "in_review", (CURATOR,), Label("確認を始める", "Start the review"),
            guards=NOT_OWN, record=record_taken),
    Trigger("accept", "in_review", "accepted", (CURATOR,), Label("採用して公開する", "Accept and publish"),
            guards=NOT_OWN, record=record_accepted),
    Trigger("return_item", "in_review", "returned", (CURATOR,), Label("修正を依頼して差し戻す", "Return for changes"),
            fields=(Field("comment", "longtext", Label("直してほしいこと", "What to change")),),
            guards=NOT_OWN, record=record_returned),
    Trigger("reject", "in_review", "rejected", (CURATOR,), Label("不採用にする", "Reject"),
            fields=(Field("comment", "longtext", Label("不採用の理由", "Why it is rejected")),),
            guards=NOT_OWN, record=record_rejected),
    Trigger("verify", "in_review", "in_review", (EXPERT,), Label("同定を確認する", "Verify the identification"),
            fields=(Field("identifiedAs", "text", Label("確認した学名", "Scientific name as verified")),),
            guards=(Guard("observations_only", observations_only), *NOT_OWN), record=record_verified),
    Trigger("resend", "returned", "submitted", (SENDER,), Label("直して送り直す", "Send again, changed"),
            fields=(Field("item", "fieldset", Label("内容", "The item")),), guards=SPECIES, record=record_resent),
    Trigger("withdraw", "accepted", "withdrawn", (CURATOR, STAND_IN), Label("公開を取りやめる", "Withdraw"),
            fields=(Field("comment", "longtext", Label("取りやめる理由", "Why it is withdrawn")),),
            record=record_withdrawn),
)

HUB_ITEM = WorkflowSpec("hub_item", STATES, "submitted", TRIGGERS, ROLES,
                        Label("情報拠点への提出", "A submission to the information hub"), OPENINGS)
