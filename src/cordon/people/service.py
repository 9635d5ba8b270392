"""Registry queries and changes. Every query is scoped to the actor's jurisdiction and every
read or change of a person's record is audited."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, select, text
from sqlalchemy.orm import Session

from cordon.audit import service as audit
from cordon.auth.schemas import Actor
from cordon.auth.service import out_of_jurisdiction, require
from cordon.errors import (
    DeniedAccess,
    NotFound,
    Problem,
    ValidationFailed,
)
from cordon.geo import service as geo
from cordon.people import rules
from cordon.people.models import Household, Person
from cordon.people.schemas import PersonIn, PersonName, PersonOut, PersonPatch
from cordon.security.crypto import FieldCipher
from cordon.security.masking import mask_id_number, mask_name, mask_phone

ID_CONTEXT = "person.id_number"
PHONE_CONTEXT = "person.phone"
# The entity id of an audit entry for many people (their ids are in the entry's ids).
LISTED = "*"
_MASKED_ID = re.compile(r"^(\d{6})?\*+(\d{3}[\dX])?$")


def scoped(query: Select[Any], actor: Actor) -> Select[Any]:
    return query.where(Person.division_code.startswith(actor.jurisdiction))


@dataclass
class Prepared:
    """A person's values after validation, ready to be written."""

    name: str
    id_number: rules.IdNumber
    phone: str | None
    address: str
    household: str | None
    division_code: str
    grid_code: str | None


def _place(
    *, session: Session, actor: Actor, division_code: str | None, grid_code: str | None
) -> tuple[str, str | None, list[Problem]]:
    """Resolve where a person lives; returns (division, grid, problems)."""
    problems: list[Problem] = []
    division: str | None = None
    if grid_code:
        grid = geo.get_grid(session=session, code=grid_code.strip())
        if grid is None:
            problems.append(
                Problem(
                    "grid_code",
                    "unknown grid %(grid_code)s",
                    params=dict(grid_code=repr(grid_code)),
                )
            )
        else:
            division = grid.division_code
            grid_code = grid.code
    if division_code:
        try:
            given = geo.require_division(session=session, code=division_code).code
        except ValidationFailed as exc:
            problems.extend(exc.problems)
            given = None
        if given and division and not geo.is_within(division, given):
            problems.append(
                Problem(
                    "grid_code",
                    "grid %(grid_code)s is not inside %(given)s",
                    params=dict(grid_code=grid_code, given=given),
                )
            )
        division = division or given
    if division is None and not problems:
        problems.append(Problem("division_code", "give a division code or a grid code"))
    if division is not None and not geo.is_within(division, actor.jurisdiction):
        problems.append(
            Problem(
                "division_code",
                "%(division)s is outside your jurisdiction (%(jurisdiction)s)",
                params=dict(division=division, jurisdiction=actor.jurisdiction),
            )
        )
    return division or "", grid_code or None, problems


def prepare(*, session: Session, actor: Actor, data: PersonIn) -> Prepared:
    """Validate one person; raises ValidationFailed listing every wrong field."""
    problems: list[Problem] = []
    parsed: rules.IdNumber | None = None
    try:
        parsed = rules.parse_id_number(data.id_number)
    except rules.IdNumberError as exc:
        problems.append(exc.as_problem())
    if parsed is not None:
        if data.sex is not None and data.sex != parsed.sex:
            problems.append(
                Problem("sex", "identity number says %(sex)s", params=dict(sex=parsed.sex))
            )
        if data.birth_date is not None and data.birth_date != parsed.birth_date:
            problems.append(
                Problem(
                    "birth_date",
                    "identity number says %(date)s",
                    params=dict(date=parsed.birth_date.isoformat()),
                )
            )
    phone: str | None = None
    if data.phone:
        try:
            phone = rules.normalise_phone(data.phone)
        except rules.PhoneError as exc:
            problems.append(exc.as_problem("phone"))
    name = data.name.strip()
    if not name:
        problems.append(Problem("name", "must not be blank"))
    division, grid, place_problems = _place(
        session=session, actor=actor, division_code=data.division_code, grid_code=data.grid_code
    )
    problems.extend(place_problems)
    if problems or parsed is None:
        raise ValidationFailed("the person's data is not valid", problems=problems)
    return Prepared(
        name=name,
        id_number=parsed,
        phone=phone,
        address=data.address.strip(),
        household=(data.household or "").strip() or None,
        division_code=division,
        grid_code=grid,
    )


def _household(
    *,
    session: Session,
    actor: Actor,
    number: str | None,
    address: str,
    division_code: str,
    grid_code: str | None,
) -> int | None:
    """The id of household ``number``, created at the person's address if new."""
    if not number:
        return None
    row = session.scalar(select(Household).where(Household.number == number))
    if row is None:
        row = Household(
            number=number, address=address, division_code=division_code, grid_code=grid_code
        )
        session.add(row)
        session.flush()
    elif not geo.is_within(row.division_code, actor.jurisdiction):
        raise ValidationFailed(
            "household outside your jurisdiction",
            problems=[
                Problem(
                    "household",
                    "household %(number)s is outside your jurisdiction",
                    params=dict(number=number),
                )
            ],
        )
    return row.id


# Pure checks other slices reach through the service.
id_number_error = rules.id_number_error
id_number_problem = rules.id_number_problem


def id_hash(cipher: FieldCipher, number: str) -> str:
    return cipher.lookup_hash(number, context=ID_CONTEXT)


def build_person(*, cipher: FieldCipher, prepared: Prepared, household_id: int | None) -> Person:
    """A new Person row with its identity data encrypted; not yet added to a session."""
    number = prepared.id_number.number
    phone = prepared.phone
    return Person(
        name=prepared.name,
        id_number_cipher=cipher.encrypt(number, context=ID_CONTEXT),
        id_number_hash=id_hash(cipher, number),
        id_region=number[:6],
        id_last4=number[-4:],
        sex=prepared.id_number.sex,
        birth_date=prepared.id_number.birth_date,
        phone_cipher=cipher.encrypt(phone, context=PHONE_CONTEXT) if phone else None,
        phone_hash=cipher.lookup_hash(phone, context=PHONE_CONTEXT) if phone else None,
        address=prepared.address,
        household_id=household_id,
        division_code=prepared.division_code,
        grid_code=prepared.grid_code,
    )


def write_new(*, session: Session, actor: Actor, cipher: FieldCipher, prepared: Prepared) -> Person:
    household_id = _household(
        session=session,
        actor=actor,
        number=prepared.household,
        address=prepared.address,
        division_code=prepared.division_code,
        grid_code=prepared.grid_code,
    )
    person = build_person(cipher=cipher, prepared=prepared, household_id=household_id)
    session.add(person)
    session.flush()
    return person


def write_many(
    *, session: Session, actor: Actor, cipher: FieldCipher, prepared: list[Prepared]
) -> list[Person]:
    """Write many people with one flush per table (imports, seeding)."""
    numbers = sorted({p.household for p in prepared if p.household})
    households: dict[str, Household] = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start : start + 500]
        households.update(
            (h.number, h)
            for h in session.scalars(select(Household).where(Household.number.in_(chunk)))
        )
    for p in prepared:
        if p.household and p.household not in households:
            households[p.household] = Household(
                number=p.household,
                address=p.address,
                division_code=p.division_code,
                grid_code=p.grid_code,
            )
            session.add(households[p.household])
    outside = [
        n for n, h in households.items() if not geo.is_within(h.division_code, actor.jurisdiction)
    ]
    if outside:
        raise ValidationFailed(
            "household outside your jurisdiction",
            problems=[
                Problem(
                    "household",
                    "household %(household)s is outside your jurisdiction",
                    params=dict(household=n),
                )
                for n in outside
            ],
        )
    session.flush()
    people = [
        build_person(
            cipher=cipher,
            prepared=p,
            household_id=households[p.household].id if p.household else None,
        )
        for p in prepared
    ]
    session.add_all(people)
    session.flush()
    return people


def create_person(
    *, session: Session, actor: Actor, cipher: FieldCipher, data: PersonIn
) -> PersonOut:
    require(actor, "people:edit")
    prepared = prepare(session=session, actor=actor, data=data)
    number = prepared.id_number.number
    existing = session.execute(
        select(Person.id, Person.division_code).where(
            Person.id_number_hash == id_hash(cipher, number)
        )
    ).first()
    if existing is not None:
        outside = not geo.is_within(existing.division_code, actor.jurisdiction)
        raise ValidationFailed(
            DUPLICATE_REFUSED,
            problems=[Problem("id_number", DUPLICATE_REFUSED)],
            denied=duplicate_denied(actor, existing.id) if outside else None,
        )
    person = write_new(session=session, actor=actor, cipher=cipher, prepared=prepared)
    audit.record(
        session=session, actor=actor, action="create", entity="person", entity_id=person.id
    )
    return to_out(session=session, actor=actor, cipher=cipher, people=[person])[0]


# One answer for an identity number that is already registered, wherever the person lives:
# the answer must not tell a user that a number is registered outside their jurisdiction
# (their own search shows who lives inside it). Attempts on numbers outside are audited.
DUPLICATE_REFUSED = "this identity number cannot be registered here; search for the person"


def duplicate_denied(actor: Actor, person_id: int) -> DeniedAccess:
    return DeniedAccess(
        user_id=actor.user_id,
        username=actor.username,
        action="create",
        entity="person",
        entity_id=str(person_id),
        detail={
            "reason": "identity number registered outside jurisdiction",
            "jurisdiction": actor.jurisdiction,
        },
    )


def registered(*, session: Session, cipher: FieldCipher, numbers: list[str]) -> dict[str, Any]:
    """The registered people among these identity numbers, whatever the jurisdiction:
    {number: row with id and division_code} (for duplicate checks only; nothing is shown)."""
    by_hash = {id_hash(cipher, n): n for n in numbers}
    found: dict[str, Any] = {}
    hashes = list(by_hash)
    for start in range(0, len(hashes), 500):
        query = select(Person.id, Person.division_code, Person.id_number_hash).where(
            Person.id_number_hash.in_(hashes[start : start + 500])
        )
        found.update((by_hash[r.id_number_hash], r) for r in session.execute(query))
    return found


def _load_in_scope(*, session: Session, actor: Actor, person_id: int, action: str) -> Person:
    person = session.scalar(scoped(select(Person).where(Person.id == person_id), actor))
    if person is not None:
        return person
    unknown = NotFound("no person %(person_id)s", params=dict(person_id=person_id))
    if session.get(Person, person_id) is None:
        raise unknown
    raise out_of_jurisdiction(actor, unknown, action=action, entity="person", entity_id=person_id)


def get_person(*, session: Session, actor: Actor, cipher: FieldCipher, person_id: int) -> PersonOut:
    require(actor, "people:view")
    person = _load_in_scope(session=session, actor=actor, person_id=person_id, action="view")
    audit.record(session=session, actor=actor, action="view", entity="person", entity_id=person.id)
    return to_out(session=session, actor=actor, cipher=cipher, people=[person])[0]


def update_person(
    *, session: Session, actor: Actor, cipher: FieldCipher, person_id: int, patch: PersonPatch
) -> PersonOut:
    require(actor, "people:edit")
    person = _load_in_scope(session=session, actor=actor, person_id=person_id, action="update")
    changes = patch.model_dump(exclude_unset=True)
    problems: list[Problem] = []
    if "name" in changes:
        name = (patch.name or "").strip()
        if not name:
            problems.append(Problem("name", "must not be blank"))
        person.name = name
    if "phone" in changes:
        if patch.phone:
            try:
                phone = rules.normalise_phone(patch.phone)
                person.phone_cipher = cipher.encrypt(phone, context=PHONE_CONTEXT)
                person.phone_hash = cipher.lookup_hash(phone, context=PHONE_CONTEXT)
            except rules.PhoneError as exc:
                problems.append(exc.as_problem("phone"))
        else:
            person.phone_cipher = person.phone_hash = None
    if "address" in changes:
        person.address = (patch.address or "").strip()
    if "division_code" in changes or "grid_code" in changes:
        # A new grid implies its village; a new division alone leaves the old grid behind.
        division, grid, place_problems = _place(
            session=session,
            actor=actor,
            division_code=changes.get("division_code"),
            grid_code=changes.get("grid_code"),
        )
        problems.extend(place_problems)
        if not place_problems:
            person.division_code, person.grid_code = division, grid
    if problems:
        raise ValidationFailed("the changes are not valid", problems=problems)
    if "household" in changes:
        person.household_id = _household(
            session=session,
            actor=actor,
            number=(patch.household or "").strip() or None,
            address=person.address,
            division_code=person.division_code,
            grid_code=person.grid_code,
        )
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="update",
        entity="person",
        entity_id=person.id,
        detail={"fields": sorted(changes)},
    )
    return to_out(session=session, actor=actor, cipher=cipher, people=[person])[0]


def search_people(
    *,
    session: Session,
    actor: Actor,
    cipher: FieldCipher,
    name: str | None = None,
    id_number: str | None = None,
    grid_code: str | None = None,
    division_code: str | None = None,
    limit: int = 50,
    offset: int = 0,
    purpose: str = "search",
) -> tuple[int, list[PersonOut]]:
    """Search inside the actor's jurisdiction by name (substring), identity number (full or
    masked like ``450681********1234``), grid or division. ``purpose`` is the audited action
    ("search", or "export" when the rows leave the system in a file)."""
    require(actor, "people:view")
    query = scoped(select(Person), actor)
    if name:
        query = query.where(Person.name.contains(name.strip(), autoescape=True))
    if id_number:
        text = id_number.strip().upper()
        masked = _MASKED_ID.match(text)
        if masked:
            region, last4 = masked.groups()
            if not region and not last4:
                raise ValidationFailed(
                    "masked identity number needs a region prefix or last four characters",
                    problems=[Problem("id_number", "give e.g. 450681********1234")],
                )
            if region:
                query = query.where(Person.id_region == region)
            if last4:
                query = query.where(Person.id_last4 == last4)
        else:
            # Say why a full number cannot be anyone's, as the form does, not "no one found".
            wrong = id_number_error(text)
            if wrong is not None:
                raise ValidationFailed("not a valid identity number", problems=[wrong.as_problem()])
            query = query.where(Person.id_number_hash == id_hash(cipher, text))
    if grid_code:
        query = query.where(Person.grid_code == grid_code.strip())
    if division_code:
        try:
            code = geo.normalise_code(division_code)
        except geo.BadDivisionCode as exc:
            raise exc.as_error("division_code") from exc
        query = query.where(Person.division_code.startswith(code))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(session.scalars(query.order_by(Person.id).limit(limit).offset(offset)))
    # One entry per request listing the people shown ("who has seen this person" matches
    # the entry's ids as well as single-record entries).
    query_detail = {
        key: value
        for key, value in {
            "name": name,
            "id_number": mask_id_number(id_number.strip()) if id_number else None,
            "grid_code": grid_code,
            "division_code": division_code,
        }.items()
        if value
    }
    _audit_listed(
        session, actor, purpose, [row.id for row in rows], detail=query_detail | {"total": total}
    )
    return total, to_out(session=session, actor=actor, cipher=cipher, people=rows)


def to_out(
    *, session: Session, actor: Actor, cipher: FieldCipher, people: list[Person]
) -> list[PersonOut]:
    """Shape records for display, masked unless the actor's role may see identity data."""
    full = actor.can("people:view_pii")
    names = geo.divisions_named(session=session, codes=sorted({p.division_code for p in people}))
    household_ids = sorted({p.household_id for p in people if p.household_id})
    households: dict[int, str] = {}
    if household_ids:
        rows = session.execute(
            select(Household.id, Household.number).where(Household.id.in_(household_ids))
        )
        households = {hid: number for hid, number in rows}
    out = []
    for p in people:
        number = cipher.decrypt(p.id_number_cipher, context=ID_CONTEXT)
        phone = cipher.decrypt(p.phone_cipher, context=PHONE_CONTEXT) if p.phone_cipher else None
        out.append(
            PersonOut(
                id=p.id,
                name=p.name,
                id_number=number if full else mask_id_number(number),
                sex="M" if p.sex == "M" else "F",
                birth_date=p.birth_date,
                phone=(phone if full else mask_phone(phone)) if phone else None,
                address=p.address,
                household=households.get(p.household_id) if p.household_id else None,
                division_code=p.division_code,
                division_name=names.get(p.division_code),
                grid_code=p.grid_code,
                masked=not full,
                updated_at=p.updated_at,
            )
        )
    return out


def count_by_prefix(*, session: Session, actor: Actor, digits: int) -> dict[str, int]:
    """Registered people per division at one level (digits: 6 county, 9 town), in scope.

    Aggregate counts only: no personal record is read, so no audit entry."""
    require(actor, "overview:view")
    key = func.substr(Person.division_code, 1, digits)
    rows = session.execute(scoped(select(key, func.count()), actor).group_by(key))
    return {code: int(n) for code, n in rows}


def load_registry(
    *,
    session: Session,
    cipher: FieldCipher,
    households: list[dict[str, Any]],
    people: list[dict[str, Any]],
) -> int:
    """Bulk-load households and people whose data was made valid by the simulator, keeping
    their ids (so lake person ids map to records). Identity numbers and phones are encrypted
    as for any person. Returns how many people were loaded."""
    if households:
        session.execute(insert(Household), households)
    rows = []
    for p in people:
        number, phone = p["id_number"], p.get("phone")
        rows.append(
            {
                "id": p["id"],
                "name": p["name"],
                "id_number_cipher": cipher.encrypt(number, context=ID_CONTEXT),
                "id_number_hash": id_hash(cipher, number),
                "id_region": number[:6],
                "id_last4": number[-4:],
                "sex": p["sex"],
                "birth_date": p["birth_date"],
                "phone_cipher": cipher.encrypt(phone, context=PHONE_CONTEXT) if phone else None,
                "phone_hash": cipher.lookup_hash(phone, context=PHONE_CONTEXT) if phone else None,
                "address": p.get("address", ""),
                "household_id": p.get("household_id"),
                "division_code": p["division_code"],
                "grid_code": p.get("grid_code"),
            }
        )
        if len(rows) == 10_000:
            session.execute(insert(Person), rows)
            rows = []
    if rows:
        session.execute(insert(Person), rows)
    if session.get_bind().dialect.name == "postgresql":
        # Explicit ids leave the sequences behind; move them past the loaded ids.
        for table in ("people", "households"):
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
            )
    return len(people)


def count_people(*, session: Session) -> int:
    """All registered people, whatever the jurisdiction (for operators' commands)."""
    return int(session.scalar(select(func.count()).select_from(Person)) or 0)


def for_assist_letter(
    *, session: Session, actor: Actor, cipher: FieldCipher, person_ids: list[int], case_id: int
) -> list[PersonOut]:
    """Contacts found by tracing who live outside the actor's jurisdiction, in full, for an
    assist letter to the region where they live. A controlled exception to scoping: only for
    tracing roles, and every person read is audited with the case it is for."""
    require(actor, "trace:run")
    rows: list[Person] = []
    for start in range(0, len(person_ids), 500):
        chunk = person_ids[start : start + 500]
        rows.extend(session.scalars(select(Person).where(Person.id.in_(chunk))))
    _audit_listed(
        session, actor, "assist_letter", sorted(row.id for row in rows), detail={"case_id": case_id}
    )
    full = Actor(
        user_id=actor.user_id,
        username=actor.username,
        role=actor.role,
        jurisdiction=actor.jurisdiction,
        permissions=actor.permissions | {"people:view_pii"},
        client_addr=actor.client_addr,
    )
    return to_out(
        session=session, actor=full, cipher=cipher, people=sorted(rows, key=lambda p: p.id)
    )


def divisions_of(*, session: Session, person_ids: list[int]) -> dict[int, str]:
    """Where each person lives (division code only, no personal data), to route assist
    letters; the letters themselves read the records through ``for_assist_letter``."""
    found: dict[int, str] = {}
    for start in range(0, len(person_ids), 500):
        chunk = person_ids[start : start + 500]
        rows = session.execute(select(Person.id, Person.division_code).where(Person.id.in_(chunk)))
        found.update({pid: code for pid, code in rows})
    return found


def residences(*, session: Session, person_ids: list[int]) -> dict[int, tuple[str, str | None]]:
    """Division and grid of each person (no personal data), for health-code counts by place."""
    found: dict[int, tuple[str, str | None]] = {}
    for start in range(0, len(person_ids), 500):
        chunk = person_ids[start : start + 500]
        rows = session.execute(
            select(Person.id, Person.division_code, Person.grid_code).where(Person.id.in_(chunk))
        )
        found.update({pid: (code, grid) for pid, code, grid in rows})
    return found


def residents_within(
    *, session: Session, actor: Actor, division_code: str
) -> list[tuple[int, str, str | None, int | None]]:
    """(id, division, grid, household id) of everyone living inside ``division_code`` and the
    actor's jurisdiction: a screening round's roster. Places only, no personal data."""
    require(actor, "people:view")
    query = select(Person.id, Person.division_code, Person.grid_code, Person.household_id).where(
        Person.division_code.startswith(division_code),
        Person.division_code.startswith(actor.jurisdiction),
    )
    return [(int(i), d, g, h) for i, d, g, h in session.execute(query.order_by(Person.id))]


def read_many(
    *,
    session: Session,
    actor: Actor,
    cipher: FieldCipher,
    person_ids: list[int],
    purpose: str,
) -> list[PersonOut]:
    """The records of these people inside the actor's jurisdiction (others are left out),
    masked as the role requires; every record read is audited with ``purpose``."""
    require(actor, "people:view")
    rows: list[Person] = []
    for start in range(0, len(person_ids), 500):
        chunk = person_ids[start : start + 500]
        rows.extend(session.scalars(scoped(select(Person).where(Person.id.in_(chunk)), actor)))
    _audit_listed(session, actor, purpose, sorted(row.id for row in rows))
    return to_out(
        session=session, actor=actor, cipher=cipher, people=sorted(rows, key=lambda p: p.id)
    )


def count_by_grid(*, session: Session, actor: Actor) -> dict[str, int]:
    """Registered people per grid, in scope (aggregate counts: no audit entry)."""
    require(actor, "overview:view")
    query = (
        select(Person.grid_code, func.count())
        .where(Person.division_code.startswith(actor.jurisdiction), Person.grid_code.is_not(None))
        .group_by(Person.grid_code)
    )
    return {str(code): int(n) for code, n in session.execute(query)}


@dataclass(frozen=True)
class IdentityMatch:
    person_id: int
    division_code: str
    masked_name: str
    masked_id_number: str


_IDENTITY = select(Person.id, Person.name, Person.division_code).where(
    Person.id_number_hash == bindparam("digest")
)


def match_identity(
    *, session: Session, cipher: FieldCipher, id_number: str, name: str
) -> IdentityMatch | None:
    """The person with this identity number and exactly this name, or None — the same None
    whether the number is unknown or the name is wrong, so an answer reveals nothing."""
    number = id_number.strip().upper()
    # Three columns by a prepared Core statement: residents' lookups run this every request.
    row = session.connection().execute(_IDENTITY, {"digest": id_hash(cipher, number)}).first()
    if row is None or row.name != name.strip():
        return None
    return IdentityMatch(
        person_id=row.id,
        division_code=row.division_code,
        masked_name=mask_name(row.name),
        masked_id_number=mask_id_number(number),
    )


def find_by_id_number(*, session: Session, cipher: FieldCipher, id_number: str) -> int | None:
    """The id of the person with this full identity number, whatever the jurisdiction (for a
    resident looking up their own record: the caller checks the name and audits)."""
    text = id_number.strip().upper()
    return session.scalar(select(Person.id).where(Person.id_number_hash == id_hash(cipher, text)))


def _audit_listed(
    session: Session,
    actor: Actor,
    action: str,
    ids: list[int],
    detail: dict[str, Any] | None = None,
) -> None:
    """One audit entry for the people a list, search or export showed (their ids in it)."""
    audit.record(
        session=session,
        actor=actor,
        action=action,
        entity="person",
        entity_id=LISTED,
        detail=detail,
        ids=ids,
    )


def shown_name(actor: Actor, name: str) -> str:
    """A name as this actor's role may see it in lists: in full with ``people:view_pii``,
    otherwise masked (张*明)."""
    return name if actor.can("people:view_pii") else mask_name(name)


def names_of(
    *,
    session: Session,
    actor: Actor,
    person_ids: Iterable[int],
    purpose: str = "list",
    detail: dict[str, Any] | None = None,
) -> dict[int, str]:
    """The names of these people for a list page (contacts, cases, network, screening),
    masked as the role requires: one query for a page of up to 500, and one audit entry with
    the ids shown. People outside the jurisdiction, and every one for a role without
    ``people:view``, are left out: the page shows them as outside the user's reach."""
    wanted = sorted({int(i) for i in person_ids})
    if not wanted or not actor.can("people:view"):
        return {}
    found: dict[int, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = scoped(select(Person.id, Person.name).where(Person.id.in_(chunk)), actor)
        found.update({int(pid): shown_name(actor, name) for pid, name in session.execute(query)})
    if found:
        _audit_listed(session, actor, purpose, sorted(found), detail=detail)
    return found


def household_members(*, session: Session, actor: Actor, person_id: int) -> list[PersonName]:
    """The other people of this person's household in the actor's jurisdiction, names masked
    as the role requires (one audit entry with their ids)."""
    require(actor, "people:view")
    person = _load_in_scope(session=session, actor=actor, person_id=person_id, action="view")
    if person.household_id is None:
        return []
    query = scoped(
        select(Person.id, Person.name).where(
            Person.household_id == person.household_id, Person.id != person.id
        ),
        actor,
    )
    members = [
        PersonName(id=int(pid), name=shown_name(actor, name))
        for pid, name in session.execute(query.order_by(Person.birth_date, Person.id))
    ]
    if members:
        _audit_listed(
            session, actor, "view", [m.id for m in members], detail={"household_of": person.id}
        )
    return members
