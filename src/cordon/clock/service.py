"""Showing and changing the shared clock (operators only, every change audited)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from cordon import clock
from cordon.audit import service as audit
from cordon.auth.schemas import Actor
from cordon.auth.service import require
from cordon.clock.schemas import ClockIn, ClockOut
from cordon.errors import Problem, ValidationFailed

PERMISSION = "clock:set"


def show() -> ClockOut:
    setting = clock.current()
    return ClockOut(now=clock.now(), mode=setting.mode, anchor=setting.anchor, rate=setting.rate)


def change(
    *, session: Session, actor: Actor, data: ClockIn, tz_name: str = "Asia/Shanghai"
) -> ClockOut:
    """Set the clock for every process of this installation: real, or a scenario time that
    runs or is pinned. Audited with the setting before and after."""
    require(actor, PERMISSION)
    before = show()
    if data.mode == "real":
        clock.reset()
    else:
        if data.at is None:  # the schema requires it; a direct call might not
            raise ValidationFailed(
                "a scenario time is required", problems=[Problem("at", "required")]
            )
        at = clock.in_zone(data.at, tz_name)
        clock.set_scenario(at, pinned=data.mode == "pinned", rate=data.rate)
    return _audited(session=session, actor=actor, before=before)


def advance(*, session: Session, actor: Actor, by: timedelta) -> ClockOut:
    """Move a scenario clock on (or back, with a negative span), keeping its mode."""
    require(actor, PERMISSION)
    before = show()
    try:
        clock.advance(by)
    except ValueError as exc:
        raise ValidationFailed(str(exc), problems=[Problem("by", str(exc))]) from exc
    return _audited(session=session, actor=actor, before=before)


def _audited(*, session: Session, actor: Actor, before: ClockOut) -> ClockOut:
    after = show()
    audit.record(
        session=session,
        actor=actor,
        action="update",
        entity="clock",
        entity_id=after.mode,
        detail={
            "before": before.model_dump(mode="json"),
            "after": after.model_dump(mode="json"),
        },
    )
    return after
