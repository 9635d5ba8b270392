"""The facts ledger: catalogue checks, idempotent writes, retraction, scoping, Arrow export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from cordon.auth.rules import Role
from cordon.errors import NotFound, Problem
from cordon.facts import rules
from cordon.facts import service as facts
from cordon.facts.schemas import FactIn
from cordon.people import service as people_service
from cordon.people.schemas import PersonIn
from cordon.security.crypto import FieldCipher
from cordon.web import i18n
from cordon.web.forms import problems_of
from cordon.web.messages import problem_text
from tests.helpers import id_number, make_actor, person

T0 = datetime(2021, 12, 20, 12, tzinfo=UTC)


def _people(session: Session, cipher: FieldCipher) -> tuple[int, int]:
    admin = make_actor()
    here = people_service.create_person(
        session=session, actor=admin, cipher=cipher, data=PersonIn(**person())
    )
    there = people_service.create_person(
        session=session,
        actor=admin,
        cipher=cipher,
        data=PersonIn(
            **person(id_number=id_number(order=125), grid_code="450681101201001", name="李四")
        ),
    )
    return here.id, there.id


def _contact(pid: int, case_id: int = 1, kind: str = "close", at: datetime = T0) -> FactIn:
    return FactIn(
        person_id=pid,
        kind="contact",
        at=at,
        attrs={"contact_kind": kind, "case_id": case_id},
        source=f"trace:case:{case_id}",
    )


def test_the_catalogue_names_what_is_wrong() -> None:
    assert rules.problems_in("contact", {"contact_kind": "close", "case_id": 1}) == []
    assert rules.problems_in("vaccinated", {})[0].field == "kind"
    found = {
        p.field: p.message
        for p in rules.problems_in("contact", {"contact_kind": "near", "colour": "red"})
    }
    assert set(found) == {"attrs.contact_kind", "attrs.case_id", "attrs.colour"}
    assert "close" in found["attrs.contact_kind"]
    assert rules.problems_in("test", {"result": "negative", "method": "pool", "round_id": "1"}) == [
        Problem("attrs.round_id", "must be a whole number")
    ]
    document = rules.catalogue_document()
    assert document["test"]["attributes"]["result"]["choices"] == ["negative", "positive"]  # type: ignore[index]


def test_a_fact_without_time_zone_or_outside_the_catalogue_is_refused() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        FactIn(person_id=1, kind="discharged", at=datetime(2021, 12, 20), source="x")
    with pytest.raises(ValidationError, match="unknown fact kind"):
        FactIn(person_id=1, kind="vaccinated", at=T0, source="x")


def test_a_refused_fact_is_said_in_the_language_it_is_shown_in() -> None:
    """The catalogue's reasons are keyed, so a page or answer words them in its language."""
    chinese = i18n.translations("zh_CN").gettext
    english = i18n.translations("en").gettext
    with pytest.raises(ValidationError) as caught:
        FactIn(person_id=1, kind="test", at=T0, attrs={"result": "maybe"}, source="x")
    refused = problems_of(caught.value)
    assert [p.field for p in refused] == ["form"]
    assert problem_text(chinese, refused[0]) == "attrs.result：应为以下之一：negative, positive"
    assert problem_text(english, refused[0]) == "attrs.result: must be one of negative, positive"
    with pytest.raises(ValidationError) as caught:
        FactIn(person_id=1, kind="discharged", at=datetime(2021, 12, 20), source="x")
    naive = problems_of(caught.value)
    assert [p.field for p in naive] == ["at"]
    assert problem_text(chinese, naive[0]).startswith("需要带时区")


def test_writing_twice_changes_nothing_and_a_change_updates(
    session: Session, cipher: FieldCipher
) -> None:
    a, b = _people(session, cipher)
    actor = make_actor(Role.EPIDEMIOLOGIST)
    first = facts.record(session=session, actor=actor, facts=[_contact(a), _contact(b)])
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    again = facts.record(session=session, actor=actor, facts=[_contact(a), _contact(b)])
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    moved = facts.record(
        session=session, actor=actor, facts=[_contact(a, at=T0 - timedelta(hours=3))]
    )
    assert moved.updated == 1
    assert facts.of_person(session=session, actor=actor, person_id=a)[0].at == T0 - timedelta(
        hours=3
    )


def test_unknown_people_are_refused_and_nothing_is_written(
    session: Session, cipher: FieldCipher
) -> None:
    a, _ = _people(session, cipher)
    actor = make_actor()
    with pytest.raises(NotFound, match="no person 999"):
        facts.record(session=session, actor=actor, facts=[_contact(a), _contact(999)])
    assert facts.of_person(session=session, actor=actor, person_id=a) == []


def test_replacing_a_source_retracts_people_no_longer_in_it(
    session: Session, cipher: FieldCipher
) -> None:
    a, b = _people(session, cipher)
    actor = make_actor()
    facts.record(session=session, actor=actor, facts=[_contact(a), _contact(b)])
    since = datetime.now(UTC)
    result = facts.replace_source(
        session=session,
        actor=actor,
        source="trace:case:1",
        kind="contact",
        facts=[_contact(a, kind="secondary")],
    )
    assert (result.updated, result.retracted) == (1, 1)
    assert facts.of_person(session=session, actor=actor, person_id=b) == []
    history = facts.of_person(session=session, actor=actor, person_id=b, include_retracted=True)
    assert history[0].retracted_at is not None
    assert facts.changed_since(session=session, since=since) == [a, b]
    table = facts.live_table(session=session)
    assert table.column("person_id").to_pylist() == [a]
    assert '"contact_kind": "secondary"' in table.column("attrs")[0].as_py()


def test_readers_see_only_their_jurisdiction(session: Session, cipher: FieldCipher) -> None:
    a, b = _people(session, cipher)
    facts.record(session=session, actor=make_actor(), facts=[_contact(a), _contact(b)])
    town = make_actor(Role.EPIDEMIOLOGIST, jurisdiction="450681100")
    assert len(facts.of_person(session=session, actor=town, person_id=a)) == 1
    assert facts.of_person(session=session, actor=town, person_id=b) == []
