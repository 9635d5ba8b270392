"""People registry pages: search, view, create, edit, import.

The service scopes every query to the user's jurisdiction, masks identity data for roles
without ``people:view_pii`` and audits every read and change; these routes only translate
forms to service calls and errors to forms with messages next to their fields.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from cordon.audit import service as audit_service
from cordon.auth.schemas import Actor
from cordon.codes import service as codes_service
from cordon.config import Settings
from cordon.errors import Problem, TooLarge, ValidationFailed
from cordon.facts import service as facts_service
from cordon.geo import service as geo_service
from cordon.people import imports, service, tabular
from cordon.people.schemas import ImportReport, PersonIn, PersonOut, PersonPatch
from cordon.trace import service as trace_service
from cordon.trace.schemas import ContactScore
from cordon.web.deps import Cipher, DbSession, SettingsDep
from cordon.web.forms import Pager, blank_to_none, problems_of
from cordon.web.i18n import N_
from cordon.web.messages import translated
from cordon.web.nav import NavEntry
from cordon.web.page_deps import page_require
from cordon.web.templating import render, translated_problems, translator
from cordon.web.uploads import read_upload

router = APIRouter(prefix="/people", include_in_schema=False)
NAV = [
    NavEntry("/people", N_("People"), "people:view", order=20),
    NavEntry("/people/import", N_("Import"), "people:import", order=22),
]

Viewer = Annotated[Actor, Depends(page_require("people:view"))]
Editor = Annotated[Actor, Depends(page_require("people:edit"))]
Importer = Annotated[Actor, Depends(page_require("people:import"))]

PAGE_SIZE = 50
# Row errors shown on the import page; a file can have 200,000 rows.
MAX_SHOWN_ERRORS = 1000
FIELD_LABELS = {
    "name": N_("Name"),
    "id_number": N_("Identity number"),
    "sex": N_("Sex"),
    "birth_date": N_("Date of birth"),
    "phone": N_("Phone"),
    "address": N_("Address"),
    "household": N_("Household number"),
    "division_code": N_("Division code"),
    "grid_code": N_("Grid code"),
    "file": N_("File"),
    "row": N_("Row"),
}
COLOURS = {"red": N_("Red"), "yellow": N_("Yellow"), "green": N_("Green")}
# Stored values of the facts shown on a person's page, in the user's language.
FACT_LABELS = {
    "confirmed": N_("Confirmed"),
    "asymptomatic": N_("Asymptomatic"),
    "suspected": N_("Suspected"),
    "ruled_out": N_("Ruled out"),
    "close": N_("Close contact"),
    "secondary": N_("Secondary contact"),
    "companion": N_("Spatio-temporal companion"),
    "negative": N_("Negative"),
    "positive": N_("Positive"),
    "single": N_("Single tube"),
    "pool": N_("Pooled tube"),
    "test": N_("Test"),
    "pool_positive": N_("Pooled tube positive"),
    "quarantine": N_("Order started"),
    "released": N_("Released"),
    "central": N_("Central quarantine"),
    "home": N_("Home quarantine"),
}
EDITABLE = ("name", "phone", "address", "household", "division_code", "grid_code")


class PersonForm(BaseModel):
    """The create form as posted: text everywhere, checked by PersonIn and the service."""

    name: str = ""
    id_number: str = ""
    sex: str = ""
    birth_date: str = ""
    phone: str = ""
    address: str = ""
    household: str = ""
    division_code: str = ""
    grid_code: str = ""


class EditForm(BaseModel):
    """The edit form; ``orig_*`` are the values it was shown with, so only what the user
    changed is sent to the service (a masked phone is shown blank and kept when left blank)."""

    name: str = ""
    phone: str = ""
    address: str = ""
    household: str = ""
    division_code: str = ""
    grid_code: str = ""
    orig_name: str = ""
    orig_phone: str = ""
    orig_address: str = ""
    orig_household: str = ""
    orig_division_code: str = ""
    orig_grid_code: str = ""

    def shown(self) -> dict[str, str]:
        return {field: getattr(self, field) for field in EDITABLE}

    def originals(self) -> dict[str, str]:
        return {field: getattr(self, f"orig_{field}") for field in EDITABLE}

    def changes(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for field in EDITABLE:
            new, old = getattr(self, field).strip(), getattr(self, f"orig_{field}").strip()
            if new != old:
                out[field] = new or None
        if "grid_code" in out or "division_code" in out:
            # The service resolves the place from what it is given, so send a consistent pair.
            grid = self.grid_code.strip() or None
            division = self.division_code.strip() or None
            if "grid_code" in out and grid and "division_code" not in out:
                division = None  # a new grid brings its own village
            elif "division_code" in out and "grid_code" not in out:
                grid = None  # a new division leaves the old grid behind
            out["division_code"], out["grid_code"] = division, grid
        return out


def _labels(request: Request) -> dict[str, str]:
    _ = translator(request)
    return {field: _(label) for field, label in FIELD_LABELS.items()}


def _said_in_language(request: Request, problems: list[Problem], id_number: str) -> list[Problem]:
    """The problems with the identity number's one said in the user's language, naming the
    part that fails (region, birth date, check digit) as the form and the search both do."""
    text = service.id_number_problem(id_number, translator(request))
    if text is None:
        return problems
    return [
        Problem("id_number", text)
        if p.field == "id_number" and p.message.startswith("identity number")
        else p
        for p in problems
    ]


def _grids(session: Session, actor: Actor) -> list[Any]:
    return geo_service.grids_within(session=session, code=actor.jurisdiction)


def _edit_values(person: PersonOut) -> dict[str, str]:
    return {
        "name": person.name,
        # A masked phone is not a value anyone could save back; show it only as a hint.
        "phone": "" if person.masked else person.phone or "",
        "address": person.address,
        "household": person.household or "",
        "division_code": person.division_code,
        "grid_code": person.grid_code or "",
    }


@router.get("", response_class=HTMLResponse)
def search(
    request: Request,
    actor: Viewer,
    session: DbSession,
    cipher: Cipher,
    name: str = "",
    id_number: str = "",
    grid_code: str = "",
    page: int = 1,
) -> HTMLResponse:
    query = {"name": name[:64], "id_number": id_number[:32], "grid_code": grid_code[:15]}
    pager = Pager.of(page, PAGE_SIZE)
    people: list[PersonOut] = []
    problems: list[Problem] = []
    try:
        total, people = service.search_people(
            session=session,
            actor=actor,
            cipher=cipher,
            name=query["name"].strip() or None,
            id_number=query["id_number"].strip() or None,
            grid_code=query["grid_code"].strip() or None,
            limit=pager.size,
            offset=pager.offset,
        )
        pager = pager.with_total(total)
    except ValidationFailed as exc:
        problems = _said_in_language(request, exc.problems, query["id_number"])
    context = {
        "query": query,
        "people": people,
        "pager": pager,
        "problems": translated_problems(request, problems),
        "labels": _labels(request),
    }
    return render(request, "people/list.html", context, status=422 if problems else 200)


def _form_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, str],
    problems: list[Problem] | None = None,
    person_id: int | None = None,
    masked_phone: str | None = None,
    originals: dict[str, str] | None = None,
) -> HTMLResponse:
    context = {
        "values": values,
        "originals": originals or {},
        "problems": translated_problems(request, problems or []),
        "labels": _labels(request),
        "grids": _grids(session, actor),
        "person_id": person_id,
        "masked_phone": masked_phone,
    }
    return render(request, "people/form.html", context, status=422 if problems else 200)


@router.get("/new", response_class=HTMLResponse)
def new_person(request: Request, actor: Editor, session: DbSession) -> HTMLResponse:
    return _form_page(request, session, actor, values={})


@router.post("/new", response_class=HTMLResponse)
def create_person(
    request: Request,
    actor: Editor,
    session: DbSession,
    cipher: Cipher,
    form: Annotated[PersonForm, Form()],
) -> Response:
    values = form.model_dump()
    denied = None
    try:
        data = PersonIn.model_validate(blank_to_none(values))
        person = service.create_person(session=session, actor=actor, cipher=cipher, data=data)
    except ValidationError as exc:
        problems = problems_of(exc)
    except ValidationFailed as exc:
        problems, denied = _said_in_language(request, exc.problems, form.id_number), exc.denied
    else:
        return RedirectResponse(f"/people/{person.id}?saved=1", status_code=303)
    session.rollback()  # an invalid form changes nothing, even what the service began
    if denied is not None:  # a registered number outside the jurisdiction: audited, not shown
        audit_service.record_denied(session=session, denied=denied, client_addr=actor.client_addr)
    return _form_page(request, session, actor, values=values, problems=problems)


@router.get("/import", response_class=HTMLResponse)
def import_form(request: Request, actor: Importer) -> HTMLResponse:
    return render(request, "people/import.html", _import_context(request))


def _import_context(
    request: Request,
    *,
    report: ImportReport | None = None,
    problems: list[Problem] | None = None,
    valid_rows: bool = False,
    filename: str = "",
) -> dict[str, Any]:
    _ = translator(request)
    shown = report.errors[:MAX_SHOWN_ERRORS] if report else []
    return {
        "report": report,
        "shown_errors": [
            (e.row, e.field, translated(_, e.message, e.template, e.params)) for e in shown
        ],
        "problems": translated_problems(request, problems or []),
        "labels": _labels(request),
        "valid_rows": valid_rows,
        "filename": filename,
        "max_mb": request.app.state.settings.max_upload_bytes / (1024 * 1024),
        "headers": tabular.HEADERS,
    }


@router.post("/import", response_class=HTMLResponse)
async def import_people(
    request: Request,
    actor: Importer,
    session: DbSession,
    cipher: Cipher,
    settings: SettingsDep,
    file: Annotated[UploadFile | None, File()] = None,
    valid_rows: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """Check every row; write all or none, or with the box ticked only the valid rows."""
    mode: imports.Mode = "valid_rows" if valid_rows else "all_or_nothing"
    filename = (file.filename or "") if file is not None else ""
    try:
        if file is None or not filename:
            raise ValidationFailed("choose a file", problems=[Problem("file", "choose a file")])
        data = await read_upload(file, max_bytes=settings.max_upload_bytes)
        # Checking and writing a large file takes seconds: keep the event loop free meanwhile.
        rows = await run_in_threadpool(tabular.read_table, filename, data)
        report = await run_in_threadpool(
            partial(
                imports.import_people,
                session=session,
                actor=actor,
                cipher=cipher,
                rows=rows,
                mode=mode,
            )
        )
    except (ValidationFailed, TooLarge) as exc:
        session.rollback()
        problems = exc.problems or [exc.as_problem("file")]
        context = _import_context(
            request, problems=problems, valid_rows=bool(valid_rows), filename=filename
        )
        return render(request, "people/import.html", context, status=exc.status_code)
    # Rejected rows with nothing written is a refused import: say so with the status too.
    refused = report.rejected > 0 and report.written == 0
    context = _import_context(
        request, report=report, valid_rows=bool(valid_rows), filename=filename
    )
    return render(request, "people/import.html", context, status=422 if refused else 200)


@router.get("/{person_id}", response_class=HTMLResponse)
def view_person(
    request: Request,
    person_id: int,
    actor: Viewer,
    session: DbSession,
    cipher: Cipher,
    settings: SettingsDep,
    saved: int = 0,
) -> HTMLResponse:
    person = service.get_person(session=session, actor=actor, cipher=cipher, person_id=person_id)
    context = {
        "person": person,
        "labels": _labels(request),
        "saved": bool(saved),
        **_record_sections(session, actor, settings, person_id),
    }
    return render(request, "people/view.html", context)


def _record_sections(
    session: Session, actor: Actor, settings: Settings, person_id: int
) -> dict[str, Any]:
    """What other slices know of the person, read through their services: the health code,
    the facts ledger (cases, contacts, tests, quarantine orders) and the household."""
    code = None
    if actor.can("codes:view"):
        code = codes_service.explain(
            session=session,
            actor=actor,
            person_id=person_id,
            pack_name=settings.code_pack,
            tz_name=settings.timezone,
        ).current
    facts = facts_service.of_person(session=session, actor=actor, person_id=person_id)
    of_kind: dict[str, list[Any]] = {}
    for fact in facts:
        of_kind.setdefault(fact.kind, []).append(fact)
    cases = of_kind.get("case", [])
    contacts_of_case: dict[int, int] = {}
    if actor.can("cases:view"):
        for fact in cases:
            case_id = fact.attrs.get("case_id")
            if isinstance(case_id, int):
                counts = trace_service.contact_counts(session=session, actor=actor, case_id=case_id)
                contacts_of_case[case_id] = sum(counts.values())
    as_contact = of_kind.get("contact", [])
    contact_scores: dict[int, ContactScore] = {}
    if as_contact and actor.can("cases:view"):
        # Each traced case's stored contact with this person: its tier, score and exposure.
        for scored in trace_service.contact_scores(
            session=session, actor=actor, person_ids=[person_id]
        ):
            contact_scores.setdefault(scored.case_id, scored)
    return {
        "code": code,
        "colours": COLOURS,
        "kinds": FACT_LABELS,
        "cases": cases,
        "contacts_of_case": contacts_of_case,
        "as_contact": as_contact,
        "contact_scores": contact_scores,
        "tests": of_kind.get("test", []) + of_kind.get("pool_positive", []),
        "orders": of_kind.get("quarantine", []) + of_kind.get("released", []),
        "household": service.household_members(session=session, actor=actor, person_id=person_id),
    }


@router.get("/{person_id}/edit", response_class=HTMLResponse)
def edit_person_form(
    request: Request, person_id: int, actor: Editor, session: DbSession, cipher: Cipher
) -> HTMLResponse:
    person = service.get_person(session=session, actor=actor, cipher=cipher, person_id=person_id)
    values = _edit_values(person)
    return _form_page(
        request,
        session,
        actor,
        values=values,
        originals=values,
        person_id=person.id,
        masked_phone=person.phone if person.masked else None,
    )


@router.post("/{person_id}/edit", response_class=HTMLResponse)
def edit_person(
    request: Request,
    person_id: int,
    actor: Editor,
    session: DbSession,
    cipher: Cipher,
    form: Annotated[EditForm, Form()],
) -> Response:
    changes = form.changes()
    if not changes:
        return RedirectResponse(f"/people/{person_id}", status_code=303)
    try:
        patch = PersonPatch.model_validate(changes)
        service.update_person(
            session=session, actor=actor, cipher=cipher, person_id=person_id, patch=patch
        )
    except ValidationError as exc:
        problems = problems_of(exc)
    except ValidationFailed as exc:
        problems = exc.problems
    else:
        return RedirectResponse(f"/people/{person_id}?saved=1", status_code=303)
    session.rollback()
    return _form_page(
        request,
        session,
        actor,
        values=form.shown(),
        originals=form.originals(),
        problems=problems,
        person_id=person_id,
    )
