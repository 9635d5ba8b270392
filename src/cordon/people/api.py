"""People registry API: create, search, view, edit, import."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse

from cordon.auth.schemas import Actor
from cordon.errors import Problem, ValidationFailed
from cordon.people import imports, service, tabular
from cordon.people.schemas import (
    ImportRefused,
    ImportReport,
    PersonIn,
    PersonOut,
    PersonPage,
    PersonPatch,
    ProblemOut,
)
from cordon.web import i18n
from cordon.web.deps import Cipher, CurrentActor, DbSession, RecordId, SettingsDep, require
from cordon.web.i18n import N_
from cordon.web.messages import translated
from cordon.web.uploads import read_upload

router = APIRouter(prefix="/people", tags=["people"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Importer = Annotated[Actor, Depends(require("people:import"))]
MAX_PROBLEMS = 1000  # row problems repeated in a refusal; the report's errors hold them all
REFUSED = N_("%(rejected)s of %(rows)s rows rejected; nothing was written")


@dataclass(frozen=True)
class Filters:
    """The search filters shared by the list and the export."""

    name: Annotated[str | None, Query(max_length=64)] = None
    id_number: Annotated[str | None, Query(max_length=32)] = None
    grid_code: Annotated[str | None, Query(max_length=15)] = None
    division_code: Annotated[str | None, Query(max_length=12)] = None


SearchFilters = Annotated[Filters, Depends()]


@router.get("", response_model=PersonPage)
def search(
    actor: CurrentActor,
    session: DbSession,
    cipher: Cipher,
    filters: SearchFilters,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PersonPage:
    total, people = service.search_people(
        session=session, actor=actor, cipher=cipher, **asdict(filters), limit=limit, offset=offset
    )
    return PersonPage(total=total, people=people)


EXPORT_LIMIT = 50_000


@router.get(
    "/export.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "The people found, as XLSX"}},
)
def export(
    actor: CurrentActor, session: DbSession, cipher: Cipher, filters: SearchFilters
) -> Response:
    """The people a search finds (at most 50,000), masked as the role requires; audited."""
    total, people = service.search_people(
        session=session,
        actor=actor,
        cipher=cipher,
        **asdict(filters),
        limit=EXPORT_LIMIT,
        purpose="export",
    )
    if total > EXPORT_LIMIT:
        raise ValidationFailed(
            "%(total)s people found; narrow the search to at most %(export_limit)s",
            params=dict(total=total, export_limit=EXPORT_LIMIT),
            problems=[
                Problem(
                    "query",
                    "at most %(export_limit)s people per export",
                    params=dict(export_limit=EXPORT_LIMIT),
                )
            ],
        )
    return Response(
        tabular.write_xlsx(people),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="people.xlsx"'},
    )


@router.post("", response_model=PersonOut, status_code=201)
def create(
    body: PersonIn,
    actor: Annotated[Actor, Depends(require("people:edit"))],
    session: DbSession,
    cipher: Cipher,
) -> PersonOut:
    return service.create_person(session=session, actor=actor, cipher=cipher, data=body)


@router.get("/{person_id}", response_model=PersonOut)
def view(person_id: RecordId, actor: CurrentActor, session: DbSession, cipher: Cipher) -> PersonOut:
    return service.get_person(session=session, actor=actor, cipher=cipher, person_id=person_id)


@router.patch("/{person_id}", response_model=PersonOut)
def edit(
    person_id: RecordId, body: PersonPatch, actor: CurrentActor, session: DbSession, cipher: Cipher
) -> PersonOut:
    return service.update_person(
        session=session, actor=actor, cipher=cipher, person_id=person_id, patch=body
    )


@router.post(
    "/import",
    response_model=ImportReport,
    responses={422: {"model": ImportRefused, "description": "Rows rejected; nothing written"}},
)
async def import_file(
    request: Request,
    actor: Importer,
    session: DbSession,
    cipher: Cipher,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="XLSX or CSV, Chinese or English headers")],
    mode: Annotated[Literal["all_or_nothing", "valid_rows"], Query()] = "all_or_nothing",
) -> ImportReport | JSONResponse:
    """Check every row; write all or none (or, with mode=valid_rows, the valid ones and skip
    the rest). The report lists each rejected row with the field and the reason; an import
    that rejected rows and wrote none answers 422."""
    data = await read_upload(file, max_bytes=settings.max_upload_bytes)
    rows = tabular.read_table(file.filename or "", data)
    report = imports.import_people(
        session=session, actor=actor, cipher=cipher, rows=rows, mode=mode
    )
    # The rows' reasons in the client's language, as every API error says them.
    _ = i18n.api_gettext(request)
    said = [
        e.model_copy(update={"message": translated(_, e.message, e.template, e.params)})
        for e in report.errors
    ]
    report = report.model_copy(update={"errors": said})
    if report.rejected and not report.written:
        # A refusal, not a partial success; the request still commits its audit entries.
        refused = ImportRefused(
            **report.model_dump(),
            error="validation_failed",
            message=_(REFUSED) % {"rejected": report.rejected, "rows": report.rows},
            problems=[ProblemOut(**e.model_dump()) for e in report.errors[:MAX_PROBLEMS]],
        )
        return JSONResponse(refused.model_dump(), status_code=422)
    return report
