"""Tracing API: a case's contacts with evidence, on the configured lake."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cordon.protocols.packs import DEFAULT_PACK
from cordon.trace import service
from cordon.trace.schemas import TraceOut
from cordon.web.deps import CurrentActor, DbSession, RecordId, SettingsDep

router = APIRouter(prefix="/trace", tags=["trace"])


@router.get("/cases/{case_id}", response_model=TraceOut)
def trace_case(
    case_id: RecordId,
    actor: CurrentActor,
    session: DbSession,
    settings: SettingsDep,
    pack: Annotated[str, Query(max_length=40)] = DEFAULT_PACK,
) -> TraceOut:
    """Close, secondary and companion contacts of the case under the protocol pack."""
    return service.trace_case(
        session=session, actor=actor, case_id=case_id, lake=settings.lake_dir, pack_name=pack
    )
