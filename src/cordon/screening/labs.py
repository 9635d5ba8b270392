"""Importing a lab's results: every row checked first, then all written or none.

The same file imported twice changes nothing: a tube that already has the same result is left
alone, and the facts written for it carry the tube as their source.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from cordon.audit import service as audit
from cordon.auth.schemas import Actor
from cordon.auth.service import require
from cordon.db import utcnow
from cordon.errors import Problem, ValidationFailed
from cordon.screening import flows, labfiles, rules
from cordon.screening.models import LabImport, Tube
from cordon.screening.schemas import LabImportOut, RowError
from cordon.screening.service import CHUNK, load_round

MAX_SHOWN = 500


def _tubes(session: Session, barcodes: list[str]) -> dict[str, Tube]:
    found: dict[str, Tube] = {}
    for start in range(0, len(barcodes), CHUNK):
        chunk = barcodes[start : start + CHUNK]
        found.update(
            (t.barcode, t) for t in session.scalars(select(Tube).where(Tube.barcode.in_(chunk)))
        )
    return found


def import_results(
    *,
    session: Session,
    actor: Actor,
    round_id: int,
    filename: str,
    data: bytes,
    lab: str = "",
    now: datetime | None = None,
) -> LabImportOut:
    require(actor, "screening:operate")
    row = load_round(session=session, actor=actor, round_id=round_id)
    lines = labfiles.read(filename, data)
    tubes = _tubes(session, sorted({line.tube for line in lines if line.tube}))
    errors: list[RowError] = []
    seen: dict[str, tuple[int, str]] = {}
    ready: list[tuple[labfiles.LabRow, Tube, str, datetime]] = []

    def fail(line: labfiles.LabRow, field: str, message: str, **params: object) -> None:
        params.setdefault("tube", line.tube)
        text = message % params
        errors.append(
            RowError(row=line.row, field=field, message=text, template=message, params=params)
        )

    moment = now or utcnow()  # a file without report times: results known as it arrives
    for line in lines:
        result = rules.parse_result(line.result)
        at = labfiles.parse_time(line.resulted_at) if line.resulted_at else moment
        tube = tubes.get(line.tube)
        if not line.tube:
            fail(line, "tube", "no tube barcode")
            continue
        if result is None:
            fail(
                line,
                "result",
                "tube %(tube)s: %(result)s is not 阴性/阳性 (negative/positive)",
                result=repr(line.result),
            )
        if line.resulted_at and at is None:
            fail(
                line,
                "resulted_at",
                "tube %(tube)s: %(value)s is not a date and time",
                value=repr(line.resulted_at),
            )
        if tube is None:
            fail(line, "tube", "unknown tube %(tube)s")
        elif tube.round_id != round_id:
            fail(
                line,
                "tube",
                "tube %(tube)s belongs to round %(other)s, not %(round_id)s",
                other=tube.round_id,
                round_id=round_id,
            )
        elif not tube.division_code.startswith(actor.jurisdiction):
            fail(line, "tube", "tube %(tube)s was sampled outside your jurisdiction")
        elif tube.filled == 0:
            fail(line, "tube", "tube %(tube)s holds no swab")
        elif result and tube.result and tube.result != result:
            fail(
                line,
                "result",
                "tube %(tube)s already has result %(result)s; a correction is not an import",
                result=tube.result,
            )
        elif at is not None and at < tube.opened_at:
            fail(line, "resulted_at", "tube %(tube)s: result before the first swab was taken")
        if line.tube in seen:
            first_row, first_result = seen[line.tube]
            if first_result != line.result.strip():
                fail(line, "tube", "tube %(tube)s has another result in row %(row)s", row=first_row)
            continue
        seen[line.tube] = (line.row, line.result.strip())
        if tube is not None and result is not None and at is not None:
            ready.append((line, tube, result, at))
    if errors:
        errors.sort(key=lambda e: (e.row, e.field))
        raise ValidationFailed(
            "%(wrong)s of %(rows)s rows are wrong; nothing was imported",
            params=dict(wrong=len({e.row for e in errors}), rows=len(lines)),
            problems=[
                Problem(e.field, e.message, row=e.row, params=e.params, template=e.template)
                for e in errors[:MAX_SHOWN]
            ],
        )
    digest = hashlib.sha256(data).hexdigest()
    changed = [
        (tube, result, at, line.lab or lab or tube.lab or "")
        for line, tube, result, at in ready
        if tube.result != result
    ]
    record: LabImport | None = None
    if changed:
        record = LabImport(
            round_id=round_id,
            filename=filename[:200],
            digest=digest,
            lab=(lab or changed[0][3])[:64],
            rows=len(lines),
            changed=len(changed),
            imported_by=actor.username,
        )
        session.add(record)
        session.flush()
    updates = []
    for tube, result, at, lab_name in changed:
        values = {
            "result": result,
            "resulted_at": at,
            "lab": lab_name[:64] or None,
            "import_id": record.id if record else None,
            "closed_at": tube.closed_at or at,
            "received_at": tube.received_at or at,
        }
        updates.append({"id": tube.id, **values})
        # The rows are written below in one statement; the loaded objects are told the same.
        for key, value in values.items():
            set_committed_value(tube, key, value)
    if updates:
        session.execute(update(Tube), updates)
    follow = flows.follow_up(
        session=session, actor=actor, round_row=row, tubes=[t for t, *_rest in changed]
    )
    audit.record(
        session=session,
        actor=actor,
        action="import",
        entity="screening_results",
        entity_id=round_id,
        detail={
            "file": filename[:200],
            "sha256": digest,
            "rows": len(lines),
            "changed": len(changed),
        },
    )
    return LabImportOut(
        import_id=record.id if record else None,
        rows=len(lines),
        changed=len(changed),
        unchanged=len(ready) - len(changed),
        positive_tubes=sorted(t.barcode for t, result, *_r in changed if result == "positive"),
        flagged_people=follow.flagged,
        tasks_created=follow.tasks,
        proposals_created=follow.proposals,
        cleared=follow.cleared,
    )
