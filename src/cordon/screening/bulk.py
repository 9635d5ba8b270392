"""Registering many swabs at once: a site's offline scanner uploading its day, the simulated
sampling run and the benchmark. Everything is checked in memory first (roster, once per
person, barcodes new, tubes within their pool size and zone), then written with PostgreSQL's
COPY or SQLite's executemany in the caller's transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cordon.audit import service as audit
from cordon.auth.schemas import Actor
from cordon.auth.service import require
from cordon.bulkwrite import insert_rows
from cordon.errors import Problem, ValidationFailed
from cordon.screening import rules
from cordon.screening.models import RosterEntry, Sample, Site, Tube
from cordon.screening.service import CHUNK, load_round

MAX_PROBLEMS = 200


@dataclass(frozen=True)
class Swab:
    person_id: int
    tube: str
    site_id: int
    sampled_at: datetime


def register_many(*, session: Session, actor: Actor, round_id: int, swabs: Sequence[Swab]) -> int:
    """Register screening swabs (not retests) all or none; returns how many were written."""
    require(actor, "screening:operate")
    row = load_round(session=session, actor=actor, round_id=round_id)
    problems: list[Problem] = []

    def fail(index: int, field: str, message: str, **params: object) -> None:
        if len(problems) < MAX_PROBLEMS:
            problems.append(Problem(field, message, row=index + 1, params=params))

    roster = {
        pid: (zone, division)
        for pid, zone, division in session.execute(
            select(RosterEntry.person_id, RosterEntry.zone_level, RosterEntry.division_code).where(
                RosterEntry.round_id == round_id,
                RosterEntry.division_code.startswith(actor.jurisdiction),
            )
        )
    }
    sampled = set(session.scalars(select(Sample.person_id).where(Sample.round_id == round_id)))
    sites = set(session.scalars(select(Site.id).where(Site.round_id == round_id)))
    barcodes = sorted({s.tube for s in swabs})
    taken: set[str] = set()
    for start in range(0, len(barcodes), CHUNK):
        taken.update(
            session.scalars(
                select(Tube.barcode).where(Tube.barcode.in_(barcodes[start : start + CHUNK]))
            )
        )
    seen: dict[int, int] = {}
    tubes: dict[str, dict[str, Any]] = {}
    fill: Counter[str] = Counter()
    for index, swab in enumerate(swabs):
        home = roster.get(swab.person_id)
        if home is None:
            fail(
                index,
                "person",
                "person %(person)s is not on the roster of round %(round)s",
                person=swab.person_id,
                round=round_id,
            )
            continue
        if swab.person_id in sampled:
            fail(
                index,
                "person",
                "person %(person)s was already sampled in this round",
                person=swab.person_id,
            )
        elif swab.person_id in seen:
            fail(
                index,
                "person",
                "person %(person)s also in row %(row)s",
                person=swab.person_id,
                row=seen[swab.person_id] + 1,
            )
        seen.setdefault(swab.person_id, index)
        if swab.site_id not in sites:
            fail(
                index,
                "site_id",
                "site %(site)s is not a site of round %(round)s",
                site=swab.site_id,
                round=round_id,
            )
        if swab.tube in taken:
            fail(index, "tube", "tube %(tube)s: barcode already used", tube=swab.tube)
        zone, division = home
        tube = tubes.get(swab.tube)
        if tube is None:
            tubes[swab.tube] = tube = {
                "barcode": swab.tube,
                "round_id": round_id,
                "site_id": swab.site_id,
                "purpose": "screening",
                "zone_level": zone,
                "household_id": None,
                "capacity": rules.pool_size(zone, row.pooling),
                "filled": 0,
                "division_code": division,
                "opened_at": swab.sampled_at,
                "closed_at": swab.sampled_at,
                "received_at": None,
                "lab": None,
                "result": None,
                "resulted_at": None,
                "import_id": None,
            }
        elif tube["zone_level"] != zone:
            fail(
                index,
                "tube",
                "tube %(tube)s mixes %(first)s and %(other)s zones",
                tube=swab.tube,
                first=tube["zone_level"],
                other=zone,
            )
        fill[swab.tube] += 1
        if fill[swab.tube] == tube["capacity"] + 1:
            fail(
                index,
                "tube",
                "tube %(tube)s is over its pool size of %(capacity)s",
                tube=swab.tube,
                capacity=tube["capacity"],
            )
        tube["opened_at"] = min(tube["opened_at"], swab.sampled_at)
        tube["closed_at"] = max(tube["closed_at"], swab.sampled_at)
    if problems:
        raise ValidationFailed(
            "%(count)s problems; nothing was registered",
            params=dict(count=len(problems)),
            problems=problems,
        )
    for barcode, tube in tubes.items():
        tube["filled"] = fill[barcode]
    insert_rows(session, Tube.__tablename__, list(tubes.values()))
    ids: dict[str, int] = {}
    for start in range(0, len(barcodes), 10_000):
        chunk = barcodes[start : start + 10_000]
        ids.update(
            (b, i)
            for b, i in session.execute(
                select(Tube.barcode, Tube.id).where(
                    Tube.round_id == round_id, Tube.barcode.in_(chunk)
                )
            )
        )
    insert_rows(
        session,
        Sample.__tablename__,
        [
            {
                "round_id": round_id,
                "person_id": s.person_id,
                "tube_id": ids[s.tube],
                "site_id": s.site_id,
                "purpose": "screening",
                "sampled_at": s.sampled_at,
                "sampled_by": actor.username,
                "pool_flag": None,
            }
            for s in swabs
        ],
    )
    audit.record(
        session=session,
        actor=actor,
        action="sample_batch",
        entity="screening_samples",
        entity_id=round_id,
        detail={"swabs": len(swabs), "tubes": len(tubes)},
    )
    return len(swabs)
