"""The clock API: what time it is for the platform (a demo's scenario time), and setting it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from cordon.auth.schemas import Actor
from cordon.clock import service
from cordon.clock.schemas import ClockIn, ClockOut
from cordon.web.deps import CurrentActor, DbSession, SettingsDep, require

router = APIRouter(prefix="/clock", tags=["clock"])

Operator = Annotated[Actor, Depends(require(service.PERMISSION))]


@router.get("", response_model=ClockOut)
def show(actor: CurrentActor) -> ClockOut:
    """The clock every decision uses: the wall clock, or a scenario time (running or pinned)."""
    return service.show()


@router.put("", response_model=ClockOut)
def change(actor: Operator, session: DbSession, settings: SettingsDep, data: ClockIn) -> ClockOut:
    """Set the clock for every worker and command: real, or a scenario time (audited)."""
    return service.change(session=session, actor=actor, data=data, tz_name=settings.timezone)
