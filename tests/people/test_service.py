from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cordon.audit.models import AuditEntry
from cordon.auth.rules import Role
from cordon.errors import Forbidden, NotFound, OutOfJurisdiction, ValidationFailed
from cordon.people import service
from cordon.people.schemas import PersonIn, PersonPatch
from cordon.security.crypto import FieldCipher
from tests.helpers import id_number, make_actor, person

ADMIN = make_actor()


def create(session: Session, cipher: FieldCipher, **overrides: object) -> int:
    return service.create_person(
        session=session, actor=ADMIN, cipher=cipher, data=PersonIn(**person(**overrides))
    ).id


def test_identity_number_and_phone_are_encrypted_at_rest(
    session: Session, cipher: FieldCipher
) -> None:
    number = id_number()
    create(session, cipher, id_number=number)
    row = session.execute(text("SELECT * FROM people")).mappings().one()
    stored = " ".join(str(v) for v in row.values())
    assert number not in stored and "13812345678" not in stored
    assert bytes(row["id_number_cipher"]).find(number.encode()) == -1


def test_derived_fields_and_village_come_from_number_and_grid(
    session: Session, cipher: FieldCipher
) -> None:
    out = service.get_person(
        session=session,
        actor=ADMIN,
        cipher=cipher,
        person_id=create(session, cipher, id_number=id_number(born=date(1970, 5, 4), order=222)),
    )
    assert (out.sex, out.birth_date) == ("F", date(1970, 5, 4))
    assert out.division_code == "450681100001"
    assert out.division_name == "东郊社区居委会"


def test_every_wrong_field_is_reported_and_nothing_written(
    session: Session, cipher: FieldCipher
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create(session, cipher, sex="F", phone="123", grid_code="450681100001999")
    fields = {p.field for p in caught.value.problems}
    assert fields == {"sex", "phone", "grid_code"}
    assert session.execute(text("SELECT count(*) FROM people")).scalar() == 0


def test_duplicate_identity_number_is_refused(session: Session, cipher: FieldCipher) -> None:
    create(session, cipher)
    with pytest.raises(ValidationFailed) as caught:
        create(session, cipher, name="别人")
    assert caught.value.problems[0].field == "id_number"


def test_roles_without_pii_permission_see_masked_values(
    session: Session, cipher: FieldCipher
) -> None:
    number = id_number()
    pid = create(session, cipher, id_number=number)
    worker = make_actor(Role.GRID_WORKER, "450681")
    seen = service.get_person(session=session, actor=worker, cipher=cipher, person_id=pid)
    assert seen.id_number == number[:6] + "********" + number[-4:]
    assert seen.phone == "138****5678"
    assert seen.masked
    full = service.get_person(session=session, actor=ADMIN, cipher=cipher, person_id=pid)
    assert full.id_number == number and full.phone == "13812345678"


def test_search_by_name_full_and_masked_number_and_grid(
    session: Session, cipher: FieldCipher
) -> None:
    a = create(session, cipher, name="黄志明", id_number=id_number(order=123))
    b = create(
        session, cipher, name="李娜", id_number=id_number(order=124), grid_code="450681101201001"
    )

    def ids(**query: str) -> list[int]:
        return [
            p.id
            for p in service.search_people(session=session, actor=ADMIN, cipher=cipher, **query)[1]
        ]

    assert ids(name="志") == [a]
    assert ids(id_number=id_number(order=124)) == [b]
    masked = id_number(order=123)
    assert ids(id_number=f"{masked[:6]}********{masked[-4:]}") == [a]
    assert ids(id_number=f"*{masked[-4:]}") == [a]
    assert ids(grid_code="450681101201001") == [b]
    assert ids(division_code="450681101") == [b]
    with pytest.raises(ValidationFailed):
        ids(id_number="****")


def test_jurisdiction_scopes_every_query(session: Session, cipher: FieldCipher) -> None:
    dongxing = create(session, cipher)
    fangcheng = make_actor(Role.EPIDEMIOLOGIST, "450603", username="fc")
    assert service.search_people(session=session, actor=fangcheng, cipher=cipher)[0] == 0
    with pytest.raises(OutOfJurisdiction):
        service.get_person(session=session, actor=fangcheng, cipher=cipher, person_id=dongxing)
    with pytest.raises(OutOfJurisdiction):
        service.update_person(
            session=session,
            actor=fangcheng,
            cipher=cipher,
            person_id=dongxing,
            patch=PersonPatch(name="改名"),
        )
    with pytest.raises(NotFound):
        service.get_person(session=session, actor=fangcheng, cipher=cipher, person_id=9999)
    with pytest.raises(ValidationFailed) as caught:
        service.create_person(
            session=session,
            actor=fangcheng,
            cipher=cipher,
            data=PersonIn(**person(id_number=id_number(order=5))),
        )
    assert "outside your jurisdiction" in caught.value.problems[0].message


def test_roles_without_permission_are_refused(session: Session, cipher: FieldCipher) -> None:
    analyst = make_actor(Role.ANALYST, "450681")
    with pytest.raises(Forbidden):
        service.search_people(session=session, actor=analyst, cipher=cipher)
    commander = make_actor(Role.COMMANDER, "450681")
    with pytest.raises(Forbidden):
        service.create_person(
            session=session, actor=commander, cipher=cipher, data=PersonIn(**person())
        )


def test_edit_changes_fields_and_moves_grid(session: Session, cipher: FieldCipher) -> None:
    pid = create(session, cipher)
    out = service.update_person(
        session=session,
        actor=ADMIN,
        cipher=cipher,
        person_id=pid,
        patch=PersonPatch(phone="139 0000 1111", grid_code="450681101201001", household="H1"),
    )
    assert out.phone == "13900001111"
    assert out.division_code == "450681101201"
    assert out.household == "H1"
    with pytest.raises(ValidationFailed) as caught:
        service.update_person(
            session=session,
            actor=ADMIN,
            cipher=cipher,
            person_id=pid,
            patch=PersonPatch(name=" ", phone="1"),
        )
    assert {p.field for p in caught.value.problems} == {"name", "phone"}


def test_reads_and_changes_are_audited(session: Session, cipher: FieldCipher) -> None:
    pid = create(session, cipher)
    service.get_person(session=session, actor=ADMIN, cipher=cipher, person_id=pid)
    service.search_people(session=session, actor=ADMIN, cipher=cipher, id_number=id_number())
    service.update_person(
        session=session,
        actor=ADMIN,
        cipher=cipher,
        person_id=pid,
        patch=PersonPatch(address="新地址"),
    )
    entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [e.action for e in entries] == ["create", "view", "search", "update"]
    assert all(e.username == "tester" and e.client_addr == "test" for e in entries)
    assert [e.entity_id for e in entries] == [str(pid), str(pid), "*", str(pid)]
    # A search is one entry listing the people it showed.
    assert entries[2].id_list == [str(pid)]
    # The audit log itself must not hold the identity number in clear.
    assert id_number() not in str(entries[2].detail)
    assert entries[3].detail == {"fields": ["address"]}
