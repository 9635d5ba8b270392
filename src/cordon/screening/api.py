"""Screening API: rounds and sites, sampling scans, lab receipt and results, coverage, the
missing list, grid workers' tasks, case proposals, the pooling planner and residents' lookup."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse

from cordon.auth.schemas import Actor
from cordon.jobs.flows import dispatch
from cordon.jobs.schemas import JobOut
from cordon.screening import coverage, jobs, labs, planner, residents, service
from cordon.screening.schemas import (
    CoverageRow,
    LabImportOut,
    LookupIn,
    LookupOut,
    MissingPerson,
    PlannerIn,
    PlannerOut,
    PlanOut,
    Progress,
    ProposalOut,
    ReceiveIn,
    ReceiveOut,
    RoundIn,
    RoundOut,
    ScanIn,
    ScanOut,
    SiteIn,
    SiteOut,
    TaskOut,
)
from cordon.web.deps import (
    Cipher,
    CurrentActor,
    DbSession,
    RecordId,
    SettingsDep,
    client_addr,
    require,
    route_reads,
)
from cordon.web.downloads import written_file
from cordon.web.uploads import read_upload

router = APIRouter(prefix="/screening", tags=["screening"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Barcode = Annotated[str, Query(pattern=r"^[A-Za-z0-9-]{4,40}$")]
GridCode = Annotated[str | None, Query(max_length=15, pattern=r"^\d+$")]


@router.post("/rounds", response_model=RoundOut, status_code=201)
def create_round(
    body: RoundIn, actor: Annotated[Actor, Depends(require("screening:manage"))], session: DbSession
) -> RoundOut:
    """Open a round over an area; everyone living there is put on its roster."""
    return service.create_round(session=session, actor=actor, data=body)


@router.get("/rounds", response_model=list[RoundOut])
def list_rounds(actor: CurrentActor, session: DbSession) -> list[RoundOut]:
    return service.list_rounds(session=session, actor=actor)


@router.get("/rounds/{round_id}", response_model=RoundOut)
def get_round(round_id: RecordId, actor: CurrentActor, session: DbSession) -> RoundOut:
    return service.get_round(session=session, actor=actor, round_id=round_id)


@router.post("/rounds/{round_id}/sites", response_model=SiteOut, status_code=201)
def add_site(
    round_id: RecordId,
    body: SiteIn,
    actor: Annotated[Actor, Depends(require("screening:manage"))],
    session: DbSession,
) -> SiteOut:
    return service.add_site(session=session, actor=actor, round_id=round_id, data=body)


@router.get("/rounds/{round_id}/sites", response_model=list[SiteOut])
def list_sites(round_id: RecordId, actor: CurrentActor, session: DbSession) -> list[SiteOut]:
    return service.list_sites(session=session, actor=actor, round_id=round_id)


@router.post("/rounds/{round_id}/plan", response_model=PlanOut)
def plan_sites(round_id: RecordId, actor: CurrentActor, session: DbSession) -> PlanOut:
    """A site per village for grids no site serves yet, sized to the round's window."""
    return service.plan_sites(session=session, actor=actor, round_id=round_id)


@router.get("/rounds/{round_id}/plan", response_model=PlanOut)
def get_plan(round_id: RecordId, actor: CurrentActor, session: DbSession) -> PlanOut:
    """Expected people per site and table per day against capacity; overloaded sites flagged."""
    return service.plan(session=session, actor=actor, round_id=round_id)


@router.post("/rounds/{round_id}/samples", response_model=ScanOut, status_code=201)
def scan(
    round_id: RecordId,
    body: ScanIn,
    actor: Annotated[Actor, Depends(require("screening:operate"))],
    session: DbSession,
    cipher: Cipher,
) -> ScanOut:
    """One swab: the person's identity (or pre-registration code) and the tube barcode."""
    return service.register_sample(
        session=session, actor=actor, cipher=cipher, round_id=round_id, scan=body
    )


@router.post("/rounds/{round_id}/tubes/close", response_model=ScanOut)
def close_tube(
    round_id: RecordId,
    tube: Barcode,
    actor: Annotated[Actor, Depends(require("screening:operate"))],
    session: DbSession,
) -> ScanOut:
    return service.close_tube(session=session, actor=actor, round_id=round_id, barcode=tube)


@router.post("/rounds/{round_id}/receipts", response_model=ReceiveOut)
def receive(
    round_id: RecordId,
    body: ReceiveIn,
    actor: Annotated[Actor, Depends(require("screening:operate"))],
    session: DbSession,
) -> ReceiveOut:
    """A lab's batch scan of the tubes it received (all or none)."""
    new, already = service.receive_tubes(
        session=session, actor=actor, round_id=round_id, lab=body.lab, barcodes=body.tubes
    )
    return ReceiveOut(received=new, already=already)


@router.post("/rounds/{round_id}/results", response_model=LabImportOut)
async def import_results(
    round_id: RecordId,
    actor: Annotated[Actor, Depends(require("screening:operate"))],
    session: DbSession,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="Lab results, XLSX or CSV")],
    lab: Annotated[str, Query(max_length=64)] = "",
) -> LabImportOut:
    """Every row checked, then all imported or none; the same file twice changes nothing."""
    data = await read_upload(file, max_bytes=settings.max_upload_bytes)
    return labs.import_results(
        session=session,
        actor=actor,
        round_id=round_id,
        filename=file.filename or "",
        data=data,
        lab=lab,
    )


@router.get("/rounds/{round_id}/coverage", response_model=list[CoverageRow])
def get_coverage(
    round_id: RecordId,
    actor: CurrentActor,
    session: DbSession,
    by: Literal["grid", "village"] = "grid",
) -> list[CoverageRow]:
    return coverage.coverage(session=session, actor=actor, round_id=round_id, by=by)


@router.get("/rounds/{round_id}/progress", response_model=Progress)
def get_progress(round_id: RecordId, actor: CurrentActor, session: DbSession) -> Progress:
    return coverage.progress(session=session, actor=actor, round_id=round_id)


@router.get("/rounds/{round_id}/missing", response_model=list[MissingPerson])
def missing(
    round_id: RecordId,
    actor: CurrentActor,
    session: DbSession,
    cipher: Cipher,
    grid_code: GridCode = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[MissingPerson]:
    """People not yet sampled (masked as the role requires; audited)."""
    _total, people = coverage.missing_people(
        session=session,
        actor=actor,
        cipher=cipher,
        round_id=round_id,
        grid_code=grid_code,
        limit=limit,
    )
    return people


@router.get(
    "/rounds/{round_id}/missing.xlsx",
    response_class=Response,
    responses={
        200: {"content": {XLSX: {}}, "description": "People not yet sampled, as XLSX"},
        202: {"model": JobOut, "description": "Too many to send at once: an export job"},
    },
)
def missing_xlsx(
    round_id: RecordId,
    request: Request,
    actor: CurrentActor,
    session: DbSession,
    cipher: Cipher,
    settings: SettingsDep,
    grid_code: GridCode = None,
) -> Response:
    """People not yet sampled (a grid's, or the whole round's) as XLSX; masked, audited. Up to
    ``export_direct_rows`` people the file comes at once; more start an export job (202):
    poll GET /jobs/{id} and fetch GET /jobs/{id}/result."""
    total = coverage.missing_count(
        session=session, actor=actor, round_id=round_id, grid_code=grid_code
    )
    if total > settings.export_direct_rows:
        job = jobs.start_missing(
            session=session, actor=actor, round_id=round_id, grid_code=grid_code
        )
        dispatch(request.app, session, job)
        body = job.model_dump(mode="json")
        return JSONResponse(body, status_code=202, headers={"Location": f"/api/v1/jobs/{job.id}"})
    return written_file(
        settings.data_dir,
        jobs.missing_name(round_id, grid_code),
        lambda path: coverage.write_missing_xlsx(
            session=session,
            actor=actor,
            cipher=cipher,
            round_id=round_id,
            grid_code=grid_code,
            path=path,
        ),
    )


@router.post("/simulations", response_model=JobOut, status_code=202)
def simulate(
    request: Request,
    actor: Annotated[Actor, Depends(require("screening:manage"))],
    session: DbSession,
    settings: SettingsDep,
    day: Annotated[int, Query(ge=0, le=365)],
    division_code: Annotated[str, Query(pattern=r"^\d{6,12}$")] = "450681",
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 7,
) -> JobOut:
    """A whole simulated round over the demo's city (sites, swabs, a lab file and its import)
    as a job; its result is the report of infections found and missed."""
    job = jobs.start_simulation(
        session=session,
        actor=actor,
        lake=settings.lake_dir,
        day=day,
        division_code=division_code,
        seed=seed,
    )
    dispatch(request.app, session, job)
    return job


@router.get("/tasks", response_model=list[TaskOut])
def tasks(
    actor: CurrentActor,
    session: DbSession,
    cipher: Cipher,
    round_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    grid_code: GridCode = None,
    status: Literal["open", "done", "cancelled"] | None = "open",
) -> list[TaskOut]:
    """Retest and isolation tasks for grid workers, in the actor's jurisdiction."""
    return coverage.list_tasks(
        session=session,
        actor=actor,
        cipher=cipher,
        round_id=round_id,
        grid_code=grid_code,
        status=status,
    )


@router.post("/tasks/{task_id}/done", status_code=204)
def task_done(task_id: RecordId, actor: CurrentActor, session: DbSession) -> Response:
    coverage.complete_task(session=session, actor=actor, task_id=task_id)
    return Response(status_code=204)


@router.get("/proposals", response_model=list[ProposalOut])
def proposals(
    actor: CurrentActor,
    session: DbSession,
    status: Literal["open", "accepted", "dismissed"] | None = "open",
) -> list[ProposalOut]:
    """Positive single tubes waiting for an epidemiologist to register the case."""
    return coverage.list_proposals(session=session, actor=actor, status=status)


@router.post("/proposals/{proposal_id}/accept", response_model=ProposalOut)
def accept(
    proposal_id: RecordId,
    actor: CurrentActor,
    session: DbSession,
    cipher: Cipher,
    kind: Literal["confirmed", "asymptomatic"] = "asymptomatic",
) -> ProposalOut:
    return coverage.accept_proposal(
        session=session, actor=actor, cipher=cipher, proposal_id=proposal_id, kind=kind
    )


@router.post("/proposals/{proposal_id}/dismiss", response_model=ProposalOut)
def dismiss(proposal_id: RecordId, actor: CurrentActor, session: DbSession) -> ProposalOut:
    return coverage.dismiss_proposal(session=session, actor=actor, proposal_id=proposal_id)


@router.post("/planner", response_model=PlannerOut)
def pooling_planner(
    body: PlannerIn, actor: Annotated[Actor, Depends(require("screening:view"))]
) -> PlannerOut:
    """Pool sizes and expected tests per person at an estimated prevalence."""
    return planner.recommend(actor=actor, query=body)


@router.post("/lookup", response_model=LookupOut)
async def lookup(body: LookupIn, request: Request) -> LookupOut:
    """A resident's own results (no login; masked, audited, limited per address and number)."""
    # On the event loop like the code lookup (codes/api.py): a few indexed reads, no writes.
    with route_reads(request) as session:
        return residents.own_results(
            session=session,
            cipher=request.app.state.cipher,
            query=body,
            client_addr=client_addr(request),
            limiter=request.app.state.limiter,
            audit_record=request.app.state.audit.record,
        )
