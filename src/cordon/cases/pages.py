"""Case pages: the list with overdue investigations flagged, and a case's page (clock,
facility and transfers, treatment plan). The trace slice fills the case page's tracing panel
(trajectory map, timeline, contacts) through an HTMX fragment, so this slice need not know it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from cordon.auth.schemas import Actor
from cordon.cases import service
from cordon.cases.schemas import InvestigationIn, PlanIn, TransferIn
from cordon.errors import Problem, ValidationFailed
from cordon.web.deps import DbSession, RecordId
from cordon.web.forms import problems_of
from cordon.web.i18n import N_
from cordon.web.nav import NavEntry
from cordon.web.page_deps import page_require
from cordon.web.templating import render, translated_problems

router = APIRouter(prefix="/cases", include_in_schema=False)
NAV = [NavEntry("/cases", N_("Cases"), "cases:view", order=30)]
TZ = ZoneInfo("Asia/Shanghai")

# Stored codes shown in the user's language (msgids extracted from here).
LABELS = {
    "confirmed": N_("Confirmed"),
    "asymptomatic": N_("Asymptomatic"),
    "routine_test": N_("Routine test"),
    "screening": N_("Mass screening"),
    "symptoms": N_("Symptoms"),
    "tracing": N_("Tracing"),
    "none": N_("No symptoms"),
    "mild": N_("Mild"),
    "moderate": N_("Moderate"),
    "severe": N_("Severe"),
    "critical": N_("Critical"),
}

Viewer = Annotated[Actor, Depends(page_require("cases:view"))]
Editor = Annotated[Actor, Depends(page_require("cases:edit"))]


@router.get("", response_class=HTMLResponse)
def case_list(request: Request, actor: Viewer, session: DbSession) -> HTMLResponse:
    cases = service.list_cases(session=session, actor=actor)
    overdue = sum(c.core_overdue or c.full_overdue for c in cases)
    return render(
        request, "cases/list.html", {"cases": cases, "overdue": overdue, "labels": LABELS}
    )


def _page(
    request: Request,
    actor: Actor,
    session: DbSession,
    case_id: int,
    problems: list[Problem] | None = None,
    status: int = 200,
) -> HTMLResponse:
    case = service.get_case(session=session, actor=actor, case_id=case_id)
    context = {
        "case": case,
        "transfers": service.transfers(session=session, actor=actor, case_id=case_id),
        "plan": service.get_plan(session=session, actor=actor, case_id=case_id),
        "problems": translated_problems(request, problems or []),
        "saved": request.query_params.get("saved") == "1",
        "labels": LABELS,
    }
    return render(request, "cases/view.html", context, status=status)


@router.get("/{case_id}", response_class=HTMLResponse)
def case_page(
    case_id: RecordId, request: Request, actor: Viewer, session: DbSession
) -> HTMLResponse:
    return _page(request, actor, session, case_id)


def _saved(case_id: int) -> Response:
    return RedirectResponse(f"/cases/{case_id}?saved=1", status_code=303)


def _local(value: str) -> datetime:
    """A time typed in the page (Beijing time, as shown) as an aware datetime."""
    moment = datetime.fromisoformat(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=TZ)).astimezone(UTC)


def _handled(
    request: Request, actor: Actor, session: DbSession, case_id: int, action: object
) -> Response:
    try:
        if callable(action):
            action()
    except ValidationError as exc:
        session.rollback()
        return _page(request, actor, session, case_id, problems_of(exc), status=422)
    except ValidationFailed as exc:
        session.rollback()
        return _page(request, actor, session, case_id, exc.problems, status=422)
    return _saved(case_id)


@router.post("/{case_id}/investigation")
def investigation_done(
    case_id: RecordId,
    request: Request,
    actor: Editor,
    session: DbSession,
    stage: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    return _handled(
        request,
        actor,
        session,
        case_id,
        lambda: service.mark_investigation(
            session=session,
            actor=actor,
            case_id=case_id,
            data=InvestigationIn.model_validate({"stage": stage}),
        ),
    )


@router.post("/{case_id}/transfers")
def transfer(
    case_id: RecordId,
    request: Request,
    actor: Editor,
    session: DbSession,
    to_facility: Annotated[str, Form(max_length=100)] = "",
    at: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    def move() -> None:
        try:
            when = _local(at)
        except ValueError as exc:
            raise ValidationFailed(
                "bad time", problems=[Problem("at", "a date and time, e.g. 2021-12-21 10:00")]
            ) from exc
        service.add_transfer(
            session=session,
            actor=actor,
            case_id=case_id,
            data=TransferIn(to_facility=to_facility, at=when, reason=reason),
        )

    return _handled(request, actor, session, case_id, move)


@router.post("/{case_id}/plan")
def plan(
    case_id: RecordId,
    request: Request,
    actor: Editor,
    session: DbSession,
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    return _handled(
        request,
        actor,
        session,
        case_id,
        lambda: service.set_plan(
            session=session, actor=actor, case_id=case_id, data=PlanIn(plan=text)
        ),
    )
