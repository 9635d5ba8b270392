"""Writing and reading the facts ledger.

Writers are other slices' services, which have already checked their own permission (tracing,
screening, control); the ledger audits what it wrote. Readers see facts inside their jurisdiction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from cordon.audit import service as audit
from cordon.auth.schemas import Actor
from cordon.auth.service import require
from cordon.bulkwrite import insert_rows
from cordon.db import utcnow
from cordon.errors import NotFound, Problem, ValidationFailed
from cordon.facts import rules
from cordon.facts.models import PersonFact
from cordon.facts.schemas import FactIn, FactOut, FactRow, RecordResult
from cordon.people import service as people_service

_CHUNK = 500  # bound IN lists: SQLite allows 32,766 parameters, but smaller chunks plan better

# Called with the people whose live facts a write changed, inside the writing transaction (the
# codes slice marks their codes for a refresh). Deciders register; the ledger knows none of them.
ChangeListener = Callable[..., None]
_listeners: list[ChangeListener] = []


def on_change(listener: ChangeListener) -> None:
    """Call ``listener(session=..., person_ids=[...])`` after every write that changed facts."""
    if listener not in _listeners:
        _listeners.append(listener)


def _changed(session: Session, person_ids: Iterable[int]) -> None:
    people = sorted(set(person_ids))
    if people:
        for listener in _listeners:
            listener(session=session, person_ids=people)


def _chunks(items: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _divisions(session: Session, person_ids: list[int], known: Mapping[int, str]) -> dict[int, str]:
    """Where each person lives (given ones kept); NotFound naming unknown people."""
    found = dict(known)
    unknown = [p for p in person_ids if p not in found]
    if unknown:
        found.update(people_service.divisions_of(session=session, person_ids=unknown))
    missing = [p for p in person_ids if p not in found]
    if missing:
        raise NotFound(
            "no person %(missing)s",
            params=dict(missing=missing[0]),
            problems=[
                Problem("person_id", "unknown person %(person_id)s", params=dict(person_id=p))
                for p in missing[:20]
            ],
        )
    return found


def record(
    *,
    session: Session,
    actor: Actor,
    facts: Sequence[FactIn],
    now: datetime | None = None,
) -> RecordResult:
    """Insert new facts, update changed ones (same person, kind, source), leave equal ones.

    Writing the same facts twice changes nothing, so an import or a trace can be repeated.
    """
    return record_many(session=session, actor=actor, facts=_rows(facts), now=now)


def _rows(facts: Sequence[FactIn] | Sequence[FactRow]) -> list[FactRow]:
    return [
        f if isinstance(f, FactRow) else FactRow(f.person_id, f.kind, f.at, dict(f.attrs), f.source)
        for f in facts
    ]


def replace_source(
    *,
    session: Session,
    actor: Actor,
    source: str,
    kind: str,
    facts: Sequence[FactIn] | Sequence[FactRow],
    divisions: Mapping[int, str] | None = None,
    now: datetime | None = None,
) -> RecordResult:
    """Make the live facts of one kind from one source exactly ``facts``: others are retracted.
    Large batches (a traced case's contacts) come as ``FactRow``, with ``divisions`` as in
    ``record_many``.

    Re-tracing a case under another pack uses this, so people no longer traced lose the fact.
    """
    moment = now or utcnow()
    if any(f.source != source or f.kind != kind for f in facts):
        raise ValueError("every fact must carry the source and kind being replaced")
    result = record_many(
        session=session, actor=actor, facts=_rows(facts), divisions=divisions, now=moment
    )
    keep = {f.person_id for f in facts}
    # Ids and people only, not ORM rows: a re-traced case has tens of thousands of contacts.
    live = session.execute(
        select(PersonFact.id, PersonFact.person_id).where(
            PersonFact.source == source,
            PersonFact.kind == kind,
            PersonFact.retracted_at.is_(None),
        )
    )
    gone = [(row_id, person) for row_id, person in live if person not in keep]
    stale = [row_id for row_id, _person in gone]
    for start in range(0, len(stale), 1_000):
        session.execute(
            update(PersonFact)
            .where(PersonFact.id.in_(stale[start : start + 1_000]))
            .values(retracted_at=moment, recorded_at=moment)
        )
    result.retracted += len(stale)
    session.flush()
    _changed(session, (person for _row_id, person in gone))
    return result


def _out(row: PersonFact) -> FactOut:
    return FactOut.model_validate(row, from_attributes=True)


def of_person(
    *, session: Session, actor: Actor, person_id: int, include_retracted: bool = False
) -> list[FactOut]:
    """A person's facts, oldest first (in the actor's jurisdiction; audited)."""
    require(actor, "people:view")
    query = select(PersonFact).where(
        PersonFact.person_id == person_id,
        PersonFact.division_code.startswith(actor.jurisdiction),
    )
    if not include_retracted:
        query = query.where(PersonFact.retracted_at.is_(None))
    rows = list(session.scalars(query.order_by(PersonFact.at, PersonFact.id)))
    audit.record(session=session, actor=actor, action="view", entity="facts", entity_id=person_id)
    return [_out(r) for r in rows]


def changed_since(*, session: Session, since: datetime) -> list[int]:
    """People whose facts were written or retracted after ``since`` (incremental recompute)."""
    return list(
        session.scalars(
            select(PersonFact.person_id)
            .where(PersonFact.recorded_at > since)
            .distinct()
            .order_by(PersonFact.person_id)
        )
    )


FACT_TABLE_SCHEMA = pa.schema(
    [
        ("person_id", pa.int64()),
        ("division_code", pa.string()),
        ("kind", pa.string()),
        ("at", pa.timestamp("us", tz="UTC")),
        ("attrs", pa.string()),
        ("source", pa.string()),
    ]
)


def live_table(*, session: Session, person_ids: Sequence[int] | None = None) -> pa.Table:
    """Live facts as an Arrow table (attrs as JSON text) for batch evaluation.

    System read for recomputation jobs, which write no personal data out; not scoped.
    """
    query = select(
        PersonFact.person_id,
        PersonFact.division_code,
        PersonFact.kind,
        PersonFact.at,
        PersonFact.attrs,
        PersonFact.source,
    ).where(PersonFact.retracted_at.is_(None))
    rows: list[tuple[object, ...]] = []
    if person_ids is None:
        rows.extend(tuple(r) for r in session.execute(query.order_by(PersonFact.person_id)))
    else:
        for chunk in _chunks(sorted(set(person_ids))):
            rows.extend(
                tuple(r) for r in session.execute(query.where(PersonFact.person_id.in_(chunk)))
            )
    data: list[list[object]] = (
        [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in FACT_TABLE_SCHEMA]
    )
    if rows:
        data[4] = [json.dumps(a, sort_keys=True, ensure_ascii=False) for a in data[4]]
    return pa.table(data, schema=FACT_TABLE_SCHEMA)


def live_of(*, session: Session, person_id: int) -> list[tuple[str, datetime, dict[str, Any]]]:
    """One person's live facts as (kind, at, attrs), for a single decision (a resident's
    lookup); system read like :func:`live_table`, without building a table for one row."""
    rows = session.connection().execute(_LIVE_OF, {"person_id": person_id})
    return [(kind, at, attrs) for kind, at, attrs in rows]


_LIVE_OF = select(PersonFact.kind, PersonFact.at, PersonFact.attrs).where(
    PersonFact.person_id == bindparam("person_id"), PersonFact.retracted_at.is_(None)
)


def _check_shapes(facts: Sequence[FactRow]) -> None:
    """Each distinct shape (kind, attribute names, choice values) once against the catalogue;
    ids, times and free text are checked for type on every row."""
    seen: set[tuple[object, ...]] = set()
    problems: list[Problem] = []
    for number, fact in enumerate(facts):
        spec = rules.CATALOGUE.get(fact.kind)
        choices = (
            tuple((a.name, fact.attrs.get(a.name)) for a in spec.attributes if a.kind == "choice")
            if spec
            else ()
        )
        shape = (fact.kind, tuple(sorted(fact.attrs)), choices)
        row = number + 1
        problems.extend(
            Problem(f"attrs.{k}", "must be a whole number or text", row=row)
            for k, v in fact.attrs.items()
            if v is not None and not isinstance(v, int | str)
        )
        if fact.at.tzinfo is None:
            problems.append(Problem("at", "needs a time zone", row=row))
        if shape not in seen:
            seen.add(shape)
            problems.extend(replace(p, row=row) for p in rules.problems_in(fact.kind, fact.attrs))
        if len(problems) >= 20:
            break
    if problems:
        raise ValidationFailed("facts do not match the catalogue", problems=problems)


def record_many(
    *,
    session: Session,
    actor: Actor,
    facts: Sequence[FactRow],
    divisions: Mapping[int, str] | None = None,
    now: datetime | None = None,
) -> RecordResult:
    """``record`` for large batches (a lab file's results for a city): the same outcome, but
    existing facts are looked up by source (indexed), and new ones are written in one bulk
    statement (COPY on PostgreSQL). ``divisions`` (person → division code) saves the look-up
    when the caller already knows where everyone lives; unknown people are still refused."""
    moment = now or utcnow()
    if not facts:
        return RecordResult()
    _check_shapes(facts)
    person_ids = sorted({f.person_id for f in facts})
    known = _divisions(session, person_ids, divisions or {})
    sources = sorted({f.source for f in facts})
    # Rows, not ORM objects: a re-traced case has tens of thousands of facts, most unchanged.
    stored_columns = (PersonFact.id, PersonFact.at, PersonFact.attrs, PersonFact.retracted_at)
    existing: dict[tuple[int, str, str], Any] = {}  # rows: id, at, attrs, retracted_at, ...
    for start in range(0, len(sources), _CHUNK):
        chunk = sources[start : start + _CHUNK]
        query = select(PersonFact.person_id, PersonFact.kind, PersonFact.source, *stored_columns)
        for stored in session.execute(query.where(PersonFact.source.in_(chunk))):
            existing[(stored.person_id, stored.kind, stored.source)] = stored
    new: dict[tuple[int, str, str], dict[str, object]] = {}
    changed: list[dict[str, object]] = []
    # Counted here, not on the result: a validated model's attribute costs ~20 us a write.
    unchanged = 0
    moved: set[int] = set()  # people whose live facts this write changes
    for fact in facts:
        key = (fact.person_id, fact.kind, fact.source)
        found = existing.get(key)
        if found is None:
            moved.add(fact.person_id)
            new[key] = {
                "person_id": fact.person_id,
                "division_code": known[fact.person_id],
                "kind": fact.kind,
                "at": fact.at,
                "attrs": dict(fact.attrs),
                "source": fact.source,
                "recorded_at": moment,
                "retracted_at": None,
            }
        elif found.at != fact.at or found.attrs != fact.attrs or found.retracted_at is not None:
            moved.add(fact.person_id)
            changed.append(
                {
                    "id": found.id,
                    "at": fact.at,
                    "attrs": dict(fact.attrs),
                    "retracted_at": None,
                    "recorded_at": moment,
                }
            )
        else:
            unchanged += 1
    result = RecordResult(inserted=len(new), updated=len(changed), unchanged=unchanged)
    if changed:
        session.execute(update(PersonFact), changed)  # by primary key, in one executemany
        for held in [o for o in session.identity_map.values() if isinstance(o, PersonFact)]:
            session.expire(held)  # the bulk update went around them
    insert_rows(session, PersonFact.__tablename__, list(new.values()))
    session.flush()
    _changed(session, moved)
    audit.record(
        session=session,
        actor=actor,
        action="record",
        entity="facts",
        entity_id=facts[0].source,
        detail={"inserted": result.inserted, "updated": result.updated, "people": len(person_ids)},
    )
    return result
