"""Coverage, progress and the people not yet sampled; grid workers' tasks; case proposals.

Counts come from the roster joined to samples and tubes in one grouped query. Lists of
people read their records through ``people.service`` (scoped, masked and audited there).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from cordon.audit import service as audit
from cordon.auth.schemas import Actor
from cordon.auth.service import out_of_jurisdiction, require
from cordon.cases import service as cases_service
from cordon.cases.schemas import CaseIn
from cordon.db import utcnow
from cordon.errors import Conflict, Forbidden, NotFound, Problem
from cordon.geo import service as geo
from cordon.people import service as people_service
from cordon.screening import rules
from cordon.screening.models import CaseProposal, RosterEntry, Sample, Task, Tube
from cordon.screening.schemas import (
    CoverageRow,
    MissingPerson,
    Progress,
    ProposalOut,
    TaskOut,
)
from cordon.screening.service import load_round
from cordon.security.crypto import FieldCipher

MISSING_LIMIT = 50_000


def coverage(
    *, session: Session, actor: Actor, round_id: int, by: str = "grid"
) -> list[CoverageRow]:
    """Expected, sampled, resulted and positive people per grid (or village)."""
    require(actor, "screening:view")
    load_round(session=session, actor=actor, round_id=round_id)
    key = RosterEntry.grid_code if by == "grid" else RosterEntry.division_code
    query = (
        select(
            key,
            func.count(),
            func.count(Sample.id),
            func.count(Tube.result),
            func.sum(case((Tube.result == "positive", 1), else_=0)),
            func.sum(case((Sample.pool_flag.in_(("flagged", "confirmed")), 1), else_=0)),
            func.sum(case((Sample.pool_flag == "cleared", 1), else_=0)),
        )
        .select_from(RosterEntry)
        .outerjoin(
            Sample,
            and_(
                Sample.round_id == RosterEntry.round_id,
                Sample.person_id == RosterEntry.person_id,
                Sample.purpose == "screening",
            ),
        )
        .outerjoin(Tube, Tube.id == Sample.tube_id)
        .where(
            RosterEntry.round_id == round_id,
            RosterEntry.division_code.startswith(actor.jurisdiction),
        )
        .group_by(key)
        .order_by(key)
    )
    rows = [tuple(r) for r in session.execute(query)]
    codes = [str(r[0]) for r in rows if r[0]]
    places: dict[str, tuple[str, float | None, float | None]] = {}
    if by == "grid":
        for grid in geo.grids_within(session=session, code=actor.jurisdiction):
            places[grid.code] = (grid.name, grid.lon, grid.lat)
    else:
        places = {
            c: (n, None, None) for c, n in geo.divisions_named(session=session, codes=codes).items()
        }
    out = []
    for code, expected, sampled, resulted, positive, flagged, cleared in rows:
        name, lon, lat = places.get(code or "", (code or "—", None, None))
        out.append(
            CoverageRow(
                code=code or "",
                name=name,
                expected=int(expected),
                sampled=int(sampled),
                resulted=int(resulted),
                positive=int(positive or 0),
                flagged=int(flagged or 0),
                cleared=int(cleared or 0),
                coverage=round(int(sampled) / int(expected), 4) if expected else 0.0,
                lon=lon,
                lat=lat,
            )
        )
    return out


def progress(
    *, session: Session, actor: Actor, round_id: int, now: datetime | None = None
) -> Progress:
    """Round totals and turnaround (first swab of a tube to its result) against the target."""
    require(actor, "screening:view")  # before the round: no permission is 403 for every round
    row = load_round(session=session, actor=actor, round_id=round_id)
    totals = coverage(session=session, actor=actor, round_id=round_id, by="village")
    tubes = session.execute(
        select(Tube.opened_at, Tube.resulted_at, Tube.result).where(
            Tube.round_id == round_id, Tube.division_code.startswith(actor.jurisdiction)
        )
    ).all()
    moment = now or utcnow()
    hours = [
        ((done or moment) - opened).total_seconds() / 3600 for opened, done, _r in tubes if done
    ]
    late_pending = sum(
        1
        for opened, done, _r in tubes
        if done is None and (moment - opened).total_seconds() / 3600 > row.result_hours
    )
    within = sum(h <= row.result_hours for h in hours)
    p50, p90 = rules.percentile(hours, 50), rules.percentile(hours, 90)
    return Progress(
        round_id=round_id,
        expected=sum(c.expected for c in totals),
        sampled=sum(c.sampled for c in totals),
        resulted=sum(c.resulted for c in totals),
        positive_tubes=sum(1 for _o, _d, r in tubes if r == "positive"),
        tubes=len(tubes),
        turnaround_p50_hours=round(p50, 2) if p50 is not None else None,
        turnaround_p90_hours=round(p90, 2) if p90 is not None else None,
        turnaround_max_hours=round(max(hours), 2) if hours else None,
        within_target=round(within / (len(hours) + late_pending), 4) if hours else None,
        target_hours=row.result_hours,
    )


def missing_ids(
    *, session: Session, actor: Actor, round_id: int, grid_code: str | None = None
) -> list[int]:
    """People on the roster not yet sampled, in the actor's jurisdiction (ids only)."""
    require(actor, "screening:view")
    load_round(session=session, actor=actor, round_id=round_id)
    sampled = select(Sample.person_id).where(
        Sample.round_id == round_id, Sample.purpose == "screening"
    )
    query = select(RosterEntry.person_id).where(
        RosterEntry.round_id == round_id,
        RosterEntry.division_code.startswith(actor.jurisdiction),
        RosterEntry.person_id.not_in(sampled),
    )
    if grid_code:
        query = query.where(RosterEntry.grid_code == grid_code)
    return list(session.scalars(query.order_by(RosterEntry.person_id)))


def missing_people(
    *,
    session: Session,
    actor: Actor,
    cipher: FieldCipher,
    round_id: int,
    grid_code: str | None = None,
    limit: int = MISSING_LIMIT,
    purpose: str = "screening_missing",
) -> tuple[int, list[MissingPerson]]:
    require(actor, "people:view")  # before the round: no permission is 403 for every round
    ids = missing_ids(session=session, actor=actor, round_id=round_id, grid_code=grid_code)
    people = people_service.read_many(
        session=session, actor=actor, cipher=cipher, person_ids=ids[:limit], purpose=purpose
    )
    return len(ids), [
        MissingPerson(
            person_id=p.id,
            name=p.name,
            id_number=p.id_number,
            phone=p.phone,
            address=p.address,
            grid_code=p.grid_code,
            division_code=p.division_code,
        )
        for p in people
    ]


MISSING_HEADERS = ["姓名", "身份证号", "手机号", "住址", "网格编码", "区划代码"]
MISSING_CHUNK = 5_000


def write_missing_xlsx(
    *,
    session: Session,
    actor: Actor,
    cipher: FieldCipher,
    round_id: int,
    grid_code: str | None,
    path: Path,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """The not-yet-sampled list (a grid's, or the whole round's) written to ``path`` as XLSX a
    chunk at a time (openpyxl's write-only mode streams to disk), masked as the role requires;
    every record read is audited. Returns the rows written."""
    require(actor, "people:view")  # before the round: no permission is 403 for every round
    ids = missing_ids(session=session, actor=actor, round_id=round_id, grid_code=grid_code)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("未采样人员")
    sheet.append(MISSING_HEADERS)
    written = 0
    for start in range(0, len(ids), MISSING_CHUNK):
        people = people_service.read_many(
            session=session,
            actor=actor,
            cipher=cipher,
            person_ids=ids[start : start + MISSING_CHUNK],
            purpose="screening_missing_export",
        )
        for p in people:
            row = [
                p.name,
                p.id_number,
                p.phone or "",
                p.address,
                p.grid_code or "",
                p.division_code,
            ]
            sheet.append(row)
        written += len(people)
        if progress is not None:
            progress(min(start + MISSING_CHUNK, len(ids)), len(ids))
    book.save(path)
    return written


def missing_count(
    *, session: Session, actor: Actor, round_id: int, grid_code: str | None = None
) -> int:
    """How many people the not-yet-sampled list holds (what its export would write)."""
    require(actor, "people:view")  # the list names people: no permission is 403 for every round
    return len(missing_ids(session=session, actor=actor, round_id=round_id, grid_code=grid_code))


# --- Tasks -------------------------------------------------------------------------------


def list_tasks(
    *,
    session: Session,
    actor: Actor,
    cipher: FieldCipher,
    round_id: int | None = None,
    grid_code: str | None = None,
    status: str | None = "open",
) -> list[TaskOut]:
    """Retest and isolation tasks in the actor's jurisdiction (a grid worker's is their grid)."""
    require(actor, "screening:view")
    query = select(Task).where(Task.division_code.startswith(actor.jurisdiction))
    if round_id is not None:
        query = query.where(Task.round_id == round_id)
    if grid_code:
        query = query.where(Task.grid_code == grid_code)
    if status:
        query = query.where(Task.status == status)
    tasks = list(session.scalars(query.order_by(Task.due_at, Task.id).limit(5000)))
    # Roles that may not read people (analysts) see the tasks without names.
    names = (
        {
            p.id: p.name
            for p in people_service.read_many(
                session=session,
                actor=actor,
                cipher=cipher,
                person_ids=sorted({t.person_id for t in tasks}),
                purpose="screening_tasks",
            )
        }
        if actor.can("people:view")
        else {}
    )
    return [
        TaskOut(
            id=t.id,
            round_id=t.round_id,
            kind=t.kind,
            person_id=t.person_id,
            name=names.get(t.person_id, ""),
            grid_code=t.grid_code,
            tube_barcode=t.tube_barcode,
            status=t.status,
            due_at=t.due_at,
            created_at=t.created_at,
            done_at=t.done_at,
        )
        for t in tasks
    ]


def _in_reach(
    actor: Actor, division_code: str, unknown: NotFound, action: str, entity: str, entity_id: int
) -> None:
    """Another jurisdiction's task or proposal is answered as unknown and audited as denied."""
    if not division_code.startswith(actor.jurisdiction):
        raise out_of_jurisdiction(actor, unknown, action=action, entity=entity, entity_id=entity_id)


def complete_task(*, session: Session, actor: Actor, task_id: int) -> None:
    """A grid worker reports an isolation done (retests close when their result comes)."""
    require(actor, "screening:view")
    if not (actor.can("people:edit") or actor.can("screening:operate")):
        raise Forbidden("your role (%(role)s) may not close tasks", params=dict(role=actor.role))
    task = session.get(Task, task_id)
    unknown = NotFound(
        "no task %(task_id)s",
        params=dict(task_id=task_id),
        problems=[Problem("task_id", "unknown task")],
    )
    if task is None:
        raise unknown
    _in_reach(actor, task.division_code, unknown, "done", "screening_task", task_id)
    if task.kind == "retest":
        raise Conflict(
            "a retest task closes when its single-tube result is imported",
            problems=[Problem("task_id", "retest tasks close with their result")],
        )
    if task.status == "open":
        task.status, task.done_at = "done", utcnow()
        session.flush()
        audit.record(
            session=session,
            actor=actor,
            action="task_done",
            entity="person",
            entity_id=task.person_id,
            detail={"task_id": task.id, "kind": task.kind},
        )


# --- Case proposals ----------------------------------------------------------------------


def _proposal_out(p: CaseProposal) -> ProposalOut:
    return ProposalOut.model_validate(p, from_attributes=True)


def list_proposals(
    *, session: Session, actor: Actor, status: str | None = "open"
) -> list[ProposalOut]:
    require(actor, "screening:view")
    query = select(CaseProposal).where(CaseProposal.division_code.startswith(actor.jurisdiction))
    if status:
        query = query.where(CaseProposal.status == status)
    return [_proposal_out(p) for p in session.scalars(query.order_by(CaseProposal.id))]


def _proposal(session: Session, actor: Actor, proposal_id: int) -> CaseProposal:
    found = session.get(CaseProposal, proposal_id)
    unknown = NotFound(
        "no proposal %(proposal_id)s",
        params=dict(proposal_id=proposal_id),
        problems=[Problem("proposal_id", "unknown")],
    )
    if found is None:
        raise unknown
    _in_reach(actor, found.division_code, unknown, "decide", "screening_proposal", proposal_id)
    if found.status != "open":
        raise Conflict(
            "proposal %(proposal_id)s is already %(status)s",
            params=dict(proposal_id=proposal_id, status=found.status),
            problems=[Problem("proposal_id", found.status)],
        )
    return found


def accept_proposal(
    *,
    session: Session,
    actor: Actor,
    cipher: FieldCipher,
    proposal_id: int,
    kind: str = "asymptomatic",
) -> ProposalOut:
    """Register the case through the cases slice (found by screening)."""
    require(actor, "cases:edit")  # before the proposal: no permission is 403 for every one
    found = _proposal(session, actor, proposal_id)
    case_out = cases_service.register_case(
        session=session,
        actor=actor,
        cipher=cipher,
        data=CaseIn.model_validate(
            {
                "person_id": found.person_id,
                "kind": kind,
                "sampled_at": found.sampled_at,
                "found_by": "screening",
            }
        ),
    )
    found.status, found.case_id = "accepted", case_out.id
    session.flush()
    return _proposal_out(found)


def dismiss_proposal(*, session: Session, actor: Actor, proposal_id: int) -> ProposalOut:
    require(actor, "cases:edit")
    found = _proposal(session, actor, proposal_id)
    found.status = "dismissed"
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="dismiss",
        entity="screening_proposal",
        entity_id=found.id,
    )
    return _proposal_out(found)
