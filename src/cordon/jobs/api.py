"""Jobs API: a job's progress and result, the jobs in your jurisdiction, cancel, download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from cordon.jobs import service
from cordon.jobs.schemas import JobOut
from cordon.web.deps import CurrentActor, DbSession, RecordId, SettingsDep

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("", response_model=list[JobOut])
def jobs(
    actor: CurrentActor,
    session: DbSession,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[JobOut]:
    """Recent jobs in your jurisdiction, newest first."""
    return service.recent(session=session, actor=actor, kind=kind, limit=limit)


@router.get("/{job_id}", response_model=JobOut)
def job(job_id: RecordId, actor: CurrentActor, session: DbSession) -> JobOut:
    """A job's status and progress (done of total, with a message), its result or error."""
    return service.get(session=session, actor=actor, job_id=job_id)


@router.post("/{job_id}/cancel", response_model=JobOut)
def cancel(job_id: RecordId, actor: CurrentActor, session: DbSession) -> JobOut:
    """Stop a job: a queued one at once, a running one at its next step."""
    return service.cancel(session=session, actor=actor, job_id=job_id)


@router.get("/{job_id}/result", response_class=FileResponse)
def result(
    job_id: RecordId, actor: CurrentActor, session: DbSession, settings: SettingsDep
) -> FileResponse:
    """The file a finished export wrote (only for the user who started it)."""
    path, name = service.result_file(
        session=session, actor=actor, job_id=job_id, root=settings.data_dir
    )
    return FileResponse(path, filename=name)
