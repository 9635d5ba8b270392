"""Importing many people at once: every row checked, then all written or none (unless the
user explicitly asks to write the valid rows and skip the rest)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cordon.audit import service as audit
from cordon.auth.schemas import Actor
from cordon.auth.service import require
from cordon.errors import ValidationFailed, pydantic_key
from cordon.geo import service as geo
from cordon.people import service
from cordon.people.models import Person
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

    hashes = {service.id_hash(cipher, p.id_number.number): n for n, p in ready}
    existing: set[str] = set()
    for chunk_start in range(0, len(hashes), 500):
        chunk = list(hashes)[chunk_start : chunk_start + 500]
        existing.update(
            session.scalars(select(Person.id_number_hash).where(Person.id_number_hash.in_(chunk)))
        )
    for digest in existing:
        errors.append(RowError(row=hashes[digest], field="id_number", message="already registered"))
    ready = [
        (n, p) for n, p in ready if service.id_hash(cipher, p.id_number.number) not in existing
    ]
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
        mode=mode,
        errors=errors,
    )
