"""What a trace returns: contacts with their evidence, as the API and CLI show them."""

from __future__ import annotations

from datetime import datetime

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


class ContactOut(BaseModel):
    person_id: int
    kind: str  # close | secondary | companion
    first_exposure: datetime
    case_ids: list[int]
    evidence: list[EvidenceOut]


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


class ContactPage(BaseModel):
    total: int
    counts: dict[str, int]
    rows: list[ContactRow]


class NetworkNode(BaseModel):
    id: str
    kind: str  # case | close | secondary | companion
    label: str
    value: int  # how many people hang off this node (drawn size)


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
        if value.tzinfo is None:
            raise ValueError("needs a time zone, e.g. 2021-12-20T00:00:00+08:00")
        return value


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
