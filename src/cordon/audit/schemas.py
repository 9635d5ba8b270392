"""The audit log as the API shows it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


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


class AuditPage(BaseModel):
    total: int
    entries: list[AuditEntryOut]
