"""What a trace returns: contacts with their evidence, as the API and CLI show them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


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
