"""Registering and reading cases, scoped to the actor's jurisdiction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cordon.audit import service as audit
from cordon.auth.schemas import Actor
from cordon.auth.service import out_of_jurisdiction, require
from cordon.cases import rules
from cordon.cases.models import Case
from cordon.cases.schemas import CaseIn, CaseOut
from cordon.db import utcnow
from cordon.errors import Conflict, NotFound, Problem
from cordon.people import service as people_service
from cordon.security.crypto import FieldCipher


def _out(case: Case, now: datetime) -> CaseOut:
    clock = rules.investigation_clock(
        reported_at=case.reported_at,
        core_done_at=case.core_done_at,
        full_done_at=case.full_done_at,
        now=now,
    )
    return CaseOut.model_validate(
        {
            **{
                c: getattr(case, c)
                for c in (
                    "id",
                    "person_id",
                    "division_code",
                    "kind",
                    "severity",
                    "onset_date",
                    "sampled_at",
                    "found_by",
                    "reported_at",
                    "isolated_at",
                    "facility",
                )
            },
            "core_due": clock.core_due,
            "full_due": clock.full_due,
            "core_overdue": clock.core_overdue,
            "full_overdue": clock.full_overdue,
        }
    )


def register_case(
    *,
    session: Session,
    actor: Actor,
    cipher: FieldCipher,
    data: CaseIn,
    now: datetime | None = None,
) -> CaseOut:
    require(actor, "cases:edit")
    person = people_service.get_person(
        session=session, actor=actor, cipher=cipher, person_id=data.person_id
    )
    if session.scalar(select(Case.id).where(Case.person_id == data.person_id)) is not None:
        raise Conflict(
            f"person {data.person_id} is already a case",
            problems=[Problem("person_id", "already registered as a case")],
        )
    case = Case(
        division_code=person.division_code, reported_at=now or utcnow(), **data.model_dump()
    )
    session.add(case)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="create",
        entity="case",
        entity_id=case.id,
        detail={"person_id": data.person_id},
    )
    return _out(case, now or utcnow())


def get_case(
    *, session: Session, actor: Actor, case_id: int, now: datetime | None = None
) -> CaseOut:
    require(actor, "cases:view")
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}", problems=[Problem("case_id", "unknown case")])
    if not case.division_code.startswith(actor.jurisdiction):
        raise out_of_jurisdiction(
            actor, message=f"no case {case_id}", action="view", entity="case", entity_id=case_id
        )
    audit.record(session=session, actor=actor, action="view", entity="case", entity_id=case.id)
    return _out(case, now or utcnow())


def list_cases(*, session: Session, actor: Actor, now: datetime | None = None) -> list[CaseOut]:
    require(actor, "cases:view")
    rows = session.scalars(
        select(Case).where(Case.division_code.startswith(actor.jurisdiction)).order_by(Case.id)
    )
    moment = now or utcnow()
    return [_out(c, moment) for c in rows]
