"""Health codes' background jobs: a recompute someone started, and the refresh that decides
again, by itself, the codes of people whose facts changed (a trace, a result, a new case)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cordon.auth.schemas import Actor
from cordon.codes import packs, service
from cordon.db import transaction
from cordon.jobs import service as jobs
from cordon.jobs.flows import JobContext
from cordon.jobs.schemas import JobOut
from cordon.web.i18n import N_

RECOMPUTE, REFRESH = "codes.recompute", "codes.refresh"
REFRESH_KEY = "codes:refresh"
# The refresh runs as the system: codes are the whole city's, whoever's trace moved them.
SYSTEM = Actor(
    user_id=None,
    username="system:codes",
    role="system",
    jurisdiction="",
    permissions=frozenset({"codes:view", "codes:manage"}),
    client_addr="job",
)


def start_recompute(
    *, session: Session, actor: Actor, full: bool = False, pack_name: str | None = None
) -> JobOut:
    if pack_name is not None:
        packs.load(pack_name)  # an unknown pack is refused before anything is queued
    return jobs.submit(
        session=session,
        actor=actor,
        kind=RECOMPUTE,
        params={"full": full, "pack": pack_name},
        subject="codes",
        total=1,
        message=N_("Queued"),
    )


def _run_recompute(ctx: JobContext) -> dict[str, Any]:
    ctx.progress(0, 1, N_("Recomputing health codes"))
    with transaction(ctx.factory) as session:
        out = service.recompute(
            session=session,
            actor=ctx.actor,
            pack_name=ctx.params.get("pack") or ctx.settings.code_pack,
            full=bool(ctx.params.get("full")),
            tz_name=ctx.settings.timezone,
        )
    return out.model_dump(mode="json")


def schedule_refresh(*, session: Session) -> JobOut | None:
    """Queue one refresh when people are marked and none is waiting (the runner's poll)."""
    if service.dirty_count(session=session) == 0:
        return None
    last = jobs.latest(session=session, actor=SYSTEM, kind=REFRESH, subject=REFRESH_KEY)
    if last is not None and last.status == "running":
        return None  # it goes on until no mark is left; one refresh at a time
    retry = last is not None and last.status == "failed"  # not a new failing job every poll
    return jobs.submit(
        session=session, actor=SYSTEM, kind=REFRESH, key=REFRESH_KEY, delay=60.0 if retry else 0.0
    )


def _run_refresh(ctx: JobContext) -> dict[str, Any]:
    decided = changed = 0
    while True:
        with transaction(ctx.factory) as session:
            people, moved = service.refresh_dirty(
                session=session,
                actor=ctx.actor,
                pack_name=ctx.settings.code_pack,
                tz_name=ctx.settings.timezone,
            )
            decided, changed = decided + people, changed + moved
            left = service.dirty_count(session=session)
            ctx.progress(decided, decided + left, N_("Deciding changed codes"), session=session)
        if people == 0 or left == 0:
            break
    return {"evaluated": decided, "changed": changed}


for _kind in (
    jobs.Kind(RECOMPUTE, "codes:manage", _run_recompute, N_("Recompute health codes")),
    jobs.Kind(REFRESH, "codes:manage", _run_refresh, N_("Refresh changed health codes")),
):
    jobs.register(_kind)
