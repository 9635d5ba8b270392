"""Large batches (a city's lab results) through ``record_many``: the same ledger as ``record``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from cordon.errors import NotFound, ValidationFailed
from cordon.facts import service as facts
from cordon.facts.schemas import FactRow
from cordon.people import service as people_service
from cordon.people.schemas import PersonIn
from cordon.security.crypto import FieldCipher
from tests.helpers import id_number, make_actor, person

T0 = datetime(2021, 12, 21, 1, tzinfo=UTC)


def _test(pid: int, result: str = "negative", tube: str = "T1") -> FactRow:
    attrs: dict[str, int | str | None] = {"result": result, "method": "pool", "tube": tube}
    return FactRow(pid, "test", T0, attrs, f"screening:tube:{tube}")


def test_a_batch_is_written_once_and_updated_in_place(
    session: Session, cipher: FieldCipher
) -> None:
    actor = make_actor()
    ids = [
        people_service.create_person(
            session=session,
            actor=actor,
            cipher=cipher,
            data=PersonIn(**person(id_number=id_number(order=400 + i))),
        ).id
        for i in range(3)
    ]
    first = facts.record_many(session=session, actor=actor, facts=[_test(p) for p in ids])
    again = facts.record_many(session=session, actor=actor, facts=[_test(p) for p in ids])
    assert (first.inserted, again.inserted, again.unchanged) == (3, 0, 3)
    changed = facts.record_many(session=session, actor=actor, facts=[_test(ids[0], "positive")])
    assert changed.updated == 1
    stored = facts.of_person(session=session, actor=actor, person_id=ids[0])
    assert [(f.kind, f.attrs["result"], f.source) for f in stored] == [
        ("test", "positive", "screening:tube:T1")
    ]
    assert stored[0].division_code == "450681100001"


def test_a_batch_with_a_wrong_fact_writes_nothing(session: Session, cipher: FieldCipher) -> None:
    actor = make_actor()
    pid = people_service.create_person(
        session=session, actor=actor, cipher=cipher, data=PersonIn(**person())
    ).id
    with pytest.raises(ValidationFailed) as caught:
        facts.record_many(
            session=session, actor=actor, facts=[_test(pid), _test(pid, "maybe", "T2")]
        )
    assert [(p.row, p.field) for p in caught.value.problems] == [(2, "attrs.result")]
    with pytest.raises(NotFound):
        facts.record_many(session=session, actor=actor, facts=[_test(pid + 100)])
    assert facts.of_person(session=session, actor=actor, person_id=pid) == []
