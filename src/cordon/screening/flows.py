"""What a result sets in motion: facts for the health codes, grid workers' tasks, case
proposals.

* A negative tube: a ``test`` fact (negative, pool or single) for each person in it.
* A positive pooled tube: a ``pool_positive`` fact per member (not a positive test: the pool
  does not say who), their samples flagged, a single-tube retest task and an isolation task
  for each member's grid worker.
* A positive single tube: a positive ``test`` fact and a case proposal for an epidemiologist
  (never a case registered automatically); an isolation task unless one is already open.
* A retest result closes the retest task; negative clears the pool flag (and cancels an
  isolation not yet done), positive confirms it.

Facts carry ``screening:tube:<barcode>`` as source, so writing them again changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cordon.auth.schemas import Actor
from cordon.facts import service as facts_service
from cordon.facts.schemas import FactRow
from cordon.screening.models import (
    CaseProposal,
    RosterEntry,
    Sample,
    ScreeningRound,
    Task,
    Tube,
)

ISOLATE_WITHIN = timedelta(hours=2)  # protocol §5: a positive is moved within 2 h
RETEST_WITHIN = timedelta(hours=6)
CHUNK = 500


@dataclass
class FollowUp:
    flagged: int = 0
    tasks: int = 0
    proposals: int = 0
    cleared: int = 0
    facts: int = 0


def source_of(barcode: str) -> str:
    return f"screening:tube:{barcode}"


def _homes(session: Session, round_id: int, people: list[int]) -> dict[int, tuple[str, str | None]]:
    """Where each person lives (division, grid), from the round's roster."""
    query = select(RosterEntry.person_id, RosterEntry.division_code, RosterEntry.grid_code).where(
        RosterEntry.round_id == round_id
    )
    if len(people) > 50 * CHUNK:  # most of the round: one pass is cheaper than many look-ups
        return {p: (d, g) for p, d, g in session.execute(query)}
    found: dict[int, tuple[str, str | None]] = {}
    for start in range(0, len(people), CHUNK):
        chunk = people[start : start + CHUNK]
        found.update(
            (p, (d, g))
            for p, d, g in session.execute(query.where(RosterEntry.person_id.in_(chunk)))
        )
    return found


def _in_chunks(session: Session, query: Any, column: Any, values: list[int]) -> list[Any]:
    found: list[Any] = []
    for start in range(0, len(values), CHUNK):
        found.extend(session.execute(query.where(column.in_(values[start : start + CHUNK]))).all())
    return found


def follow_up(
    *, session: Session, actor: Actor, round_row: ScreeningRound, tubes: Sequence[Tube]
) -> FollowUp:
    """Act on tubes whose result has just been set."""
    out = FollowUp()
    if not tubes:
        return out
    by_id = {t.id: t for t in tubes}
    swabs = _in_chunks(
        session,
        select(Sample.id, Sample.person_id, Sample.tube_id, Sample.purpose, Sample.sampled_at),
        Sample.tube_id,
        sorted(by_id),
    )
    homes = _homes(session, round_row.id, sorted({s.person_id for s in swabs}))
    # ORM rows only where something changes: members of positive pools, retested people.
    acting = [s for s in swabs if s.purpose == "retest" or by_id[s.tube_id].result == "positive"]
    acting_people = sorted({s.person_id for s in acting})
    samples = {
        row.id: row
        for (row,) in _in_chunks(
            session,
            select(Sample).where(Sample.round_id == round_row.id),
            Sample.person_id,
            acting_people,
        )
    }
    first_of = {r.person_id: r for r in samples.values() if r.purpose == "screening"}
    tasks_of: dict[tuple[int, str], Task] = {
        (t.person_id, t.kind): t
        for (t,) in _in_chunks(
            session,
            select(Task).where(Task.round_id == round_row.id, Task.status == "open"),
            Task.person_id,
            acting_people,
        )
    }
    singles = sorted(t.barcode for t in tubes if t.capacity == 1 and t.result == "positive")
    proposed = {
        b
        for start in range(0, len(singles), CHUNK)
        for b in session.scalars(
            select(CaseProposal.tube_barcode).where(
                CaseProposal.tube_barcode.in_(singles[start : start + CHUNK])
            )
        )
    }
    facts: list[FactRow] = []

    def fact(person_id: int, kind: str, at: datetime, attrs: dict[str, int | str | None]) -> None:
        facts.append(FactRow(person_id, kind, at, attrs, source_of(str(attrs["tube"]))))

    def task(kind: str, person_id: int, tube: Tube, sampled_at: datetime, due: timedelta) -> None:
        if (person_id, kind) in tasks_of:
            return
        division, grid = homes.get(person_id, (tube.division_code, None))
        created = Task(
            round_id=round_row.id,
            kind=kind,
            person_id=person_id,
            division_code=division,
            grid_code=grid,
            tube_barcode=tube.barcode,
            due_at=(tube.resulted_at or sampled_at) + due,
        )
        session.add(created)
        tasks_of[(person_id, kind)] = created
        out.tasks += 1

    for swab in swabs:
        tube = by_id[swab.tube_id]
        method = "pool" if tube.capacity > 1 else "single"
        attrs: dict[str, int | str | None] = {"tube": tube.barcode, "round_id": round_row.id}
        if tube.result == "positive" and method == "pool":
            fact(swab.person_id, "pool_positive", swab.sampled_at, attrs)
            samples[swab.id].pool_flag = "flagged"
            out.flagged += 1
            task("isolate", swab.person_id, tube, swab.sampled_at, ISOLATE_WITHIN)
            task("retest", swab.person_id, tube, swab.sampled_at, RETEST_WITHIN)
            continue
        fact(
            swab.person_id,
            "test",
            swab.sampled_at,
            {**attrs, "result": tube.result, "method": method, "lab": tube.lab or None},
        )
        if swab.purpose == "retest":
            retest = tasks_of.pop((swab.person_id, "retest"), None)
            if retest is not None:
                retest.status, retest.done_at = "done", tube.resulted_at
            first = first_of.get(swab.person_id)
            if first is not None and first.pool_flag == "flagged":
                first.pool_flag = "cleared" if tube.result == "negative" else "confirmed"
                out.cleared += tube.result == "negative"
            isolate = tasks_of.get((swab.person_id, "isolate"))
            if tube.result == "negative" and isolate is not None:
                isolate.status, isolate.done_at = "cancelled", tube.resulted_at
                tasks_of.pop((swab.person_id, "isolate"))
        if tube.result == "positive" and tube.barcode not in proposed:
            proposed.add(tube.barcode)
            session.add(
                CaseProposal(
                    round_id=round_row.id,
                    person_id=swab.person_id,
                    division_code=homes.get(swab.person_id, (tube.division_code, None))[0],
                    tube_barcode=tube.barcode,
                    sampled_at=swab.sampled_at,
                )
            )
            out.proposals += 1
            task("isolate", swab.person_id, tube, swab.sampled_at, ISOLATE_WITHIN)
    session.flush()
    written = facts_service.record_many(
        session=session,
        actor=actor,
        facts=facts,
        divisions={p: home[0] for p, home in homes.items()},
    )
    out.facts = written.inserted + written.updated
    return out
