"""Screening's background jobs: the not-yet-sampled list of a whole round as XLSX, and a
simulated round over the simulated city (sites, swabs, a lab file, its import)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from cordon.auth.schemas import Actor
from cordon.auth.service import require
from cordon.db import transaction
from cordon.jobs import service as jobs
from cordon.jobs.flows import JobContext
from cordon.jobs.schemas import JobOut
from cordon.screening import coverage, simulation
from cordon.web.downloads import XLSX
from cordon.web.i18n import N_

MISSING, SIMULATE = "screening.missing", "screening.simulate"


def missing_name(round_id: int, grid_code: str | None) -> str:
    return f"missing-round{round_id}{'-' + grid_code if grid_code else ''}.xlsx"


def start_missing(
    *, session: Session, actor: Actor, round_id: int, grid_code: str | None
) -> JobOut:
    total = coverage.missing_count(
        session=session, actor=actor, round_id=round_id, grid_code=grid_code
    )
    return jobs.submit(
        session=session,
        actor=actor,
        kind=MISSING,
        params={"round_id": round_id, "grid_code": grid_code},
        subject=f"round:{round_id}",
        total=total,
        message=N_("Queued"),
    )


def _run_missing(ctx: JobContext) -> dict[str, Any]:
    round_id, grid = int(ctx.params["round_id"]), ctx.params.get("grid_code")
    name = missing_name(round_id, grid)
    with transaction(ctx.factory) as session:

        def step(done: int, total: int) -> None:
            session.commit()  # the chunk's audit entries; SQLite has one writer
            ctx.progress(done, total, N_("Writing rows"))

        rows = coverage.write_missing_xlsx(
            session=session,
            actor=ctx.actor,
            cipher=ctx.cipher,
            round_id=round_id,
            grid_code=grid,
            path=ctx.file(name),
            progress=step,
        )
    return {"file": name, "download": name, "media_type": XLSX, "rows": rows}


def start_simulation(
    *, session: Session, actor: Actor, lake: Path, day: int, division_code: str, seed: int
) -> JobOut:
    require(actor, "screening:manage")
    params = {"lake": str(lake), "day": day, "division_code": division_code, "seed": seed}
    return jobs.submit(
        session=session,
        actor=actor,
        kind=SIMULATE,
        params=params,
        subject="simulation",
        total=1,
        message=N_("Queued"),
    )


def _run_simulation(ctx: JobContext) -> dict[str, Any]:
    # One transaction: a round is opened, sampled and resulted whole, or not at all, so a
    # resumed job starts it again without leaving half a round behind.
    ctx.progress(0, 1, N_("Sampling the city and importing the lab file"))
    with transaction(ctx.factory) as session:
        return simulation.simulate_round(
            session=session,
            actor=ctx.actor,
            cipher=ctx.cipher,
            options=simulation.Options(
                lake=Path(ctx.params["lake"]),
                day=int(ctx.params["day"]),
                division_code=str(ctx.params["division_code"]),
                seed=int(ctx.params["seed"]),
            ),
        )


for _kind in (
    jobs.Kind(MISSING, "screening:view", _run_missing, N_("Not-yet-sampled list")),
    jobs.Kind(SIMULATE, "screening:manage", _run_simulation, N_("Simulated screening round")),
):
    jobs.register(_kind)
