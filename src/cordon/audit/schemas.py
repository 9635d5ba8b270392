"""The audit log as the API shows it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    user_id: int | None
    username: str
    action: str
    entity: str
    entity_id: str
    outcome: str
    client_addr: str | None
    detail: dict[str, object]
    ids: list[str] = Field(
        default_factory=list,
        validation_alias="id_list",
        description="The records a list page or export showed (one entry per request).",
    )


class AuditPage(BaseModel):
    total: int
    entries: list[AuditEntryOut]
