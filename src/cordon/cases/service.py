"""Registering and reading cases, scoped to the actor's jurisdiction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cordon.audit import service as audit
from cordon.auth.schemas import Actor
from cordon.auth.service import out_of_jurisdiction, require
from cordon.cases import rules
from cordon.cases.models import Case, Transfer, TreatmentPlan
from cordon.cases.schemas import (
    CaseIn,
    CaseOut,
    InvestigationIn,
    PlanIn,
    PlanOut,
    TransferIn,
    TransferOut,
)
from cordon.db import utcnow
from cordon.errors import Conflict, NotFound, Problem, ValidationFailed
from cordon.facts import service as facts_service
from cordon.facts.schemas import FactIn
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
                    "core_done_at",
                    "full_done_at",
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
            "person %(person_id)s is already a case",
            params=dict(person_id=data.person_id),
            problems=[Problem("person_id", "already registered as a case")],
        )
    case = Case(
        division_code=person.division_code, reported_at=now or utcnow(), **data.model_dump()
    )
    session.add(case)
    session.flush()
    # The health code and control read what the person is from the facts ledger.
    facts_service.record(
        session=session,
        actor=actor,
        facts=[
            FactIn(
                person_id=case.person_id,
                kind="case",
                at=case.reported_at,
                attrs={"status": case.kind, "case_id": case.id},
                source=f"cases:case:{case.id}",
            )
        ],
    )
    audit.record(
        session=session,
        actor=actor,
        action="create",
        entity="case",
        entity_id=case.id,
        detail={"person_id": data.person_id},
    )
    return _out(case, now or utcnow())


def _load(*, session: Session, actor: Actor, case_id: int, action: str) -> Case:
    case = session.get(Case, case_id)
    unknown = NotFound(
        "no case %(case_id)s",
        params=dict(case_id=case_id),
        problems=[Problem("case_id", "unknown case")],
    )
    if case is None:
        raise unknown
    if not case.division_code.startswith(actor.jurisdiction):
        raise out_of_jurisdiction(actor, unknown, action=action, entity="case", entity_id=case_id)
    return case


def get_case(
    *, session: Session, actor: Actor, case_id: int, now: datetime | None = None
) -> CaseOut:
    require(actor, "cases:view")
    case = _load(session=session, actor=actor, case_id=case_id, action="view")
    audit.record(session=session, actor=actor, action="view", entity="case", entity_id=case.id)
    return _out(case, now or utcnow())


def mark_investigation(
    *, session: Session, actor: Actor, case_id: int, data: InvestigationIn
) -> CaseOut:
    """Record that the core information or the full investigation is done (stops its clock)."""
    require(actor, "cases:edit")
    case = _load(session=session, actor=actor, case_id=case_id, action="update")
    moment = data.done_at or utcnow()
    if moment < case.reported_at:
        raise ValidationFailed(
            "done before the case was reported",
            problems=[Problem("done_at", "earlier than the report time")],
        )
    if data.stage == "core":
        case.core_done_at = moment
    else:
        case.full_done_at = moment
        case.core_done_at = case.core_done_at or moment
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="update",
        entity="case",
        entity_id=case.id,
        detail={"investigation": data.stage},
    )
    return _out(case, utcnow())


def add_transfer(*, session: Session, actor: Actor, case_id: int, data: TransferIn) -> TransferOut:
    """Move the patient to another facility; the case's current facility follows."""
    require(actor, "cases:edit")
    case = _load(session=session, actor=actor, case_id=case_id, action="update")
    if data.to_facility == case.facility:
        raise ValidationFailed(
            "already there",
            problems=[
                Problem(
                    "to_facility",
                    "the patient is already at %(facility)s",
                    params=dict(facility=case.facility),
                )
            ],
        )
    transfer = Transfer(
        case_id=case.id,
        from_facility=case.facility,
        to_facility=data.to_facility,
        at=data.at,
        reason=data.reason,
        recorded_by=actor.username,
    )
    case.facility = data.to_facility
    session.add(transfer)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="create",
        entity="case_transfer",
        entity_id=transfer.id,
        detail={"case_id": case.id},
    )
    return TransferOut.model_validate(transfer, from_attributes=True)


def transfers(*, session: Session, actor: Actor, case_id: int) -> list[TransferOut]:
    require(actor, "cases:view")
    case = _load(session=session, actor=actor, case_id=case_id, action="view")
    rows = session.scalars(
        select(Transfer).where(Transfer.case_id == case.id).order_by(Transfer.at, Transfer.id)
    )
    return [TransferOut.model_validate(t, from_attributes=True) for t in rows]


def set_plan(*, session: Session, actor: Actor, case_id: int, data: PlanIn) -> PlanOut:
    """Write the patient's treatment plan: one per patient, each change a new version."""
    require(actor, "cases:edit")
    case = _load(session=session, actor=actor, case_id=case_id, action="update")
    plan = session.scalar(select(TreatmentPlan).where(TreatmentPlan.case_id == case.id))
    if plan is None:
        plan = TreatmentPlan(case_id=case.id, version=1, plan=data.plan, updated_by=actor.username)
        session.add(plan)
    elif plan.plan != data.plan:
        plan.plan, plan.version = data.plan, plan.version + 1
        plan.updated_at, plan.updated_by = utcnow(), actor.username
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="update",
        entity="treatment_plan",
        entity_id=case.id,
        detail={"version": plan.version},
    )
    return PlanOut.model_validate(plan, from_attributes=True)


def get_plan(*, session: Session, actor: Actor, case_id: int) -> PlanOut | None:
    require(actor, "cases:view")
    case = _load(session=session, actor=actor, case_id=case_id, action="view")
    plan = session.scalar(select(TreatmentPlan).where(TreatmentPlan.case_id == case.id))
    return None if plan is None else PlanOut.model_validate(plan, from_attributes=True)


def visible_ids(*, session: Session, actor: Actor, case_ids: Sequence[int]) -> set[int]:
    """Those of these cases that exist inside the actor's jurisdiction."""
    wanted = sorted(set(case_ids))
    return set(
        session.scalars(
            select(Case.id).where(
                Case.id.in_(wanted), Case.division_code.startswith(actor.jurisdiction)
            )
        )
    )


def list_cases(*, session: Session, actor: Actor, now: datetime | None = None) -> list[CaseOut]:
    require(actor, "cases:view")
    rows = session.scalars(
        select(Case).where(Case.division_code.startswith(actor.jurisdiction)).order_by(Case.id)
    )
    moment = now or utcnow()
    return [_out(c, moment) for c in rows]
