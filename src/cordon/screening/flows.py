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
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cordon.auth.schemas import Actor
from cordon.facts import service as facts_service
from cordon.facts.schemas import FactIn
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
FACT_BATCH = 20_000


@dataclass
class FollowUp:
    flagged: int = 0
    tasks: int = 0
    proposals: int = 0
    cleared: int = 0
    facts: int = 0


def source_of(barcode: str) -> str:
    return f"screening:tube:{barcode}"


def _samples(session: Session, tube_ids: list[int]) -> list[Sample]:
    found: list[Sample] = []
    for start in range(0, len(tube_ids), CHUNK):
        chunk = tube_ids[start : start + CHUNK]
        found.extend(session.scalars(select(Sample).where(Sample.tube_id.in_(chunk))))
    return found


def _homes(session: Session, round_id: int, people: list[int]) -> dict[int, RosterEntry]:
    found: dict[int, RosterEntry] = {}
    for start in range(0, len(people), CHUNK):
        chunk = people[start : start + CHUNK]
        found.update(
            (r.person_id, r)
            for r in session.scalars(
                select(RosterEntry).where(
                    RosterEntry.round_id == round_id, RosterEntry.person_id.in_(chunk)
                )
            )
        )
    return found


def _open_tasks(session: Session, round_id: int, people: list[int]) -> list[Task]:
    found: list[Task] = []
    for start in range(0, len(people), CHUNK):
        chunk = people[start : start + CHUNK]
        found.extend(
            session.scalars(
                select(Task).where(
                    Task.round_id == round_id, Task.person_id.in_(chunk), Task.status == "open"
                )
            )
        )
    return found


def follow_up(
    *, session: Session, actor: Actor, round_row: ScreeningRound, tubes: Sequence[Tube]
) -> FollowUp:
    """Act on tubes whose result has just been set."""
    out = FollowUp()
    if not tubes:
        return out
    by_id = {t.id: t for t in tubes}
    samples = _samples(session, list(by_id))
    people = sorted({s.person_id for s in samples})
    homes = _homes(session, round_row.id, people)
    open_tasks = _open_tasks(session, round_row.id, people)
    # Earlier flagged screening samples of people retested now.
    retested = [s.person_id for s in samples if s.purpose == "retest"]
    flagged: dict[int, Sample] = {}
    for start in range(0, len(retested), CHUNK):
        chunk = retested[start : start + CHUNK]
        for earlier in session.scalars(
            select(Sample).where(
                Sample.round_id == round_row.id,
                Sample.person_id.in_(chunk),
                Sample.purpose == "screening",
            )
        ):
            flagged[earlier.person_id] = earlier
    tasks_of: dict[tuple[int, str], Task] = {(t.person_id, t.kind): t for t in open_tasks}
    facts: list[FactIn] = []
    existing_proposals = {
        p
        for p in session.scalars(
            select(CaseProposal.tube_barcode).where(
                CaseProposal.tube_barcode.in_([t.barcode for t in tubes if t.capacity == 1][:CHUNK])
            )
        )
    }

    def task(kind: str, sample: Sample, tube: Tube, due: timedelta) -> None:
        home = homes.get(sample.person_id)
        if (sample.person_id, kind) in tasks_of:
            return
        created = Task(
            round_id=round_row.id,
            kind=kind,
            person_id=sample.person_id,
            division_code=home.division_code if home else tube.division_code,
            grid_code=home.grid_code if home else None,
            tube_barcode=tube.barcode,
            due_at=(tube.resulted_at or sample.sampled_at) + due,
        )
        session.add(created)
        tasks_of[(sample.person_id, kind)] = created
        out.tasks += 1

    for sample in samples:
        tube = by_id[sample.tube_id]
        method = "pool" if tube.capacity > 1 else "single"
        attrs: dict[str, int | str | None] = {
            "tube": tube.barcode,
            "round_id": round_row.id,
        }
        if tube.result == "positive" and method == "pool":
            facts.append(
                FactIn(
                    person_id=sample.person_id,
                    kind="pool_positive",
                    at=sample.sampled_at,
                    attrs=attrs,
                    source=source_of(tube.barcode),
                )
            )
            sample.pool_flag = "flagged"
            out.flagged += 1
            task("isolate", sample, tube, ISOLATE_WITHIN)
            task("retest", sample, tube, RETEST_WITHIN)
            continue
        facts.append(
            FactIn(
                person_id=sample.person_id,
                kind="test",
                at=sample.sampled_at,
                attrs={**attrs, "result": tube.result, "method": method, "lab": tube.lab or None},
                source=source_of(tube.barcode),
            )
        )
        if sample.purpose == "retest":
            retest = tasks_of.pop((sample.person_id, "retest"), None)
            if retest is not None:
                retest.status, retest.done_at = "done", tube.resulted_at
            first = flagged.get(sample.person_id)
            if first is not None and first.pool_flag == "flagged":
                first.pool_flag = "cleared" if tube.result == "negative" else "confirmed"
                out.cleared += tube.result == "negative"
            isolate = tasks_of.get((sample.person_id, "isolate"))
            if tube.result == "negative" and isolate is not None:
                isolate.status, isolate.done_at = "cancelled", tube.resulted_at
                tasks_of.pop((sample.person_id, "isolate"))
        if tube.result == "positive" and tube.barcode not in existing_proposals:
            home = homes.get(sample.person_id)
            session.add(
                CaseProposal(
                    round_id=round_row.id,
                    person_id=sample.person_id,
                    division_code=home.division_code if home else tube.division_code,
                    tube_barcode=tube.barcode,
                    sampled_at=sample.sampled_at,
                )
            )
            out.proposals += 1
            task("isolate", sample, tube, ISOLATE_WITHIN)
    session.flush()
    for start in range(0, len(facts), FACT_BATCH):
        written = facts_service.record(
            session=session, actor=actor, facts=facts[start : start + FACT_BATCH]
        )
        out.facts += written.inserted + written.updated
    return out
