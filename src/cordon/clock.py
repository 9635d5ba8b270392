"""The one clock every slice reads: the wall clock, or a scenario's time that the demo sets.

A demo replays December 2021, so investigation clocks, health codes and the what-if must all
see the scenario's time, not today's. The clock is either real, pinned at an instant, or set
to an instant that then advances with the wall clock (at ``rate`` scenario seconds per real
second). Nothing else in the code calls ``datetime.now()``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class ClockSetting:
    """What the clock says: ``anchor`` is the scenario instant at the real ``anchor_real``
    (seconds since the epoch); a pinned clock stays at ``anchor``."""

    anchor: datetime | None = None  # None: the wall clock
    anchor_real: float = 0.0
    pinned: bool = False
    rate: float = 1.0

    def now(self, real: float) -> datetime:
        if self.anchor is None:
            return datetime.fromtimestamp(real, UTC)
        if self.pinned:
            return self.anchor
        return self.anchor + timedelta(seconds=(real - self.anchor_real) * self.rate)


_lock = threading.Lock()
_setting = ClockSetting()


def now() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return _setting.now(time.time())


def current() -> ClockSetting:
    return _setting


def apply(setting: ClockSetting) -> None:
    global _setting
    with _lock:
        _setting = setting


def set_scenario(at: datetime, *, pinned: bool = False, rate: float = 1.0) -> ClockSetting:
    """Set the clock to ``at`` (aware); unpinned, it then advances at ``rate``."""
    if at.tzinfo is None:
        raise ValueError("the clock takes an aware datetime")
    if rate <= 0:
        raise ValueError("the clock's rate must be positive")
    setting = ClockSetting(
        anchor=at.astimezone(UTC), anchor_real=time.time(), pinned=pinned, rate=rate
    )
    apply(setting)
    return setting


def reset() -> None:
    """Back to the wall clock."""
    apply(ClockSetting())
