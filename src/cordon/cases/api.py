"""Cases API: register, list, view (with the investigation clock)."""

from __future__ import annotations

from fastapi import APIRouter

from cordon.cases import service
from cordon.cases.schemas import CaseIn, CaseOut
from cordon.web.deps import Cipher, CurrentActor, DbSession, RecordId

router = APIRouter(prefix="/cases", tags=["cases"])


@router.post("", response_model=CaseOut, status_code=201)
def register(body: CaseIn, actor: CurrentActor, session: DbSession, cipher: Cipher) -> CaseOut:
    return service.register_case(session=session, actor=actor, cipher=cipher, data=body)


@router.get("", response_model=list[CaseOut])
def listing(actor: CurrentActor, session: DbSession) -> list[CaseOut]:
    return service.list_cases(session=session, actor=actor)


@router.get("/{case_id}", response_model=CaseOut)
def view(case_id: RecordId, actor: CurrentActor, session: DbSession) -> CaseOut:
    return service.get_case(session=session, actor=actor, case_id=case_id)
