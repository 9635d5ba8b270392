"""The investigation clock (pure): core information is due 4 h after a case is reported, the
full investigation 24 h after (protocol §1 tracing targets)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

CORE_DUE = timedelta(hours=4)
FULL_DUE = timedelta(hours=24)


@dataclass(frozen=True)
class Clock:
    core_due: datetime
    full_due: datetime
    core_overdue: bool
    full_overdue: bool


def investigation_clock(
    *,
    reported_at: datetime,
    core_done_at: datetime | None,
    full_done_at: datetime | None,
    now: datetime,
) -> Clock:
    core_due, full_due = reported_at + CORE_DUE, reported_at + FULL_DUE
    return Clock(
        core_due=core_due,
        full_due=full_due,
        core_overdue=(core_done_at or now) > core_due,
        full_overdue=(full_done_at or now) > full_due,
    )
