"""Importing many people at once: every row checked, then all written or none (unless the
user explicitly asks to write the valid rows and skip the rest)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy.orm import Session

from cordon.audit import service as audit
from cordon.auth.schemas import Actor
from cordon.auth.service import require
from cordon.errors import ValidationFailed, pydantic_key
from cordon.geo import service as geo
from cordon.people import service
from cordon.people.schemas import ImportReport, PersonIn, RowError
from cordon.people.tabular import Row
from cordon.security.crypto import FieldCipher

Mode = Literal["all_or_nothing", "valid_rows"]


def import_people(
    *,
    session: Session,
    actor: Actor,
    cipher: FieldCipher,
    rows: list[Row],
    mode: Mode = "all_or_nothing",
) -> ImportReport:
    require(actor, "people:import")
    errors: list[RowError] = []
    ready: list[tuple[int, service.Prepared]] = []
    seen: dict[str, int] = {}
    grid_codes = {str(raw["grid_code"]).strip() for _n, raw in rows if raw.get("grid_code")}
    places = geo.preload(session=session, grid_codes=grid_codes)
    for number, raw in rows:
        clean: dict[str, Any] = {k: v for k, v in raw.items() if v is not None}
        try:
            data = PersonIn.model_validate(clean)
            prepared = service.prepare(session=session, actor=actor, data=data)
        except ValidationError as exc:
            for e in exc.errors():
                field = ".".join(str(p) for p in e["loc"]) or "row"
                errors.append(
                    RowError(
                        row=number,
                        field=field,
                        message=e["msg"],
                        template=pydantic_key(e)[0],
                        params=pydantic_key(e)[1],
                    )
                )
            continue
        except ValidationFailed as exc:
            for p in exc.problems:
                errors.append(
                    RowError(
                        row=number,
                        field=p.field,
                        message=p.message,
                        template=p.template,
                        params=p.params or {},
                    )
                )
            continue
        key = prepared.id_number.number
        if key in seen:
            errors.append(
                RowError(
                    row=number,
                    field="id_number",
                    message=f"same as row {seen[key]}",
                    template="same as row %(row)s",
                    params=dict(row=seen[key]),
                )
            )
            continue
        seen[key] = number
        ready.append((number, prepared))

    found = service.registered(
        session=session, cipher=cipher, numbers=[p.id_number.number for _n, p in ready]
    )
    foreign: list[tuple[int, int]] = []  # (row, person id) registered outside the jurisdiction
    for number, prepared in ready:
        twin = found.get(prepared.id_number.number)
        if twin is None:
            continue
        # The same answer inside and outside the jurisdiction (see service.DUPLICATE_REFUSED).
        errors.append(RowError(row=number, field="id_number", message=service.DUPLICATE_REFUSED))
        if not geo.is_within(twin.division_code, actor.jurisdiction):
            foreign.append((number, twin.id))
    for number, person_id in foreign:
        denied = service.duplicate_denied(actor, person_id)
        audit.add(
            session=session,
            actor=actor,
            action="import",
            entity=denied.entity,
            entity_id=denied.entity_id,
            outcome="denied",
            detail={**denied.detail, "row": number},
        )
    ready = [(n, p) for n, p in ready if p.id_number.number not in found]
    errors.sort(key=lambda e: (e.row, e.field))
    del places  # validation is over

    written = 0
    if not errors or mode == "valid_rows":
        people = service.write_many(
            session=session, actor=actor, cipher=cipher, prepared=[p for _n, p in ready]
        )
        for (number, _prepared), person in zip(ready, people, strict=True):
            audit.add(
                session=session,
                actor=actor,
                action="import",
                entity="person",
                entity_id=person.id,
                detail={"row": number},
            )
        session.flush()
        written = len(people)
    return ImportReport(
        rows=len(rows),
        written=written,
        rejected=len({e.row for e in errors}),
        skipped=len(rows) - written,
        mode=mode,
        errors=errors,
    )
