"""Stored contacts: writing a trace's result, lists with filters, exports and the network.

A contact is visible to users whose jurisdiction holds the contact's home or the traced case:
the investigators of a case follow its contacts wherever they live (identity details of people
outside their jurisdiction still only travel in assist letters).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import Select, delete, func, or_, select, tuple_
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
from cordon.trace.schemas import ContactPage, ContactRow, NetworkNode, NetworkOut

TZ = ZoneInfo("Asia/Shanghai")
KINDS = ("close", "secondary", "companion")
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

    def described(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if v}


def _filtered(query: Select[Any], actor: Actor, where: ContactFilter) -> Select[Any]:
    query = _scoped(query, actor)
    if where.kind:
        query = query.where(Contact.kind == where.kind)
    if where.division:
        query = query.where(Contact.division_code.startswith(where.division))
    if where.grid:
        query = query.where(Contact.grid_code == where.grid)
    if where.case_id is not None:
        query = query.where(Contact.case_id == where.case_id)
    return query


def _row(contact: Contact) -> ContactRow:
    return ContactRow.model_validate(contact, from_attributes=True)


def count_by_kind(*, session: Session, actor: Actor, where: ContactFilter) -> dict[str, int]:
    """Stored contacts per kind under a filter (counts only: no personal record is read)."""
    require(actor, "cases:view")
    by_kind: Select[Any] = select(Contact.kind, func.count())  # type: ignore[assignment]
    counted = session.execute(_filtered(by_kind, actor, where).group_by(Contact.kind)).all()
    return {k: 0 for k in KINDS} | {str(row[0]): int(row[1]) for row in counted}


def list_contacts(
    *,
    session: Session,
    actor: Actor,
    where: ContactFilter,
    offset: int = 0,
    limit: int = 100,
) -> ContactPage:
    require(actor, "cases:view")
    counts = count_by_kind(session=session, actor=actor, where=where)
    rows = session.scalars(
        _filtered(select(Contact), actor, where)
        .order_by(Contact.first_exposure, Contact.id)
        .offset(offset)
        .limit(limit)
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
    return ContactPage(total=sum(counts.values()), counts=counts, rows=page)


# In place of a name the jurisdiction may not see (a catalog key: web.messages).
ELSEWHERE_NOTE = "(outside your jurisdiction: see the assist letter)"
EXPORT_HEADERS = (
    "类别 kind",
    "病例 case",
    "姓名 name",
    "身份证号 identity number",
    "电话 phone",
    "住址 address",
    "所在地 division",
    "网格 grid",
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
    """Write the contacts a filter finds to ``path`` as XLSX, masked as the role requires,
    read and written a chunk at a time (openpyxl's write-only mode streams rows to disk), so a
    million rows take bounded memory. People outside the jurisdiction are listed by division
    only: their details go to the region that holds them in an assist letter. ``shown(column,
    value)`` words the coded values (kind, rule, the note for people elsewhere) in the reader's
    language. Returns rows."""
    require(actor, "cases:view")
    total = count(session=session, actor=actor, where=where)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("contacts")
    sheet.append(list(EXPORT_HEADERS))
    order = (Contact.kind, Contact.first_exposure, Contact.id)
    written, after = 0, None
    while True:
        query = _filtered(select(Contact), actor, where)
        if after is not None:
            query = query.where(tuple_(*order) > tuple_(*after))
        contacts = list(session.scalars(query.order_by(*order).limit(chunk)))
        if not contacts:
            break
        for values in _export_rows(session, actor, cipher, contacts, shown):
            sheet.append(values)
        written += len(contacts)
        last = contacts[-1]
        after = (last.kind, last.first_exposure, last.id)
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
            {int(e["place_id"]) for c in contacts for e in c.evidence[:1] if e.get("place_id")}
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
            places.get(int(place_id), "")
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
            c.first_exposure.astimezone(TZ).strftime("%Y-%m-%d %H:%M"),
            place,
            first.get("overlap_minutes", ""),
            shown("rule", first.get("rule", "")),
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
    *, session: Session, actor: Actor, case_ids: Sequence[int], since: datetime | None = None
) -> NetworkOut:
    """Cases → close contacts → secondary contacts as nodes and links for a graph.

    Secondary contacts hang off the close contact whose window they shared (the evidence's
    index person). Past ``NETWORK_LIMIT`` nodes, leaves are summed into their parent's size."""
    require(actor, "cases:view")
    query = _scoped(select(Contact), actor).where(Contact.case_id.in_(list(case_ids)))
    if since is not None:
        query = query.where(Contact.traced_at >= since)
    contacts = list(session.scalars(query.order_by(Contact.kind, Contact.first_exposure)))
    # Only cases the actor may see become nodes: another town's case id is not echoed back.
    visible = cases_service.visible_ids(session=session, actor=actor, case_ids=case_ids)
    nodes: dict[str, NetworkNode] = {
        f"case:{c}": NetworkNode(id=f"case:{c}", kind="case", label=f"病例 {c}", value=1)
        for c in case_ids
        if c in visible
    }
    links: list[tuple[str, str]] = []
    truncated = False
    person_node: dict[int, str] = {}
    for contact in contacts:
        first = contact.evidence[0] if contact.evidence else {}
        parent = (
            f"case:{contact.case_id}"
            if contact.kind != "secondary"
            else person_node.get(int(first.get("index_person_id", 0)), f"case:{contact.case_id}")
        )
        if len(nodes) >= NETWORK_LIMIT:
            truncated = True
            nodes[parent].value += 1
            continue
        node = f"person:{contact.person_id}"
        nodes.setdefault(
            node,
            NetworkNode(id=node, kind=contact.kind, label=f"#{contact.person_id}", value=1),
        )
        person_node[contact.person_id] = node
        links.append((parent, node))
    audit.record(
        session=session,
        actor=actor,
        action="view",
        entity="contact_network",
        entity_id=",".join(str(c) for c in case_ids)[:64],
        detail={"contacts": len(contacts)},
    )
    return NetworkOut(nodes=list(nodes.values()), links=links, truncated=truncated)
