"""Codes follow facts by themselves: every write that changes a person's live facts marks
their code in the same transaction, and the refresh decides exactly the marked people again."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cordon.codes import jobs as codes_jobs
from cordon.codes import service
from cordon.codes.models import DirtyPerson, HealthCode
from cordon.db import transaction, utcnow
from cordon.facts import service as facts
from cordon.facts.schemas import FactIn
from cordon.security.crypto import FieldCipher
from tests.codes.test_api import _contact
from tests.helpers import make_actor


def _marks(factory: sessionmaker[Session]) -> int:
    with transaction(factory) as s:
        return int(s.scalar(select(func.count(DirtyPerson.id))) or 0)


def test_changed_facts_mark_codes_and_the_refresh_decides_them(
    session_factory: sessionmaker[Session], cipher: FieldCipher
) -> None:
    pid = _contact(session_factory, cipher)  # a close contact's fact: marked
    assert _marks(session_factory) >= 1
    with transaction(session_factory) as s:
        job = codes_jobs.schedule_refresh(session=s)
        assert job is not None and job.kind == "codes.refresh"
        again = codes_jobs.schedule_refresh(session=s)
        assert again is not None and again.id == job.id, "one queued refresh, not one a poll"
        decided, changed = service.refresh_dirty(session=s, actor=codes_jobs.SYSTEM)
        assert (decided, changed) == (1, 1)
        code = s.get(HealthCode, pid)
        assert code is not None and code.colour == "red"
    assert _marks(session_factory) == 0

    # The same fact written again changes nothing: no mark, no refresh.
    with transaction(session_factory) as s:
        row = facts.live_table(session=s, person_ids=[pid]).to_pylist()[0]
        facts.record(
            session=s,
            actor=make_actor(),
            facts=[
                FactIn(
                    person_id=pid,
                    kind="contact",
                    at=row["at"],
                    attrs={"contact_kind": "close", "case_id": 1},
                    source="trace:case:1",
                )
            ],
        )
        assert codes_jobs.schedule_refresh(session=s) is None
    # A retraction (a re-trace that no longer finds the person) marks them again: green.
    with transaction(session_factory) as s:
        facts.replace_source(
            session=s, actor=make_actor(), source="trace:case:1", kind="contact", facts=[]
        )
    assert _marks(session_factory) == 1
    with transaction(session_factory) as s:
        assert service.refresh_dirty(session=s, actor=codes_jobs.SYSTEM) == (1, 1)
        code = s.get(HealthCode, pid)
        assert code is not None and code.colour == "green"


def test_a_mark_written_during_a_refresh_stays_for_the_next(
    session_factory: sessionmaker[Session], cipher: FieldCipher
) -> None:
    pid = _contact(session_factory, cipher)
    with transaction(session_factory) as s:
        first = s.scalar(select(func.max(DirtyPerson.id)))
        s.add(DirtyPerson(person_id=pid, marked_at=utcnow()))  # a later change, same person
        s.flush()
        service.refresh_dirty(session=s, actor=codes_jobs.SYSTEM, limit=1)
        left = list(s.scalars(select(DirtyPerson.id)))
    assert left and min(left) > (first or 0)
