"""Case pages: the list with overdue investigations flagged, and a case's page (clock,
facility and transfers, treatment plan). The trace slice fills the case page's tracing panel
(trajectory map, timeline, contacts) through an HTMX fragment, so this slice need not know it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from cordon.auth.schemas import Actor
from cordon.cases import service
from cordon.cases.schemas import CaseIn, InvestigationIn, PlanIn, TransferIn
from cordon.errors import Conflict, Problem, ValidationFailed
from cordon.people import service as people_service
from cordon.web.deps import Cipher, DbSession, RecordId
from cordon.web.forms import problems_of
from cordon.web.i18n import N_
from cordon.web.nav import NavEntry
from cordon.web.page_deps import page_require
from cordon.web.templating import render, translated_problems, translator

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
    names = people_service.names_of(
        session=session,
        actor=actor,
        person_ids=[c.person_id for c in cases],
        detail={"page": "cases"},
    )
    context = {"cases": cases, "overdue": overdue, "labels": LABELS, "names": names}
    return render(request, "cases/list.html", context)


CASE_FIELDS = {
    "person_id": N_("Person"),
    "kind": N_("Kind"),
    "severity": N_("Severity"),
    "onset_date": N_("Symptom onset"),
    "sampled_at": N_("Sampling time"),
    "found_by": N_("Found by"),
    "isolated_at": N_("Isolation time"),
    "facility": N_("Facility"),
    "q": N_("Identity number or name"),
    "form": N_("Case"),
}
# Fixed messages of the case form, extracted here and translated when shown.
CASE_MESSAGES = (
    N_("already registered as a case"),
    N_("choose the person from the search"),
    N_("a date and time, e.g. 2021-12-21 10:00"),
)
MATCHES = 20


class NewCaseForm(BaseModel):
    """The new-case form as posted: text everywhere, checked by CaseIn and the service."""

    q: str = ""
    person_id: str = ""
    kind: str = ""
    severity: str = "mild"
    onset_date: str = ""
    sampled_at: str = ""
    found_by: str = ""
    isolated_at: str = ""
    facility: str = ""


def _matches(
    session: DbSession, actor: Actor, cipher: Cipher, q: str, translate: Callable[[str], str]
) -> tuple[list[object], list[Problem]]:
    """People matching an identity number (full or masked) or a name, in scope."""
    text = q.strip()
    if not text:
        return [], []
    looks_like_number = (
        len(text) >= 6 and sum(not (ch.isdigit() or ch in "*Xx") for ch in text) == 0
    )
    try:
        _total, found = people_service.search_people(
            session=session,
            actor=actor,
            cipher=cipher,
            id_number=text if looks_like_number else None,
            name=None if looks_like_number else text,
            limit=MATCHES,
            purpose="search",
        )
    except ValidationFailed as exc:
        said = people_service.id_number_problem(text, translate)
        return [], [Problem("q", said) if said else replace(p, field="q") for p in exc.problems]
    return list(found), []


def _new_case_page(
    request: Request,
    session: DbSession,
    actor: Actor,
    cipher: Cipher,
    values: dict[str, str],
    problems: list[Problem] | None = None,
    status: int = 200,
) -> HTMLResponse:
    _ = translator(request)
    people, search_problems = _matches(session, actor, cipher, values.get("q", ""), _)
    context = {
        "values": values,
        "people": people,
        "problems": translated_problems(request, [*(problems or []), *search_problems]),
        "fields": {name: _(label) for name, label in CASE_FIELDS.items()},
        "labels": LABELS,
    }
    return render(request, "cases/new.html", context, status=status)


@router.get("/new", response_class=HTMLResponse)
def new_case_form(
    request: Request,
    actor: Editor,
    session: DbSession,
    cipher: Cipher,
    q: Annotated[str, Query(max_length=32)] = "",
) -> HTMLResponse:
    return _new_case_page(request, session, actor, cipher, {"q": q})


def _case_in(form: NewCaseForm) -> CaseIn:
    problems: list[Problem] = []
    times: dict[str, datetime | None] = {}
    for name in ("sampled_at", "isolated_at"):
        value = getattr(form, name).strip()
        try:
            times[name] = _local(value) if value else None
        except ValueError:
            problems.append(Problem(name, "a date and time, e.g. 2021-12-21 10:00"))
    if not form.person_id.strip().isdigit():
        problems.append(Problem("person_id", "choose the person from the search"))
    if problems:
        raise ValidationFailed("the case is not valid", problems=problems)
    return CaseIn.model_validate(
        {
            "person_id": int(form.person_id),
            "kind": form.kind,
            "severity": form.severity or "mild",
            "onset_date": form.onset_date.strip() or None,
            "found_by": form.found_by,
            "facility": form.facility.strip(),
            **times,
        }
    )


@router.post("/new", response_class=HTMLResponse)
def create_case(
    request: Request,
    actor: Editor,
    session: DbSession,
    cipher: Cipher,
    form: Annotated[NewCaseForm, Form()],
) -> Response:
    """Register a case for a person found by identity number or name; errors in the form."""
    try:
        case = service.register_case(
            session=session, actor=actor, cipher=cipher, data=_case_in(form)
        )
    except ValidationError as exc:
        problems = problems_of(exc)
    except (ValidationFailed, Conflict) as exc:
        problems = exc.problems or [exc.as_problem("form")]
    else:
        return RedirectResponse(f"/cases/{case.id}?saved=1", status_code=303)
    session.rollback()
    return _new_case_page(
        request, session, actor, cipher, form.model_dump(), problems=problems, status=422
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
    # The case's person by name (masked as the role requires); one audit entry.
    names = people_service.names_of(
        session=session, actor=actor, person_ids=[case.person_id], detail={"case_id": case.id}
    )
    context = {
        "case": case,
        "names": names,
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
