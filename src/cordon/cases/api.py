"""Cases API: register, list, view (with the investigation clock)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from cordon.auth.schemas import Actor
from cordon.cases import service
from cordon.cases.schemas import (
    CaseIn,
    CaseOut,
    InvestigationIn,
    PlanIn,
    PlanOut,
    TransferIn,
    TransferOut,
)
from cordon.web.deps import Cipher, CurrentActor, DbSession, RecordId, require

router = APIRouter(prefix="/cases", tags=["cases"])


@router.post("", response_model=CaseOut, status_code=201)
def register(
    body: CaseIn,
    actor: Annotated[Actor, Depends(require("cases:edit"))],
    session: DbSession,
    cipher: Cipher,
) -> CaseOut:
    return service.register_case(session=session, actor=actor, cipher=cipher, data=body)


@router.get("", response_model=list[CaseOut])
def listing(actor: CurrentActor, session: DbSession) -> list[CaseOut]:
    return service.list_cases(session=session, actor=actor)


@router.get("/{case_id}", response_model=CaseOut)
def view(case_id: RecordId, actor: CurrentActor, session: DbSession) -> CaseOut:
    return service.get_case(session=session, actor=actor, case_id=case_id)


@router.post("/{case_id}/investigation", response_model=CaseOut)
def investigation_done(
    case_id: RecordId,
    body: InvestigationIn,
    actor: Annotated[Actor, Depends(require("cases:edit"))],
    session: DbSession,
) -> CaseOut:
    """Stop the core (4 h) or full (24 h) investigation clock."""
    return service.mark_investigation(session=session, actor=actor, case_id=case_id, data=body)


@router.post("/{case_id}/transfers", response_model=TransferOut, status_code=201)
def transfer(
    case_id: RecordId,
    body: TransferIn,
    actor: Annotated[Actor, Depends(require("cases:edit"))],
    session: DbSession,
) -> TransferOut:
    return service.add_transfer(session=session, actor=actor, case_id=case_id, data=body)


@router.get("/{case_id}/transfers", response_model=list[TransferOut])
def transfer_list(case_id: RecordId, actor: CurrentActor, session: DbSession) -> list[TransferOut]:
    return service.transfers(session=session, actor=actor, case_id=case_id)


@router.put("/{case_id}/plan", response_model=PlanOut)
def plan_write(
    case_id: RecordId,
    body: PlanIn,
    actor: Annotated[Actor, Depends(require("cases:edit"))],
    session: DbSession,
) -> PlanOut:
    return service.set_plan(session=session, actor=actor, case_id=case_id, data=body)


@router.get("/{case_id}/plan", response_model=PlanOut | None)
def plan_read(case_id: RecordId, actor: CurrentActor, session: DbSession) -> PlanOut | None:
    return service.get_plan(session=session, actor=actor, case_id=case_id)
