"""Tracing API: trace a case (preview or stored), batch jobs, stored contacts, network, and
the cost preview and push of a list's tiers."""

from __future__ import annotations

import io
import zipfile
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from cordon.auth.schemas import Actor
from cordon.errors import Problem, ValidationFailed
from cordon.jobs import service as jobs_service
from cordon.jobs.flows import dispatch
from cordon.jobs.schemas import JobOut
from cordon.protocols.packs import DEFAULT_PACK
from cordon.trace import contacts, jobs, push, service
from cordon.trace.contacts import ContactFilter
from cordon.trace.pages import KIND_LABELS, SETTING_LABELS
from cordon.trace.schemas import (
    BatchIn,
    ContactPage,
    NetworkOut,
    PushIn,
    PushOut,
    PushPreview,
    TraceOut,
    TrajectoryOut,
)
from cordon.web import i18n
from cordon.web.deps import Cipher, CurrentActor, DbSession, RecordId, SettingsDep, require
from cordon.web.downloads import written_file
from cordon.web.messages import export_words

router = APIRouter(prefix="/trace", tags=["trace"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Pack = Annotated[str, Query(max_length=40)]
Kind = Literal["close", "secondary", "companion"]


@router.get("/cases/{case_id}", response_model=TraceOut)
def preview(
    case_id: RecordId,
    actor: CurrentActor,
    session: DbSession,
    settings: SettingsDep,
    pack: Pack = DEFAULT_PACK,
) -> TraceOut:
    """Contacts of the case under the protocol pack, without storing them (compare packs)."""
    return service.trace_case(
        session=session,
        actor=actor,
        case_id=case_id,
        lake=settings.lake_dir,
        pack_name=pack,
        save=False,
    )


@router.post("/cases/{case_id}", response_model=TraceOut)
def trace_and_store(
    case_id: RecordId,
    actor: CurrentActor,
    session: DbSession,
    settings: SettingsDep,
    pack: Pack = DEFAULT_PACK,
) -> TraceOut:
    """Trace the case and store its contacts and their facts (replacing an earlier trace)."""
    return service.trace_case(
        session=session, actor=actor, case_id=case_id, lake=settings.lake_dir, pack_name=pack
    )


@router.get("/cases/{case_id}/trajectory", response_model=TrajectoryOut)
def trajectory(
    case_id: RecordId,
    actor: CurrentActor,
    session: DbSession,
    settings: SettingsDep,
    pack: Pack = DEFAULT_PACK,
) -> TrajectoryOut:
    return service.trajectory(
        session=session, actor=actor, case_id=case_id, lake=settings.lake_dir, pack_name=pack
    )


@router.post("/cases/{case_id}/job", response_model=JobOut, status_code=202)
def trace_in_background(
    case_id: RecordId,
    request: Request,
    actor: CurrentActor,
    session: DbSession,
    settings: SettingsDep,
    pack: Pack = DEFAULT_PACK,
) -> JobOut:
    """Trace and store the case as a job (answered at once); poll GET /jobs/{id}."""
    job = jobs.start_case(
        session=session, actor=actor, case_id=case_id, pack_name=pack, lake=settings.lake_dir
    )
    return dispatch(request.app, session, job)


@router.post("/batch", response_model=JobOut, status_code=202)
def batch(
    body: BatchIn,
    request: Request,
    actor: Annotated[Actor, Depends(require("trace:run"))],
    session: DbSession,
    settings: SettingsDep,
) -> JobOut:
    """Trace every case reported since ``since`` in the background; poll the job (its
    progress counts cases, group by group)."""
    job = jobs.start_batch(
        session=session, actor=actor, since=body.since, pack_name=body.pack, lake=settings.lake_dir
    )
    return dispatch(request.app, session, job)


@router.get("/jobs/{job_id}", response_model=JobOut)
def job(job_id: RecordId, actor: CurrentActor, session: DbSession) -> JobOut:
    """The same as GET /jobs/{id} (kept for batch clients)."""
    return jobs_service.get(session=session, actor=actor, job_id=job_id)


def _filter(
    kind: Kind | None = None,
    division: Annotated[str | None, Query(max_length=12, pattern=r"^\d+$")] = None,
    grid: Annotated[str | None, Query(max_length=15, pattern=r"^\d+$")] = None,
    case_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    tier: Annotated[int | None, Query(ge=1, le=9, description="Priority tier, 1 highest.")] = None,
    quarantine: Annotated[
        bool,
        Query(description="Only the quarantine list (close and secondary), not companions."),
    ] = False,
) -> ContactFilter:
    return ContactFilter(
        kind=kind,
        division=division,
        grid=grid,
        case_id=case_id,
        tier=tier,
        quarantine=quarantine,
    )


Where = Annotated[ContactFilter, Depends(_filter)]


@router.get("/contacts", response_model=ContactPage)
def contact_list(
    actor: CurrentActor,
    session: DbSession,
    where: Where,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ContactPage:
    """Stored contacts in your jurisdiction (home or traced case), by kind, tier, town, grid,
    case: the quarantine list (close and secondary contacts) riskiest first, then the
    companions (a list of their own: yellow code and tests) riskiest first."""
    return contacts.list_contacts(
        session=session,
        actor=actor,
        where=where,
        offset=offset,
        limit=limit,
    )


@router.get(
    "/contacts.xlsx",
    response_class=FileResponse,
    responses={
        200: {"content": {XLSX: {}}, "description": "The contacts, as XLSX"},
        202: {"model": JobOut, "description": "Too many to send at once: an export job"},
    },
)
def contact_export(
    request: Request,
    actor: CurrentActor,
    session: DbSession,
    cipher: Cipher,
    settings: SettingsDep,
    where: Where,
) -> Response:
    """The filtered (or all) contacts as XLSX, masked as your role requires; audited. The
    quarantine list and the companions are sheets of their own, each riskiest first. Up to
    ``export_direct_rows`` contacts the file comes at once; more start an export job (202):
    poll GET /jobs/{id} and fetch GET /jobs/{id}/result."""
    language = i18n.api_language_of(request)
    total = contacts.count(session=session, actor=actor, where=where)
    if total > settings.export_direct_rows:
        job = jobs.start_export(session=session, actor=actor, where=where, language=language)
        dispatch(request.app, session, job)
        body = job.model_dump(mode="json")
        return JSONResponse(body, status_code=202, headers={"Location": f"/api/v1/jobs/{job.id}"})
    words = export_words(i18n.translations(language).gettext, KIND_LABELS, SETTING_LABELS)
    return written_file(
        settings.data_dir,
        "contacts.xlsx",
        lambda path: contacts.write_xlsx(
            session=session, actor=actor, cipher=cipher, where=where, path=path, shown=words
        ),
    )


@router.get("/network", response_model=NetworkOut)
def network(
    actor: CurrentActor,
    session: DbSession,
    case_id: Annotated[list[int], Query(min_length=1, max_length=200)],
) -> NetworkOut:
    """Cases → close → secondary contacts (stored traces) as nodes and links; past the node
    limit the highest-scored contacts are kept (``truncated``)."""
    if any(c < 1 or c > 2_147_483_647 for c in case_id):
        raise ValidationFailed("bad case id", problems=[Problem("case_id", "out of range")])
    return contacts.network(session=session, actor=actor, case_ids=case_id)


@router.get("/cases/{case_id}/letters.zip", response_class=Response)
def letters(
    case_id: RecordId,
    actor: CurrentActor,
    session: DbSession,
    cipher: Cipher,
    settings: SettingsDep,
    pack: Pack = DEFAULT_PACK,
) -> Response:
    """Assist letters (协查函, DOCX) for contacts living outside your jurisdiction, one per
    region, in a ZIP; every person named is audited."""
    made = service.assist_letters(
        session=session,
        actor=actor,
        cipher=cipher,
        case_id=case_id,
        lake=settings.lake_dir,
        pack_name=pack,
    )
    if not made:
        raise ValidationFailed(
            "no contacts live outside your jurisdiction: no letters",
            problems=[Problem("case_id", "no contacts outside your jurisdiction")],
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for letter in made:
            archive.writestr(f"协查函-病例{case_id}-{letter.division_code}.docx", letter.docx)
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="letters-case-{case_id}.zip"'},
    )


@router.post("/cases/{case_id}/letters", response_model=JobOut, status_code=202)
def letters_in_background(
    case_id: RecordId,
    request: Request,
    actor: CurrentActor,
    session: DbSession,
    settings: SettingsDep,
    pack: Pack = DEFAULT_PACK,
) -> JobOut:
    """Assist letters as a job: the ZIP is fetched from GET /jobs/{id}/result when done."""
    job = jobs.start_letters(
        session=session, actor=actor, case_id=case_id, pack_name=pack, lake=settings.lake_dir
    )
    return dispatch(request.app, session, job)


@router.post("/preview", response_model=PushPreview)
def push_preview(
    body: PushIn,
    actor: Annotated[Actor, Depends(require("cases:view"))],
    session: DbSession,
    settings: SettingsDep,
) -> PushPreview:
    """What pushing these tiers of the cases' stored contacts would cost, before it is done:
    per tier (and the companions) people, who turns red or yellow, central and home
    quarantine, expected infections; per town and grid; rooms and staff for the chosen tiers.
    Counts only; nothing is written."""
    return push.preview(
        session=session,
        actor=actor,
        case_ids=body.case_ids,
        tiers=body.tiers,
        companions=body.companions,
        code_pack=settings.code_pack,
    )


@router.post("/push", response_model=PushOut, status_code=201)
def push_tiers(
    body: PushIn,
    actor: Annotated[Actor, Depends(require("trace:push"))],
    session: DbSession,
    settings: SettingsDep,
) -> PushOut:
    """Push the chosen tiers (and the companions when chosen) of the cases' contacts: their
    contact facts are written and codes follow by themselves; the push is recorded with its
    preview. Tiers pushed before stay pushed; pushing one again changes nothing."""
    return push.push(
        session=session,
        actor=actor,
        case_ids=body.case_ids,
        tiers=body.tiers,
        companions=body.companions,
        code_pack=settings.code_pack,
    )


@router.get("/pushes", response_model=list[PushOut])
def pushes(
    actor: CurrentActor,
    session: DbSession,
    case_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[PushOut]:
    """Pushes of a case (or of every case you may see), newest first: who, when, which tiers,
    and the preview of that moment."""
    return push.pushes(session=session, actor=actor, case_id=case_id, limit=limit)
