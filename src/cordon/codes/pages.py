"""Health-code pages: colours per town and grid on the map, a person's code and history, the
what-if report (staff); a resident's own code with its QR, and the checkpoint check (public)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import segno
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from cordon import clock
from cordon.auth.schemas import Actor
from cordon.codes import jobs, packs, service, tokens
from cordon.codes.api import lookup_brake
from cordon.codes.schemas import LookupIn, WhatIfOut
from cordon.errors import CordonError, Problem, TooManyAttempts, ValidationFailed
from cordon.geo import service as geo_service
from cordon.jobs import service as jobs_service
from cordon.jobs.flows import dispatch
from cordon.people import service as people_service
from cordon.web.deps import (
    Cipher,
    DbSession,
    RecordId,
    SettingsDep,
    client_addr,
    route_transaction,
)
from cordon.web.i18n import N_
from cordon.web.messages import error_text, translated
from cordon.web.nav import NavEntry
from cordon.web.page_deps import page_require
from cordon.web.templating import render, translated_problems, translator

router = APIRouter(prefix="/codes", include_in_schema=False)
NAV = [
    NavEntry("/codes", N_("Health codes"), "codes:view", order=40),
    NavEntry("/codes/whatif", N_("What-if"), "codes:manage", order=42),
]

Viewer = Annotated[Actor, Depends(page_require("codes:view"))]
Manager = Annotated[Actor, Depends(page_require("codes:manage"))]
COLOURS = {"red": N_("Red"), "yellow": N_("Yellow"), "green": N_("Green")}
# Messages the service raises, so error pages can show them translated.
MESSAGES = (
    N_("no health code matches this identity number and name"),
    N_("the what-if's time is not valid"),
    N_("a date and time, e.g. 2021-12-27 20:00"),
)


@router.get("", response_class=HTMLResponse)
def overview(request: Request, actor: Viewer, session: DbSession) -> HTMLResponse:
    recompute_job = jobs_service.latest(
        session=session, actor=actor, kind=jobs.RECOMPUTE, subject="codes"
    )
    _ = translator(request)
    towns = service.counts(session=session, actor=actor, level="town")
    grids = service.counts(session=session, actor=actor, level="grid")
    seats = geo_service.town_seats()
    chart = {
        "boundaries_url": "/overview/boundaries.json",
        "towns": [
            {**t.model_dump(), "lon": seats[t.code][0], "lat": seats[t.code][1]}
            for t in towns
            if t.code in seats
        ],
        "labels": {
            "red": _("Red"),
            "yellow": _("Yellow"),
            "green": _("Green"),
            "failed": _("The map could not be loaded."),
        },
    }
    held = [g for g in grids if g.red or g.yellow]
    context: dict[str, object] = {"towns": towns, "grids": held, "chart": chart}
    context |= {
        "colours": COLOURS,
        "recompute_job": recompute_job,
        "job_labels": jobs_service.LABELS,
    }
    return render(request, "codes/overview.html", context)


@router.post("/recompute")
def recompute(request: Request, actor: Manager, session: DbSession) -> Response:
    """Start a recompute as a job; the page shows its progress and reloads when it is done."""
    job = jobs.start_recompute(session=session, actor=actor)
    dispatch(request.app, session, job)
    return RedirectResponse(f"/codes?job={job.id}", status_code=303)


@router.get("/people/{person_id}", response_class=HTMLResponse)
def person(
    request: Request, person_id: RecordId, actor: Viewer, session: DbSession, settings: SettingsDep
) -> HTMLResponse:
    explained = service.explain(
        session=session,
        actor=actor,
        person_id=person_id,
        pack_name=settings.code_pack,
        tz_name=settings.timezone,
    )
    names = people_service.names_of(session=session, actor=actor, person_ids=[person_id])
    context = {"person_id": person_id, "explained": explained, "colours": COLOURS, "names": names}
    return render(request, "codes/person.html", context)


def _whatif_page(
    request: Request,
    *,
    report: WhatIfOut | None = None,
    draft: str = "",
    as_of: str = "",
    error: CordonError | None = None,
    status: int = 200,
    names: dict[int, str] | None = None,
) -> HTMLResponse:
    zone = ZoneInfo(request.app.state.settings.timezone)
    context = {
        "as_of": as_of or clock.now().astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        "names": names or {},
        "packs": packs.available(),
        "report": report,
        "draft": draft,
        "error": error_text(translator(request), error) if error else "",
        "problems": translated_problems(request, error.problems) if error else {},
        "colours": COLOURS,
    }
    return render(request, "codes/whatif.html", context, status=status)


@router.get("/whatif", response_class=HTMLResponse)
def whatif_form(request: Request, actor: Manager) -> HTMLResponse:
    return _whatif_page(request)


@router.post("/whatif", response_class=HTMLResponse)
def whatif(
    request: Request,
    actor: Manager,
    session: DbSession,
    settings: SettingsDep,
    pack: Annotated[str, Form(max_length=40)] = "",
    draft: Annotated[str, Form(max_length=200_000)] = "",
    as_of: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse:
    _ = translator(request)
    try:
        at = datetime.fromisoformat(as_of) if as_of.strip() else None
    except ValueError:
        bad = ValidationFailed(
            "the what-if's time is not valid",
            problems=[Problem("as_of", "a date and time, e.g. 2021-12-27 20:00")],
        )
        return _whatif_page(request, draft=draft, as_of=as_of, error=bad, status=422)
    try:
        loaded = (
            packs.parse_text(draft, source=_("draft")) if draft.strip() else packs.load(pack or "-")
        )
        report = service.whatif(
            session=session,
            actor=actor,
            draft=loaded,
            current_name=settings.code_pack,
            now=service.as_of(at, settings.timezone),
            tz_name=settings.timezone,
        )
    except ValidationFailed as exc:
        return _whatif_page(request, draft=draft, as_of=as_of, error=exc, status=422)
    names = people_service.names_of(
        session=session,
        actor=actor,
        person_ids=[e.person_id for e in report.examples],
        detail={"page": "what-if"},
    )
    return _whatif_page(request, report=report, draft=draft, as_of=as_of, names=names)


def _qr_svg(token: str) -> str:
    """The token as an inline SVG QR code (segno: medium error correction reads on phones)."""
    return str(segno.make(token, error="m").svg_inline(scale=4, border=2))


@router.get("/lookup", response_class=HTMLResponse)
def lookup_form(request: Request) -> HTMLResponse:
    return render(
        request, "codes/lookup.html", {"result": None, "error": "", "name": "", "colours": COLOURS}
    )


@router.post("/lookup", response_class=HTMLResponse)
def lookup(
    request: Request,
    cipher: Cipher,
    settings: SettingsDep,
    id_number: Annotated[str, Form(max_length=32)] = "",
    name: Annotated[str, Form(max_length=64)] = "",
) -> HTMLResponse:
    _ = translator(request)
    page = {"result": None, "name": name, "qr": "", "colours": COLOURS}
    try:
        lookup_brake(request)
        data = LookupIn(id_number=id_number, name=name)
        # Public and bursty: the transaction lives in this thread (see route_transaction).
        with route_transaction(request) as session:
            result = service.lookup(
                session=session,
                cipher=cipher,
                settings=settings,
                data=data,
                client_addr=client_addr(request),
            )
    except TooManyAttempts as exc:
        error = _("Too many lookups. Try again in %(seconds)d seconds.") % {
            "seconds": exc.retry_after or 60
        }
        response = render(request, "codes/lookup.html", {**page, "error": error}, status=429)
        response.headers["Retry-After"] = str(exc.retry_after or 60)
        return response
    except ValidationError:
        error = _("Enter an 18-character identity number and your name.")
        return render(request, "codes/lookup.html", {**page, "error": error}, status=422)
    context = {**page, "result": result, "qr": _qr_svg(result.token), "error": ""}
    return render(request, "codes/lookup.html", context)


@router.get("/check", response_class=HTMLResponse)
def check_form(request: Request) -> HTMLResponse:
    return render(
        request,
        "codes/check.html",
        {"checked": None, "message": "", "token": "", "colours": COLOURS},
    )


@router.post("/check", response_class=HTMLResponse)
def check(
    request: Request,
    settings: SettingsDep,
    token: Annotated[str, Form(max_length=2000)] = "",
) -> HTMLResponse:
    """What a checkpoint sees: the token checked with the public key only."""
    try:
        claims = tokens.verify(token, service.public_key(settings))
    except tokens.TokenRefused as refused:
        message = translated(translator(request), str(refused), refused.template, refused.params)
        refused_page: dict[str, object] = {"checked": None, "message": message}
        refused_page.update(token=token, colours=COLOURS)
        return render(request, "codes/check.html", refused_page, status=422)
    valid_page: dict[str, object] = {"checked": claims, "message": "", "token": ""}
    valid_page["colours"] = COLOURS
    return render(request, "codes/check.html", valid_page)
