"""Stored contacts: writing a trace's result, lists with filters, exports and the network.

A contact is visible to users whose jurisdiction holds the contact's home or the traced case:
the investigators of a case follow its contacts wherever they live (identity details of people
outside their jurisdiction still only travel in assist letters).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select, tuple_
from sqlalchemy.orm import Session

from cordon.audit import service as audit
from cordon.auth.schemas import Actor
from cordon.auth.service import require
from cordon.bulkwrite import insert_rows
from cordon.cases import service as cases_service
from cordon.geo import service as geo_service
from cordon.people import service as people_service
from cordon.security.crypto import FieldCipher
from cordon.trace.models import Contact
from cordon.trace.schemas import ContactPage, ContactRow, ContactScore, NetworkNode, NetworkOut

TZ = ZoneInfo("Asia/Shanghai")
KINDS = ("close", "secondary", "companion")
QUARANTINE_KINDS = ("close", "secondary")  # tiered: the quarantine list
TIERS = (1, 2, 3)  # both packs' tiers; a pack with more adds its own to the counts
EXPORT_CHUNK = 5_000  # contacts read, masked and written at a time
NETWORK_LIMIT = 400  # nodes drawn; beyond that contacts are summed into their parent's size


def replace_contacts(
    *, session: Session, case_ids: Sequence[int], rows: list[dict[str, Any]]
) -> None:
    """The contacts of these cases become exactly ``rows`` (every column but the id; a re-trace
    replaces the last one). A case in a dense city has tens of thousands of contacts: written
    in bulk (COPY on PostgreSQL), not through the ORM."""
    session.execute(delete(Contact).where(Contact.case_id.in_(list(case_ids))))
    insert_rows(session, Contact.__tablename__, rows)
    session.flush()


def _scoped(query: Select[Any], actor: Actor) -> Select[Any]:
    return query.where(
        or_(
            Contact.division_code.startswith(actor.jurisdiction),
            Contact.case_division_code.startswith(actor.jurisdiction),
        )
    )


@dataclass(frozen=True)
class ContactFilter:
    kind: str | None = None
    division: str | None = None  # a division code prefix: town, village
    grid: str | None = None
    case_id: int | None = None
    tier: int | None = None
    # Only the quarantine list (close and secondary contacts): companions are a list of their
    # own, for a yellow code and tests, not for quarantine.
    quarantine: bool = False

    def described(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if v}


def _filtered(query: Select[Any], actor: Actor, where: ContactFilter) -> Select[Any]:
    query = _scoped(query, actor)
    if where.kind:
        query = query.where(Contact.kind == where.kind)
    if where.quarantine:
        query = query.where(Contact.kind.in_(QUARANTINE_KINDS))
    if where.tier is not None:
        query = query.where(Contact.tier == where.tier)
    if where.division:
        query = query.where(Contact.division_code.startswith(where.division))
    if where.grid:
        query = query.where(Contact.grid_code == where.grid)
    if where.case_id is not None:
        query = query.where(Contact.case_id == where.case_id)
    return query


def _row(contact: Contact) -> ContactRow:
    row = ContactRow.model_validate(contact, from_attributes=True)
    row.pushed = contact.push_id is not None
    return row


def count_by_kind(*, session: Session, actor: Actor, where: ContactFilter) -> dict[str, int]:
    """Stored contacts per kind under a filter (counts only: no personal record is read)."""
    require(actor, "cases:view")
    by_kind: Select[Any] = select(Contact.kind, func.count())  # type: ignore[assignment]
    counted = session.execute(_filtered(by_kind, actor, where).group_by(Contact.kind)).all()
    return {k: 0 for k in KINDS} | {str(row[0]): int(row[1]) for row in counted}


def count_by_tier(*, session: Session, actor: Actor, where: ContactFilter) -> dict[str, int]:
    """Stored close and secondary contacts per tier ("1", "2", ...) under a filter; contacts
    traced before tiers existed have none and are not counted here (counts only)."""
    require(actor, "cases:view")
    by_tier: Select[Any] = select(Contact.tier, func.count())  # type: ignore[assignment]
    tiered = replace(where, quarantine=True)
    counted = session.execute(
        _filtered(by_tier, actor, tiered).where(Contact.tier.is_not(None)).group_by(Contact.tier)
    ).all()
    return {str(t): 0 for t in TIERS} | {str(row[0]): int(row[1]) for row in sorted(counted)}


# The order a commander acts in: the quarantine list before the companions (their own list),
# each riskiest first; equal scores by first exposure, then as stored. The export pages
# through each list by the same order (``_after``).
_COMPANIONS_LAST = Contact.kind == "companion"
LIST_ORDER = (_COMPANIONS_LAST, Contact.score.desc(), Contact.first_exposure, Contact.id)


def list_contacts(
    *,
    session: Session,
    actor: Actor,
    where: ContactFilter,
    offset: int = 0,
    limit: int = 100,
) -> ContactPage:
    """A page of contacts, riskiest first, with counts to choose the next view by: per kind
    under every filter but kind and tier (the lists and kinds to switch to), per tier under
    every filter but tier, and ``total`` under the whole filter (for paging)."""
    require(actor, "cases:view")
    counts = count_by_kind(
        session=session, actor=actor, where=replace(where, kind=None, tier=None, quarantine=False)
    )
    tiers = count_by_tier(session=session, actor=actor, where=replace(where, tier=None))
    total = count(session=session, actor=actor, where=where)
    rows = session.scalars(
        _filtered(select(Contact), actor, where).order_by(*LIST_ORDER).offset(offset).limit(limit)
    )
    page = [_row(c) for c in rows]
    audit.record(
        session=session,
        actor=actor,
        action="search",
        entity="contacts",
        entity_id=where.case_id or "*",
        detail=where.described() | {"shown": len(page)},
    )
    return ContactPage(total=total, counts=counts, tiers=tiers, rows=page)


def place_names(*, session: Session, rows: Sequence[ContactRow]) -> dict[int, str]:
    """The names of the places in these contacts' evidence (one query), for their parts."""
    ids = {e.place_id for row in rows for e in row.evidence if e.place_id}
    return geo_service.place_names(session=session, place_ids=sorted(ids))


def scores_of(*, session: Session, actor: Actor, person_ids: Sequence[int]) -> list[ContactScore]:
    """These people's stored contacts (one per traced case they were found by), highest score
    first: scores and tiers only, no personal data, for other slices' pages and what-ifs."""
    require(actor, "cases:view")
    ids = sorted(set(person_ids))
    found: list[ContactScore] = []
    columns = [getattr(Contact, name) for name in ContactScore.model_fields]
    for start in range(0, len(ids), 500):
        query = _scoped(select(*columns), actor).where(
            Contact.person_id.in_(ids[start : start + 500])
        )
        found.extend(ContactScore(**row._asdict()) for row in session.execute(query))
    return sorted(found, key=lambda c: (-c.score, c.first_exposure, c.person_id, c.case_id))


# In place of a name the jurisdiction may not see (a catalog key: web.messages).
ELSEWHERE_NOTE = "(outside your jurisdiction: see the assist letter)"
# Sheet names (catalog keys: web.messages): companions are a list of their own.
QUARANTINE_SHEET = "Quarantine list"
COMPANION_SHEET = "Companions"
EXPORT_HEADERS = (
    "类别 kind",
    "病例 case",
    "姓名 name",
    "身份证号 identity number",
    "电话 phone",
    "住址 address",
    "所在地 division",
    "网格 grid",
    "优先级 tier",
    "暴露得分(%) score (%)",
    "暴露天数 days exposed",
    "暴露分钟 minutes exposed",
    "首次暴露 first exposure",
    "暴露地点 place",
    "重叠分钟 overlap minutes",
    "判定规则 rule",
)


def count(*, session: Session, actor: Actor, where: ContactFilter) -> int:
    """How many contacts a filter finds (aggregate only: no person is read)."""
    require(actor, "cases:view")
    counted: Select[Any] = select(func.count()).select_from(Contact)  # type: ignore[assignment]
    return int(session.scalar(_filtered(counted, actor, where)) or 0)


def _as_stored(column: str, value: str) -> str:
    return f"cell {value}" if column == "cell" else value


def _lists(where: ContactFilter) -> list[tuple[str, ContactFilter]]:
    """The lists (sheets) a filter can hold, each with its own filter: the quarantine list,
    then the companions."""
    if where.kind:
        title = COMPANION_SHEET if where.kind == "companion" else QUARANTINE_SHEET
        return [(title, where)]
    if where.quarantine or where.tier is not None:
        return [(QUARANTINE_SHEET, replace(where, quarantine=True))]
    return [
        (QUARANTINE_SHEET, replace(where, quarantine=True)),
        (COMPANION_SHEET, replace(where, kind="companion")),
    ]


def _after(last: Contact) -> ColumnElement[bool]:
    """Contacts after ``last`` in a list's order (score down, then first exposure and id up):
    the export pages through a list by this key, not by offset."""
    return or_(
        Contact.score < last.score,
        and_(
            Contact.score == last.score,
            tuple_(Contact.first_exposure, Contact.id) > tuple_(last.first_exposure, last.id),
        ),
    )


def write_xlsx(
    *,
    session: Session,
    actor: Actor,
    cipher: FieldCipher,
    where: ContactFilter,
    path: Path,
    progress: Callable[[int, int], None] | None = None,
    chunk: int = EXPORT_CHUNK,
    shown: Callable[[str, str], str] = _as_stored,
) -> int:
    """Write the contacts a filter finds to ``path`` as XLSX, masked as the role requires: the
    quarantine list (close and secondary contacts) and the companions on sheets of their own,
    each riskiest first. Read and written a chunk at a time (openpyxl's write-only mode streams
    rows to disk), so a million rows take bounded memory. People outside the jurisdiction are
    listed by division only: their details go to the region that holds them in an assist
    letter. ``shown(column, value)`` words the coded values (kind, rule, sheet names, the note
    for people elsewhere) in the reader's language. Returns rows."""
    require(actor, "cases:view")
    total = count(session=session, actor=actor, where=where)
    book = Workbook(write_only=True)
    written = 0
    for title, listed in _lists(where):
        sheet = book.create_sheet(shown("note", title))
        sheet.append(list(EXPORT_HEADERS))
        last: Contact | None = None
        while True:
            query = _filtered(select(Contact), actor, listed)
            if last is not None:
                query = query.where(_after(last))
            contacts = list(session.scalars(query.order_by(*LIST_ORDER[1:]).limit(chunk)))
            if not contacts:
                break
            for values in _export_rows(session, actor, cipher, contacts, shown):
                sheet.append(values)
            written += len(contacts)
            last = contacts[-1]
            session.flush()
            for written_contact in contacts:
                session.expunge(written_contact)  # rows already written: keep memory flat
            if progress is not None:
                progress(written, max(total, written))
    book.save(path)
    return written


def _export_rows(
    session: Session,
    actor: Actor,
    cipher: FieldCipher,
    contacts: list[Contact],
    shown: Callable[[str, str], str],
) -> Iterator[list[object]]:
    people = {
        p.id: p
        for p in people_service.read_many(
            session=session,
            actor=actor,
            cipher=cipher,
            person_ids=[c.person_id for c in contacts],
            purpose="export",
        )
    }
    places = geo_service.place_names(
        session=session,
        place_ids=sorted(
            {int(str(e["place_id"])) for c in contacts for e in c.evidence[:1] if e.get("place_id")}
        ),
    )
    divisions = geo_service.divisions_named(
        session=session, codes=sorted({c.division_code for c in contacts})
    )
    for c in contacts:
        first = c.evidence[0] if c.evidence else {}
        person = people.get(c.person_id)
        place_id = first.get("place_id")
        place = (
            places.get(int(str(place_id)), "")
            if place_id
            else shown("cell", str(first.get("cell_id", "")))
        )
        yield [
            shown("kind", c.kind),
            c.case_id,
            person.name if person else shown("note", ELSEWHERE_NOTE),
            person.id_number if person else "",
            (person.phone or "") if person else "",
            person.address if person else "",
            divisions.get(c.division_code, c.division_code),
            c.grid_code or "",
            c.tier or "",
            round(c.score * 100, 2),
            c.days_exposed,
            round(c.exposed_minutes),
            c.first_exposure.astimezone(TZ).strftime("%Y-%m-%d %H:%M"),
            place,
            first.get("overlap_minutes", ""),
            shown("rule", str(first.get("rule", ""))),
        ]


def people_of_cases(*, session: Session, case_ids: Sequence[int]) -> int:
    """Distinct people stored as contacts of these cases (a batch trace's result)."""
    found: set[int] = set()
    ids = list(case_ids)
    for start in range(0, len(ids), 500):
        found.update(
            session.scalars(
                select(Contact.person_id).where(Contact.case_id.in_(ids[start : start + 500]))
            )
        )
    return len(found)


def network(
    *,
    session: Session,
    actor: Actor,
    case_ids: Sequence[int],
    since: datetime | None = None,
    limit: int = NETWORK_LIMIT,
) -> NetworkOut:
    """Cases → close contacts (and companions) → secondary contacts as nodes and links.

    Secondary contacts hang off the close contact whose window they shared (the evidence's
    index person) when it is drawn. Past ``limit`` nodes the highest-scored contacts are
    drawn, and the others are summed into the size of the node they hang off."""
    require(actor, "cases:view")
    query = _scoped(select(Contact), actor).where(Contact.case_id.in_(list(case_ids)))
    if since is not None:
        query = query.where(Contact.traced_at >= since)
    contacts = list(session.scalars(query.order_by(*LIST_ORDER[1:])))
    # Only cases the actor may see become nodes: another town's case id is not echoed back.
    visible = cases_service.visible_ids(session=session, actor=actor, case_ids=case_ids)
    nodes: dict[str, NetworkNode] = {
        f"case:{c}": NetworkNode(id=f"case:{c}", kind="case", label=f"病例 {c}", value=1)
        for c in case_ids
        if c in visible
    }
    drawn: list[Contact] = []  # riskiest first; a person found by two cases is one node
    hidden: list[Contact] = []
    for contact in contacts:
        node = f"person:{contact.person_id}"
        if node not in nodes and len(nodes) >= limit:
            hidden.append(contact)
            continue
        drawn.append(contact)
        nodes.setdefault(
            node,
            NetworkNode(
                id=node,
                kind=contact.kind,
                label=f"#{contact.person_id}",
                value=1,
                tier=contact.tier,
                score=contact.score,
            ),
        )

    def parent(contact: Contact) -> str:
        first = contact.evidence[0] if contact.evidence else {}
        index = f"person:{first.get('index_person_id', 0)}"
        return (
            index if contact.kind == "secondary" and index in nodes else f"case:{contact.case_id}"
        )

    links = list(
        dict.fromkeys((parent(c), f"person:{c.person_id}") for c in drawn if parent(c) in nodes)
    )
    for contact in hidden:
        if parent(contact) in nodes:
            nodes[parent(contact)].value += 1
    audit.record(
        session=session,
        actor=actor,
        action="view",
        entity="contact_network",
        entity_id=",".join(str(c) for c in case_ids)[:64],
        detail={"contacts": len(contacts)},
    )
    return NetworkOut(nodes=list(nodes.values()), links=links, truncated=bool(hidden))
