"""What a trace returns: contacts with their evidence, as the API and CLI show them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, field_validator


class EvidenceOut(BaseModel):
    kind: str
    index_person_id: int
    place_id: int | None
    cell_id: int | None
    setting: str
    start: datetime
    end: datetime
    overlap_minutes: float
    rule: str
    # The exposure score's parts (cordon.trace.score): the index's relative infectiousness at
    # the time, the weight per hour applied, and the hazard this exposure adds.
    infectiousness: float = 0.0
    weight: float = 0.0
    hazard: float = 0.0


class ContactOut(BaseModel):
    person_id: int
    kind: str  # close | secondary | companion
    first_exposure: datetime
    case_ids: list[int]
    evidence: list[EvidenceOut]
    score: float = Field(ge=0, le=1, description="Exposure score, 1 - exp(-sum of hazards).")
    tier: int | None = Field(description="Priority tier (1 = highest); none for companions.")
    exposed_minutes: float = 0.0
    days_exposed: int = 0


class TraceOut(BaseModel):
    case_id: int
    pack: str
    window_start: datetime
    window_end: datetime
    counts: dict[str, int]
    contacts: list[ContactOut]


class ContactRow(BaseModel):
    """A stored contact as lists show it: no personal data beyond the person id."""

    id: int
    case_id: int
    person_id: int
    kind: str
    first_exposure: datetime
    division_code: str
    grid_code: str | None
    case_ids: list[int]
    pack: str
    traced_at: datetime
    evidence: list[EvidenceOut]
    score: float = 0.0
    tier: int | None = None
    exposed_minutes: float = 0.0
    days_exposed: int = 0
    pushed: bool = False


class ContactPage(BaseModel):
    total: int = Field(description="Contacts under the whole filter (for paging).")
    counts: dict[str, int] = Field(
        description="Per kind under every filter but kind and tier: the lists to switch to."
    )
    tiers: dict[str, int] = Field(
        default_factory=dict,
        description='Close and secondary contacts per tier ("1", "2", ...) under every filter '
        "but tier; companions are counted under counts.companion only.",
    )
    rows: list[ContactRow] = Field(
        description="Riskiest first: the quarantine list by score, then companions by score."
    )


class ContactScore(BaseModel):
    """A person's stored contact with one traced case, as other slices show it."""

    case_id: int
    person_id: int
    kind: str
    first_exposure: datetime
    score: float
    tier: int | None
    exposed_minutes: float
    days_exposed: int


class NetworkNode(BaseModel):
    id: str
    kind: str  # case | close | secondary | companion
    label: str
    value: int  # how many people hang off this node (drawn size)
    tier: int | None = None  # a contact's priority tier (none for cases and companions)
    score: float = 0.0  # a contact's exposure score


class NetworkOut(BaseModel):
    nodes: list[NetworkNode]
    links: list[tuple[str, str]]
    truncated: bool


class BatchIn(BaseModel):
    since: datetime = Field(description="Trace every case reported at or after this time.")
    pack: str = Field(default="guangxi-2021-12", max_length=40)

    @field_validator("since")
    @classmethod
    def _zoned(cls, value: datetime) -> datetime:
        from cordon.inputs import zoned

        return zoned(value)


class Stop(BaseModel):
    """One stay of a case in its window, where it was and for how long."""

    place_id: int
    name: str
    place_kind: str
    setting: str
    lon: float | None
    lat: float | None
    start: datetime
    end: datetime


class TrajectoryOut(BaseModel):
    case_id: int
    window_start: datetime
    window_end: datetime
    stops: list[Stop]


class TierCost(BaseModel):
    """What pushing one tier (or the companions, ``tier`` None) would do."""

    tier: int | None
    action: str  # central | home | notify | companion
    people: int  # contacts in the tier (each person once, in their highest tier)
    red: int  # who would turn red (not red already)
    yellow: int  # who would turn yellow (neither red nor yellow already)
    central: int  # under central quarantine
    home: int  # under home quarantine
    expected_infections: float  # from the pack's calibration on the twin


class AreaCost(BaseModel):
    """People per tier in one town and grid."""

    division_code: str
    division_name: str
    grid_code: str | None
    grid_name: str | None
    people: dict[str, int]  # tier number ("1", "2", ...) or "companion" -> people


class PushPreview(BaseModel):
    case_ids: list[int]
    pack: str
    tiers: list[TierCost]  # every tier of the pack, then the companions
    areas: list[AreaCost]  # towns and grids, most people first
    chosen: list[int]  # tiers costed in the totals
    companions: bool
    people: int  # in the chosen tiers (and companions when chosen)
    red: int
    yellow: int
    rooms: int  # central-quarantine rooms (one per person)
    staff: int  # staff for them (the pack's ratio)
    expected_infections: float
    central: int = 0  # of the chosen, under central quarantine after the push
    home: int = 0  # under home quarantine
    code_pack: str = ""  # the health-code rule pack the colours were decided under
    at: datetime | None = None  # the moment the colours were decided for


class PushIn(BaseModel):
    case_ids: list[Annotated[int, Field(ge=1, le=2_147_483_647)]] = Field(
        min_length=1, max_length=1000, description="A traced case, or a batch's cases."
    )
    tiers: list[Annotated[int, Field(ge=1, le=9)]] = Field(
        default_factory=list, max_length=9, description="Tiers to push, e.g. [1, 2]."
    )
    companions: bool = False


class PushOut(BaseModel):
    id: int
    case_ids: list[int]
    tiers: list[int]
    companions: bool
    people: int
    pushed_by: str
    pushed_at: datetime
    preview: PushPreview
