"""Browsing the audit log (admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from cordon.audit import service
from cordon.audit.schemas import AuditEntryOut, AuditPage
from cordon.auth.schemas import Actor
from cordon.web.deps import DbSession, require

router = APIRouter(prefix="/audit", tags=["audit"])

Auditor = Annotated[Actor, Depends(require("audit:view"))]


@router.get("", response_model=AuditPage)
def browse(
    actor: Auditor,
    session: DbSession,
    username: Annotated[str | None, Query(max_length=64)] = None,
    entity: Annotated[str | None, Query(max_length=32)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    outcome: Literal["ok", "denied"] | None = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AuditPage:
    total, rows = service.browse(
        session=session,
        username=username,
        entity=entity,
        entity_id=entity_id,
        outcome=outcome,
        since=since,
        limit=limit,
        offset=offset,
    )
    return AuditPage(total=total, entries=[AuditEntryOut.model_validate(r) for r in rows])
