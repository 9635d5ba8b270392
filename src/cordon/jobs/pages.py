"""Jobs pages: the list with progress and cancel buttons, one job's page, the progress element
other pages embed (an htmx fragment polled while the job runs), and the download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from cordon.auth.schemas import Actor
from cordon.jobs import service
from cordon.jobs.schemas import JobOut
from cordon.web.deps import DbSession, RecordId, SettingsDep
from cordon.web.i18n import N_
from cordon.web.nav import NavEntry
from cordon.web.page_deps import page_require
from cordon.web.templating import render

router = APIRouter(prefix="/jobs", include_in_schema=False)
NAV = [NavEntry("/jobs", N_("Jobs"), "overview:view", order=91)]
Viewer = Annotated[Actor, Depends(page_require("overview:view"))]


@router.get("", response_class=HTMLResponse)
def job_list(request: Request, actor: Viewer, session: DbSession) -> HTMLResponse:
    found = service.recent(session=session, actor=actor)
    running = any(not j.finished for j in found)
    context = {"jobs": found, "running": running, "job_labels": service.LABELS}
    return render(request, "jobs/list.html", context)


@router.get("/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: RecordId, actor: Viewer, session: DbSession) -> HTMLResponse:
    job = service.get(session=session, actor=actor, job_id=job_id)
    return render(request, "jobs/view.html", {"job": job, "job_labels": service.LABELS})


@router.get("/{job_id}/progress", response_class=HTMLResponse)
def progress(
    request: Request,
    job_id: RecordId,
    actor: Viewer,
    session: DbSession,
    refresh: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    """The progress element alone (htmx polls it). With ``refresh``, a job that has finished
    reloads the page that embeds it, which then shows the job's result."""
    job: JobOut = service.get(session=session, actor=actor, job_id=job_id)
    response = render(
        request,
        "jobs/progress.html",
        {"job": job, "refresh": refresh, "job_labels": service.LABELS},
    )
    if refresh and job.finished:
        response.headers["HX-Refresh"] = "true"
    return response


@router.post("/{job_id}/cancel")
def cancel(request: Request, job_id: RecordId, actor: Viewer, session: DbSession) -> Response:
    service.cancel(session=session, actor=actor, job_id=job_id)
    back = request.headers.get("referer", "")
    target = back if back.startswith(str(request.base_url)) else "/jobs"
    return RedirectResponse(target, status_code=303)


@router.get("/{job_id}/download")
def download(
    job_id: RecordId, actor: Viewer, session: DbSession, settings: SettingsDep
) -> FileResponse:
    path, name = service.result_file(
        session=session, actor=actor, job_id=job_id, root=settings.data_dir
    )
    return FileResponse(path, filename=name)
