"""The clock page (operators): the scenario time every page decides by, and setting it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from cordon import clock
from cordon.auth.schemas import Actor
from cordon.clock import service
from cordon.clock.schemas import ClockIn
from cordon.errors import Problem, ValidationFailed
from cordon.web.deps import DbSession, SettingsDep
from cordon.web.forms import problems_of
from cordon.web.i18n import N_
from cordon.web.nav import NavEntry
from cordon.web.page_deps import page_require
from cordon.web.templating import render, translated_problems

router = APIRouter(prefix="/clock", include_in_schema=False)
NAV: list[NavEntry] = []  # reached from the scenario time in the page header
Operator = Annotated[Actor, Depends(page_require(service.PERMISSION))]
MODES = {
    "real": N_("Real time"),
    "running": N_("Scenario time, running"),
    "pinned": N_("Scenario time, pinned"),
}
MESSAGES = (N_("a date and time, e.g. 2021-12-27 20:00"), N_("a span such as 2h, 30m or 1d6h"))


def _page(
    request: Request, tz_name: str, problems: list[Problem] | None = None, status: int = 200
) -> HTMLResponse:
    shown = service.show()
    context = {
        "clock": shown,
        "modes": MODES,
        "local_now": shown.now.astimezone(ZoneInfo(tz_name)).strftime("%Y-%m-%dT%H:%M"),
        "problems": translated_problems(request, problems or []),
    }
    return render(request, "clock/view.html", context, status=status)


@router.get("", response_class=HTMLResponse)
def view(request: Request, actor: Operator, settings: SettingsDep) -> HTMLResponse:
    return _page(request, settings.timezone)


@router.post("")
def change(
    request: Request,
    actor: Operator,
    session: DbSession,
    settings: SettingsDep,
    mode: Annotated[str, Form(max_length=10)] = "running",
    at: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    try:
        moment = datetime.fromisoformat(at) if mode != "real" else None
    except ValueError:
        problem = Problem("at", "a date and time, e.g. 2021-12-27 20:00")
        return _page(request, settings.timezone, [problem], status=422)
    try:
        data = ClockIn.model_validate({"mode": mode, "at": moment})
    except ValidationError as exc:
        return _page(request, settings.timezone, problems_of(exc), status=422)
    service.change(session=session, actor=actor, data=data, tz_name=settings.timezone)
    return RedirectResponse("/clock", status_code=303)


@router.post("/advance")
def advance(
    request: Request,
    actor: Operator,
    session: DbSession,
    settings: SettingsDep,
    span: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        by = clock.parse_span(span)
    except ValueError:
        problem = Problem("span", "a span such as 2h, 30m or 1d6h")
        return _page(request, settings.timezone, [problem], status=422)
    try:
        service.advance(session=session, actor=actor, by=by)
    except ValidationFailed as exc:
        session.rollback()
        return _page(request, settings.timezone, exc.problems, status=422)
    return RedirectResponse("/clock", status_code=303)
