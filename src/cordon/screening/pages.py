"""Screening pages: rounds and their dashboard (progress, turnaround, site plan, coverage map,
missing lists), the sampling desk, the lab file import, grid workers' tasks, case proposals
and the pooling planner. The services scope, mask and audit; these routes only translate."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from cordon.auth.schemas import Actor
from cordon.errors import CordonError, Problem, ValidationFailed
from cordon.jobs import service as jobs_service
from cordon.jobs.flows import dispatch
from cordon.people import service as people_service
from cordon.screening import coverage, jobs, labs, planner, service
from cordon.screening.schemas import PlannerIn, RoundIn, ScanIn
from cordon.web import i18n
from cordon.web.deps import Cipher, DbSession, RecordId, SettingsDep
from cordon.web.downloads import written_file
from cordon.web.forms import problems_of
from cordon.web.i18n import N_
from cordon.web.messages import problem_text
from cordon.web.nav import NavEntry
from cordon.web.page_deps import page_require
from cordon.web.templating import render, translated_problems, translator
from cordon.web.uploads import read_upload

router = APIRouter(prefix="/screening", include_in_schema=False)
NAV = [
    NavEntry("/screening", N_("Screening"), "screening:view", order=50),
    NavEntry("/screening/tasks", N_("Tasks"), "screening:view", order=52),
    NavEntry("/screening/planner", N_("Planner"), "screening:view", order=54),
]
TZ = ZoneInfo("Asia/Shanghai")

Viewer = Annotated[Actor, Depends(page_require("screening:view"))]
Operator = Annotated[Actor, Depends(page_require("screening:operate"))]
Manager = Annotated[Actor, Depends(page_require("screening:manage"))]


def _local(text: str) -> datetime | str:
    """A datetime-local field (China Standard Time) as an instant; bad text is left for
    validation to name."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=TZ)
    except ValueError:
        return text


def _rounds_page(
    request: Request,
    session: Any,
    actor: Actor,
    *,
    values: dict[str, str] | None = None,
    problems: list[Problem] | None = None,
) -> HTMLResponse:
    rounds = service.list_rounds(session=session, actor=actor)
    progress = {
        r.id: coverage.progress(session=session, actor=actor, round_id=r.id) for r in rounds
    }
    context = {
        "rounds": rounds,
        "progress": progress,
        "values": values
        or {"division_code": actor.jurisdiction if len(actor.jurisdiction) >= 6 else "450681"},
        "problems": translated_problems(request, problems or []),
    }
    return render(request, "screening/rounds.html", context, status=422 if problems else 200)


@router.get("", response_class=HTMLResponse)
def rounds(request: Request, actor: Viewer, session: DbSession) -> HTMLResponse:
    return _rounds_page(request, session, actor)


@router.post("", response_class=HTMLResponse, response_model=None)
def create_round(
    request: Request,
    actor: Manager,
    session: DbSession,
    name: Annotated[str, Form(max_length=100)] = "",
    division_code: Annotated[str, Form(max_length=12)] = "",
    starts_at: Annotated[str, Form(max_length=20)] = "",
    ends_at: Annotated[str, Form(max_length=20)] = "",
    pool_controlled: Annotated[str, Form(max_length=3)] = "10",
    pool_other: Annotated[str, Form(max_length=3)] = "20",
) -> HTMLResponse | RedirectResponse:
    values = {
        "name": name,
        "division_code": division_code,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "pool_controlled": pool_controlled,
        "pool_other": pool_other,
    }
    try:
        data = RoundIn.model_validate(
            {
                "name": name,
                "division_code": division_code.strip(),
                "starts_at": _local(starts_at),
                "ends_at": _local(ends_at),
                "pooling": {"controlled": pool_controlled, "other": pool_other},
            }
        )
        created = service.create_round(session=session, actor=actor, data=data)
        service.plan_sites(session=session, actor=actor, round_id=created.id)
    except ValidationError as exc:
        return _rounds_page(request, session, actor, values=values, problems=problems_of(exc))
    except ValidationFailed as exc:
        session.rollback()
        return _rounds_page(request, session, actor, values=values, problems=exc.problems)
    return RedirectResponse(f"/screening/rounds/{created.id}", status_code=303)


@router.get("/rounds/{round_id}/missing.xlsx", response_model=None)
def missing_xlsx(
    request: Request,
    round_id: RecordId,
    actor: Viewer,
    session: DbSession,
    cipher: Cipher,
    settings: SettingsDep,
    grid_code: Annotated[str | None, Query(max_length=15, pattern=r"^\d+$")] = None,
) -> Response:
    """The not-yet-sampled list (a grid's or the whole round's): the file at once when short,
    else an export job whose page offers the file. Errors get a page, never a saved file."""
    total = coverage.missing_count(
        session=session, actor=actor, round_id=round_id, grid_code=grid_code
    )
    if total > settings.export_direct_rows:
        job = jobs.start_missing(
            session=session, actor=actor, round_id=round_id, grid_code=grid_code
        )
        dispatch(request.app, session, job)
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)
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


@router.get("/rounds/{round_id}", response_class=HTMLResponse)
def dashboard(request: Request, round_id: int, actor: Viewer, session: DbSession) -> HTMLResponse:
    _ = translator(request)
    found = service.get_round(session=session, actor=actor, round_id=round_id)
    grids = coverage.coverage(session=session, actor=actor, round_id=round_id, by="grid")
    context = {
        "round": found,
        "progress": coverage.progress(session=session, actor=actor, round_id=round_id),
        "plan": service.plan(session=session, actor=actor, round_id=round_id),
        "villages": coverage.coverage(
            session=session, actor=actor, round_id=round_id, by="village"
        ),
        "grids": grids,
        "export_jobs": jobs_service.recent(
            session=session, actor=actor, kind=jobs.MISSING, subject=f"round:{round_id}", limit=3
        ),
        "job_labels": jobs_service.LABELS,
        "map": {
            "points": [
                {
                    "name": g.name,
                    "code": g.code,
                    "value": [g.lon, g.lat, round(g.coverage * 100, 1)],
                    "expected": g.expected,
                    "sampled": g.sampled,
                }
                for g in grids
                if g.lon is not None and g.lat is not None
            ],
            "labels": {
                "coverage": _("Coverage"),
                "sampled": i18n.translations(i18n.language_of(request)).pgettext(
                    "count", "Sampled"
                ),
                "expected": _("Expected"),
            },
        },
    }
    return render(request, "screening/dashboard.html", context)


def _desk(
    request: Request,
    session: Any,
    actor: Actor,
    round_id: int,
    *,
    done: Any = None,
    problems: list[Problem] | None = None,
    status: int = 200,
    site_id: str = "",
) -> HTMLResponse:
    context = {
        "round": service.get_round(session=session, actor=actor, round_id=round_id),
        "sites": service.list_sites(session=session, actor=actor, round_id=round_id),
        "done": done,
        "site_id": site_id,
        "problems": translated_problems(request, problems or []),
    }
    return render(request, "screening/desk.html", context, status=status)


@router.get("/rounds/{round_id}/desk", response_class=HTMLResponse)
def desk(request: Request, round_id: int, actor: Operator, session: DbSession) -> HTMLResponse:
    return _desk(request, session, actor, round_id)


@router.post("/rounds/{round_id}/desk", response_class=HTMLResponse)
def scan(
    request: Request,
    round_id: int,
    actor: Operator,
    session: DbSession,
    cipher: Cipher,
    site_id: Annotated[str, Form(max_length=12)] = "",
    id_number: Annotated[str, Form(max_length=32)] = "",
    tube: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse:
    """One swab at the sampling desk; the answer says how full the tube is."""
    try:
        data = ScanIn.model_validate(
            {"site_id": site_id, "tube": tube.strip(), "id_number": id_number.strip()}
        )
        done = service.register_sample(
            session=session, actor=actor, cipher=cipher, round_id=round_id, scan=data
        )
    except ValidationError as exc:
        return _desk(
            request,
            session,
            actor,
            round_id,
            problems=problems_of(exc),
            status=422,
            site_id=site_id,
        )
    except CordonError as exc:
        session.rollback()
        problems = exc.problems or [exc.as_problem("scan")]
        return _desk(
            request,
            session,
            actor,
            round_id,
            problems=[exc.as_problem(p.field) for p in problems[:1]],
            status=exc.status_code,
            site_id=site_id,
        )
    return _desk(request, session, actor, round_id, done=done, site_id=site_id)


def _results_page(
    request: Request,
    session: Any,
    actor: Actor,
    round_id: int,
    *,
    report: Any = None,
    problems: list[Problem] | None = None,
    status: int = 200,
) -> HTMLResponse:
    _ = translator(request)
    context = {
        "round": service.get_round(session=session, actor=actor, round_id=round_id),
        "report": report,
        "rows": [(p.row, p.field, problem_text(_, p)) for p in problems or [] if p.row is not None],
        "problems": translated_problems(request, [p for p in problems or [] if p.row is None]),
    }
    return render(request, "screening/results.html", context, status=status)


@router.get("/rounds/{round_id}/results", response_class=HTMLResponse)
def results(request: Request, round_id: int, actor: Operator, session: DbSession) -> HTMLResponse:
    return _results_page(request, session, actor, round_id)


@router.post("/rounds/{round_id}/results", response_class=HTMLResponse)
async def import_results(
    request: Request,
    round_id: int,
    actor: Operator,
    session: DbSession,
    settings: SettingsDep,
    file: Annotated[UploadFile | None, File()] = None,
    lab: Annotated[str, Form(max_length=64)] = "",
) -> HTMLResponse:
    """All rows or none; a refused file lists every wrong row."""
    filename = (file.filename or "") if file is not None else ""
    try:
        if file is None or not filename:
            raise ValidationFailed("choose a file", problems=[Problem("file", "choose a file")])
        data = await read_upload(file, max_bytes=settings.max_upload_bytes)
        report = await run_in_threadpool(
            lambda: labs.import_results(
                session=session,
                actor=actor,
                round_id=round_id,
                filename=filename,
                data=data,
                lab=lab.strip(),
            )
        )
    except CordonError as exc:
        session.rollback()
        problems = exc.problems or [exc.as_problem("file")]
        if not any(p.row is not None for p in problems):
            problems = [
                Problem(p.field, p.message, params=p.params, template=p.template) for p in problems
            ]
        return _results_page(
            request,
            session,
            actor,
            round_id,
            problems=[exc.as_problem("file"), *problems],
            status=exc.status_code,
        )
    return _results_page(request, session, actor, round_id, report=report)


@router.get("/tasks", response_class=HTMLResponse)
def tasks(
    request: Request,
    actor: Viewer,
    session: DbSession,
    cipher: Cipher,
    grid_code: str = "",
    status: str = "open",
) -> HTMLResponse:
    chosen = status if status in ("open", "done", "cancelled") else "open"
    grid = grid_code.strip()[:15]
    proposals = coverage.list_proposals(session=session, actor=actor)
    context = {
        "tasks": coverage.list_tasks(
            session=session, actor=actor, cipher=cipher, grid_code=grid or None, status=chosen
        ),
        "grid_code": grid,
        "status": chosen,
        "proposals": proposals,
        "names": people_service.names_of(
            session=session,
            actor=actor,
            person_ids=[p.person_id for p in proposals],
            detail={"page": "case proposals"},
        ),
    }
    return render(request, "screening/tasks.html", context)


@router.post("/tasks/{task_id}/done")
def task_done(task_id: int, actor: Viewer, session: DbSession) -> RedirectResponse:
    coverage.complete_task(session=session, actor=actor, task_id=task_id)
    return RedirectResponse("/screening/tasks", status_code=303)


@router.post("/proposals/{proposal_id}/{decision}")
def decide(
    proposal_id: int, decision: str, actor: Viewer, session: DbSession, cipher: Cipher
) -> RedirectResponse:
    if decision == "accept":
        coverage.accept_proposal(
            session=session, actor=actor, cipher=cipher, proposal_id=proposal_id
        )
    elif decision == "dismiss":
        coverage.dismiss_proposal(session=session, actor=actor, proposal_id=proposal_id)
    else:
        raise ValidationFailed(
            "accept or dismiss", problems=[Problem("decision", "accept or dismiss")]
        )
    return RedirectResponse("/screening/tasks", status_code=303)


DESIGN_LABELS = {
    "single": N_("Single tubes"),
    "dorfman_optimum": N_("Dorfman pools of the best size"),
    "binary_splitting": N_("Binary splitting"),
    "entropy_bound": N_("Entropy bound (the least possible)"),
}


def _design_label(request: Request, name: str) -> str:
    _ = translator(request)
    if name in DESIGN_LABELS:
        return _(DESIGN_LABELS[name])
    if name.startswith("fixed_") and name[6:].isdigit():
        return _("%(n)s-in-1 pools") % {"n": name[6:]}
    return name


@router.get("/planner", response_class=HTMLResponse)
def pooling_planner(
    request: Request,
    actor: Viewer,
    prevalence: str = "0.001",
    max_pool: str = "20",
    people: str = "200000",
    lab_per_day: str = "",
) -> HTMLResponse:
    values = {
        "prevalence": prevalence[:12],
        "max_pool": max_pool[:3],
        "people": people[:10],
        "lab_per_day": lab_per_day[:10],
    }
    result, problems = None, []
    try:
        query = PlannerIn.model_validate({k: v for k, v in values.items() if v.strip()})
        result = planner.recommend(actor=actor, query=query)
    except ValidationError as exc:
        problems = problems_of(exc)
    context = {
        "values": values,
        "result": result,
        "design_label": lambda name: _design_label(request, name),
        "problems": translated_problems(request, problems),
    }
    return render(request, "screening/planner.html", context, status=422 if problems else 200)
