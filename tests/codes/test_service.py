"""Recomputing codes from the ledger: stored codes and history, conversions without new facts,
incremental runs, explanation, counts per town and the what-if report."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cordon.audit.models import AuditEntry
from cordon.auth.rules import Role
from cordon.codes import packs, service
from cordon.codes.models import HealthCode, HealthCodeChange
from cordon.errors import OutOfJurisdiction
from cordon.facts import service as facts
from cordon.facts.schemas import FactIn
from cordon.people import service as people_service
from cordon.people.schemas import PersonIn
from cordon.security.crypto import FieldCipher
from tests.codes.facts import day
from tests.helpers import id_number, make_actor, person
from tests.trace.stored_contacts import store_contacts

ADMIN = make_actor()


def _person(session: Session, cipher: FieldCipher, order: int, **extra: object) -> int:
    data = PersonIn(**person(id_number=id_number(order=order), **extra))
    return people_service.create_person(session=session, actor=ADMIN, cipher=cipher, data=data).id


def _fact(pid: int, kind: str, at: datetime, source: str, **attrs: object) -> FactIn:
    return FactIn(person_id=pid, kind=kind, at=at, attrs=attrs, source=source)  # type: ignore[arg-type]


def _close_contact(pid: int, tests: list[float]) -> list[FactIn]:
    out = [_fact(pid, "contact", day(0), "trace:case:1", contact_kind="close", case_id=1)]
    out += [
        _fact(pid, "test", day(d), f"lab:{pid}:{d}", result="negative", method="single")
        for d in tests
    ]
    return out


def _history(session: Session, pid: int) -> list[tuple[str | None, str]]:
    rows = session.scalars(
        select(HealthCodeChange)
        .where(HealthCodeChange.person_id == pid)
        .order_by(HealthCodeChange.at, HealthCodeChange.id)
    )
    return [(r.colour_from, r.colour_to) for r in rows]


def test_codes_convert_on_schedule_without_new_facts(session: Session, cipher: FieldCipher) -> None:
    pid = _person(session, cipher, 131)
    facts.record(
        session=session, actor=ADMIN, facts=_close_contact(pid, [0.2, 3.2, 6.2, 13.2, 15.2, 20.2])
    )
    first = service.recompute(session=session, actor=ADMIN, now=day(1))
    assert (first.kind, first.changed, first.held) == ("full", 1, {"red": 1})
    row = session.get(HealthCode, pid)
    assert row is not None and row.colour == "red" and row.rules == ["close-contact"]
    assert row.conversion is not None and row.conversion["colour"] == "yellow"
    assert row.next_change_at == day(14)
    # Nobody touches anything: later runs pick the person up because a phase ended.
    second = service.recompute(session=session, actor=ADMIN, now=day(14.05))
    assert (second.kind, second.evaluated, second.changed) == ("incremental", 1, 1)
    assert session.get(HealthCode, pid).colour == "yellow"  # type: ignore[union-attr]
    service.recompute(session=session, actor=ADMIN, now=day(21.05))
    assert session.get(HealthCode, pid).colour == "green"  # type: ignore[union-attr]
    assert _history(session, pid) == [(None, "red"), ("red", "yellow"), ("yellow", "green")]
    change = session.scalars(
        select(HealthCodeChange).where(HealthCodeChange.colour_to == "yellow")
    ).one()
    assert change.reasons[0]["rule_id"] == "close-contact" and "home" in change.reasons[0]["en"]


def test_a_missing_test_keeps_the_stored_code_red(session: Session, cipher: FieldCipher) -> None:
    pid = _person(session, cipher, 133)
    facts.record(session=session, actor=ADMIN, facts=_close_contact(pid, [0.2, 3.2, 13.2]))
    service.recompute(session=session, actor=ADMIN, now=day(15))
    row = session.get(HealthCode, pid)
    assert row is not None and row.colour == "red"
    assert "day 7 is missing" in row.reasons[0]["en"]


def test_incremental_runs_take_people_whose_facts_changed(
    session: Session, cipher: FieldCipher
) -> None:
    a, b = _person(session, cipher, 135), _person(session, cipher, 137)
    facts.record(session=session, actor=ADMIN, facts=_close_contact(a, []))
    service.recompute(session=session, actor=ADMIN, now=day(1))
    facts.record(
        session=session,
        actor=ADMIN,
        facts=[_fact(b, "case", day(1), "case:9", status="confirmed", case_id=9)],
    )
    run = service.recompute(session=session, actor=ADMIN, now=day(2))
    assert (run.kind, run.evaluated, run.changed) == ("incremental", 1, 1)
    assert session.get(HealthCode, b).colour == "red"  # type: ignore[union-attr]
    # A retracted fact counts as a change too: the code goes back to green.
    facts.replace_source(session=session, actor=ADMIN, source="case:9", kind="case", facts=[])
    service.recompute(session=session, actor=ADMIN, now=day(3))
    assert session.get(HealthCode, b).colour == "green"  # type: ignore[union-attr]


def test_explain_is_scoped_and_audited(session: Session, cipher: FieldCipher) -> None:
    pid = _person(session, cipher, 139)
    facts.record(session=session, actor=ADMIN, facts=_close_contact(pid, [0.2]))
    service.recompute(session=session, actor=ADMIN, now=day(1))
    explained = service.explain(session=session, actor=ADMIN, person_id=pid, now=day(2))
    assert explained.current.colour == "red" and explained.stored_colour == "red"
    assert explained.current.conversion is not None
    assert explained.current.conversion.at == day(14)
    assert [h.colour_to for h in explained.history] == ["red"]
    elsewhere = make_actor(Role.GRID_WORKER, jurisdiction="450681101")
    with pytest.raises(OutOfJurisdiction):
        service.explain(session=session, actor=elsewhere, person_id=pid, now=day(2))
    audited = session.scalars(select(AuditEntry).where(AuditEntry.entity == "health_code")).all()
    assert [(a.action, a.entity_id) for a in audited] == [("view", str(pid))]


def test_counts_per_town_and_grid(session: Session, cipher: FieldCipher) -> None:
    red = _person(session, cipher, 141)
    _person(session, cipher, 143)
    _person(session, cipher, 145, grid_code="450681101201001")
    facts.record(session=session, actor=ADMIN, facts=_close_contact(red, []))
    service.recompute(session=session, actor=ADMIN, now=day(1))
    towns = {
        c.code: (c.people, c.red, c.yellow, c.green)
        for c in service.counts(session=session, actor=ADMIN)
    }
    assert towns == {"450681100": (2, 1, 0, 1), "450681101": (1, 0, 0, 1)}
    grids = {c.code: c.red for c in service.counts(session=session, actor=ADMIN, level="grid")}
    assert grids == {"450681100001001": 1, "450681101201001": 0}


def test_whatif_compares_a_draft_pack_without_storing(
    session: Session, cipher: FieldCipher
) -> None:
    pid = _person(session, cipher, 147)
    daily = [0.2 + d for d in range(10)]
    facts.record(session=session, actor=ADMIN, facts=_close_contact(pid, daily))
    report = service.whatif(
        session=session, actor=ADMIN, draft=packs.load("e9-2022-06"), now=day(8)
    )
    assert (report.changed, report.transitions) == (1, {"red→yellow": 1})
    assert [(t.code, t.changed) for t in report.by_town] == [("450681100", 1)]
    assert report.by_grid[0].code == "450681100001001"
    assert report.examples[0].person_id == pid
    assert report.examples[0].reasons[0].rule_id == "close-contact"
    assert session.scalars(select(HealthCode)).all() == []


def test_whatif_examples_come_riskiest_contact_first(session: Session, cipher: FieldCipher) -> None:
    other = _person(session, cipher, 149)  # the lowest id, not a stored contact: shown last
    traced = store_contacts(session, cipher)
    daily = [0.2 + d for d in range(10)]
    for pid in [other, *(traced.people[n] for n in ("王二", "李一", "赵七"))]:
        facts.record(session=session, actor=ADMIN, facts=_close_contact(pid, daily))
    report = service.whatif(
        session=session, actor=ADMIN, draft=packs.load("e9-2022-06"), now=day(8)
    )
    assert report.changed == 4
    names = {v: k for k, v in traced.people.items()}
    shown = [
        (names.get(e.person_id, "other"), e.contact_score, e.contact_tier) for e in report.examples
    ]
    assert shown == [
        ("李一", 0.30, 1),
        ("赵七", 0.08, 1),
        ("王二", 0.02, 2),
        ("other", None, None),
    ]
    assert report.examples[0].contact_kind == "close"
