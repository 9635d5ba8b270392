"""A whole round over the simulated city: sites planned, everyone not in the treatment centre
sampled at their grid's site through the day, a lab file written from the simulator's truth
(see ``planner`` for what "positive" means), imported, and what was found or missed reported.

Registry ids are lake ids + 1 (``cordon sim load`` keeps that relation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from cordon.auth.schemas import Actor
from cordon.screening import bulk, coverage, labfiles, labs, planner, service
from cordon.screening.models import RosterEntry, Site, Tube
from cordon.screening.schemas import RoundIn
from cordon.security.crypto import FieldCipher

LAKE_ID_OFFSET = 1
SAMPLING_HOURS = 12  # sites open 08:00–20:00
LAB = "东兴市核酸检测基地"


@dataclass(frozen=True)
class Options:
    lake: Path
    day: int
    division_code: str = "450681"
    out_dir: Path | None = None
    seed: int = 7
    name: str = ""


def simulate_round(
    *, session: Session, actor: Actor, cipher: FieldCipher, options: Options
) -> dict[str, Any]:
    at = planner.sampling_day(options.lake, options.day)
    truth = planner.truth(options.lake, at, options.seed)
    created = service.create_round(
        session=session,
        actor=actor,
        data=RoundIn.model_validate(
            {
                "name": options.name or f"全员核酸检测 {at:%Y-%m-%d}",
                "division_code": options.division_code,
                "starts_at": at,
                "ends_at": at + timedelta(hours=24),
            }
        ),
    )
    round_id = created.id
    plan = service.plan_sites(session=session, actor=actor, round_id=round_id)
    sites = list(session.scalars(select(Site).where(Site.round_id == round_id)))
    site_of_grid = {g: s for s in sites for g in s.grids}
    mobile = {s.division_code: s for s in sites if s.kind == "mobile"}
    roster = session.execute(
        select(
            RosterEntry.person_id,
            RosterEntry.grid_code,
            RosterEntry.household_id,
            RosterEntry.zone_level,
            RosterEntry.division_code,
        )
        .where(RosterEntry.round_id == round_id)
        .order_by(RosterEntry.grid_code, RosterEntry.household_id, RosterEntry.person_id)
    ).all()
    queues: dict[int, list[tuple[int, str]]] = {}
    skipped = 0
    for pid, grid, _household, zone, division in roster:
        lake_id = pid - LAKE_ID_OFFSET
        if 0 <= lake_id < len(truth.isolated) and truth.isolated[lake_id]:
            skipped += 1  # in the treatment centre: sampled there, not at a site
            continue
        site = site_of_grid.get(grid) if grid else None
        site = site or mobile.get(division[:9])
        if site is None:
            skipped += 1
            continue
        queues.setdefault(site.id, []).append((pid, zone))
    pool = {z: int(n) for z, n in created.pooling.items()}
    swabs: list[bulk.Swab] = []
    for site_id, queue in sorted(queues.items()):
        step = SAMPLING_HOURS * 3600 / max(len(queue), 1)
        tube_no, in_tube, zone_now = 0, 0, None
        for index, (pid, zone) in enumerate(queue):
            if in_tube == 0 or in_tube >= pool[zone] or zone != zone_now:
                tube_no, in_tube, zone_now = tube_no + 1, 0, zone
            in_tube += 1
            swabs.append(
                bulk.Swab(
                    person_id=pid,
                    tube=f"R{round_id}S{site_id:03d}T{tube_no:05d}",
                    site_id=site_id,
                    sampled_at=at + timedelta(seconds=int(index * step)),
                )
            )
    bulk.register_many(session=session, actor=actor, round_id=round_id, swabs=swabs)

    rng = np.random.default_rng(options.seed)
    positive: dict[str, bool] = {}
    for swab in swabs:
        lake_id = swab.person_id - LAKE_ID_OFFSET
        hit = 0 <= lake_id < len(truth.detectable) and bool(truth.detectable[lake_id])
        positive[swab.tube] = positive.get(swab.tube, False) or hit
    closed: dict[str, datetime] = {
        barcode: when or at
        for barcode, when in session.execute(
            select(Tube.barcode, Tube.closed_at).where(Tube.round_id == round_id)
        )
    }
    # Results come back 4 to 20 hours after the tube closes (the lab's queue).
    lab_rows: list[tuple[str, str, datetime, str]] = [
        (
            barcode,
            "positive" if hit else "negative",
            closed[barcode] + timedelta(hours=float(rng.uniform(4, 20))),
            LAB,
        )
        for barcode, hit in sorted(positive.items())
    ]
    csv_data = labfiles.write_csv(lab_rows)
    if options.out_dir is not None:
        options.out_dir.mkdir(parents=True, exist_ok=True)
        (options.out_dir / f"lab-round{round_id}.csv").write_bytes(csv_data)
        (options.out_dir / f"lab-round{round_id}.xlsx").write_bytes(
            labfiles.write_xlsx(
                ["管码", "检测结果", "报告时间", "检测机构"],
                (
                    [
                        b,
                        "阳性" if r == "positive" else "阴性",
                        t.astimezone(planner.TZ).replace(tzinfo=None),
                        lab,
                    ]
                    for b, r, t, lab in lab_rows
                ),
                "检测结果",
            )
        )
    imported = labs.import_results(
        session=session,
        actor=actor,
        round_id=round_id,
        filename=f"lab-round{round_id}.csv",
        data=csv_data,
    )
    sampled_ids = np.array([s.person_id - LAKE_ID_OFFSET for s in swabs], dtype=np.int64)
    infected = truth.infected[sampled_ids]
    in_positive = np.array([positive[s.tube] for s in swabs], dtype=bool)
    progress = coverage.progress(session=session, actor=actor, round_id=round_id)
    return {
        "round_id": round_id,
        "sampled_at": at.isoformat(),
        "sites": len([s for s in plan.sites if s.site.kind == "fixed"]),
        "mobile_teams": len(mobile),
        "overloaded_sites": sum(s.overloaded for s in plan.sites),
        "expected": created.expected,
        "sampled": len(swabs),
        "not_sampled": skipped,
        "tubes": len(positive),
        "positive_tubes": len(imported.positive_tubes),
        "flagged_people": imported.flagged_people,
        "tasks_created": imported.tasks_created,
        "infected_sampled": int(infected.sum()),
        "found": int((infected & in_positive).sum()),
        "missed": int((infected & ~in_positive).sum()),
        "isolated_already": int(truth.isolated.sum()),
        "turnaround_p50_hours": progress.turnaround_p50_hours,
        "turnaround_p90_hours": progress.turnaround_p90_hours,
        "within_24h": progress.within_target,
    }
