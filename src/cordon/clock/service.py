"""Showing and changing the shared clock (operators only, every change audited)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from cordon import clock
from cordon.audit import service as audit
from cordon.auth.schemas import Actor
from cordon.auth.service import require
from cordon.clock.schemas import ClockIn, ClockOut
from cordon.errors import Invalid, Problem, ValidationFailed

PERMISSION = "clock:set"


def show() -> ClockOut:
    return _out(clock.current())


def _out(setting: clock.ClockSetting) -> ClockOut:
    return ClockOut(
        now=setting.now(clock.real_time()),
        mode=setting.mode,
        anchor=setting.anchor,
        rate=setting.rate,
    )


def change(
    *, session: Session, actor: Actor, data: ClockIn, tz_name: str = "Asia/Shanghai"
) -> ClockOut:
    """Set the clock for every process of this installation: real, or a scenario time that
    runs or is pinned. Audited with the setting before and after."""
    require(actor, PERMISSION)
    if data.mode == "real":
        return _put(session=session, actor=actor, setting=clock.ClockSetting())
    if data.at is None:  # the schema requires it; a direct call might not
        raise ValidationFailed("a scenario time is required", problems=[Problem("at", "required")])
    at = clock.in_zone(data.at, tz_name)
    setting = clock.scenario(at, pinned=data.mode == "pinned", rate=data.rate)
    return _put(session=session, actor=actor, setting=setting)


def advance(*, session: Session, actor: Actor, by: timedelta) -> ClockOut:
    """Move a scenario clock on (or back, with a negative span), keeping its mode."""
    require(actor, PERMISSION)
    try:
        setting = clock.advanced(by)
    except Invalid as exc:
        raise exc.as_error("by") from exc
    return _put(session=session, actor=actor, setting=setting)


def _put(*, session: Session, actor: Actor, setting: clock.ClockSetting) -> ClockOut:
    """Audit the change and flush it before the clock moves, so a change the audit log cannot
    hold is not made."""
    after = _out(setting)
    audit.record(
        session=session,
        actor=actor,
        action="update",
        entity="clock",
        entity_id=after.mode,
        detail={"before": show().model_dump(mode="json"), "after": after.model_dump(mode="json")},
    )
    session.flush()
    clock.apply(setting)
    return after
