"""The one clock every slice reads: the wall clock, or a scenario's time that the demo sets.

A demo replays December 2021, so investigation clocks, health codes and the what-if must all
see the scenario's time, not today's. The clock is either real, pinned at an instant, or set
to an instant that then advances with the wall clock (at ``rate`` scenario seconds per real
second). Nothing else in the code calls ``datetime.now()``.

The setting is shared by every process of one installation (server workers, CLI commands)
through a small JSON file in the data folder: :func:`bind` points a process at it, a change is
written atomically, and :func:`now` looks at the file again at most every
``REFRESH_SECONDS`` (one ``stat`` call), so a setting made in one process reaches the others
within that time. The anchor is a real instant (seconds since the epoch), so an advancing
clock reads the same in every process.

This module is pure standard library (and cordon.errors, itself standard library only):
anything may import it, pure rules included.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from cordon.errors import Invalid

log = logging.getLogger("cordon.clock")

FILE_NAME = "clock.json"
REFRESH_SECONDS = 1.0
Mode = Literal["real", "running", "pinned"]


@dataclass(frozen=True)
class ClockSetting:
    """What the clock says: ``anchor`` is the scenario instant at the real ``anchor_real``
    (seconds since the epoch); a pinned clock stays at ``anchor``."""

    anchor: datetime | None = None  # None: the wall clock
    anchor_real: float = 0.0
    pinned: bool = False
    rate: float = 1.0

    @property
    def mode(self) -> Mode:
        if self.anchor is None:
            return "real"
        return "pinned" if self.pinned else "running"

    def now(self, real: float) -> datetime:
        if self.anchor is None:
            return datetime.fromtimestamp(real, UTC)
        if self.pinned:
            return self.anchor
        return self.anchor + timedelta(seconds=(real - self.anchor_real) * self.rate)

    def to_dict(self) -> dict[str, Any]:
        return {
            "anchor": self.anchor.isoformat() if self.anchor else None,
            "anchor_real": self.anchor_real,
            "pinned": self.pinned,
            "rate": self.rate,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClockSetting:
        anchor = data.get("anchor")
        moment = datetime.fromisoformat(anchor) if anchor else None
        if moment is not None and moment.tzinfo is None:
            raise ValueError("the clock's anchor has no time zone")
        rate = float(data.get("rate", 1.0))
        if rate <= 0:
            raise ValueError("the clock's rate must be positive")
        return cls(
            anchor=moment.astimezone(UTC) if moment else None,
            anchor_real=float(data.get("anchor_real", 0.0)),
            pinned=bool(data.get("pinned", False)),
            rate=rate,
        )


_SPAN = re.compile(r"^(?P<sign>[-+]?)(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?$")


def parse_span(text: str) -> timedelta:
    """``2h``, ``30m``, ``1d6h``, ``-1h``: a span of days, hours and minutes."""
    found = _SPAN.match(text.strip())
    if found is None or not any(found.group(k) for k in "dhm"):
        raise Invalid("not a span such as 2h, 30m or 1d6h: '%(text)s'", params=dict(text=text))
    span = timedelta(
        days=int(found.group("d") or 0),
        hours=int(found.group("h") or 0),
        minutes=int(found.group("m") or 0),
    )
    return -span if found.group("sign") == "-" else span


_lock = threading.Lock()
_setting = ClockSetting()
_path: Path | None = None  # the shared file this process follows, if any
_stamp: tuple[int, int, int] | None = None  # (inode, size, mtime) of the file last read
_next_check = 0.0  # time.monotonic() after which the file is looked at again


def now() -> datetime:
    """The current instant, timezone-aware in UTC."""
    if _path is not None and time.monotonic() >= _next_check:
        _refresh()
    return _setting.now(time.time())


def today(tz_name: str = "Asia/Shanghai") -> date:
    """The clock's date in a zone (China Standard Time unless told)."""
    return now().astimezone(ZoneInfo(tz_name)).date()


def in_zone(moment: datetime, tz_name: str = "Asia/Shanghai") -> datetime:
    """A time typed without a zone is wall-clock time in ``tz_name``; an aware one is kept."""
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(tz_name))


def wall_now() -> datetime:
    """The real instant (UTC), whatever the scenario: for what must not follow a simulated
    clock — session and token expiry, login and lookup brakes, the audit log's times (an
    operator must not be able to backdate an access by setting the clock)."""
    return datetime.fromtimestamp(time.time(), UTC)


def real_time() -> float:
    """The wall clock in seconds since the epoch (what a setting's ``now`` takes)."""
    return time.time()


def current() -> ClockSetting:
    """The setting in force (refreshed from the shared file when due)."""
    if _path is not None and time.monotonic() >= _next_check:
        _refresh()
    return _setting


def path_in(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def bind(path: Path | None) -> None:
    """Follow (and write to) the shared setting in ``path``; ``None``: this process only."""
    global _path, _stamp
    with _lock:
        _path, _stamp = path, None
    if path is not None:
        _refresh(force=True)


def _file_stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return (found.st_ino, found.st_size, found.st_mtime_ns)


def _refresh(*, force: bool = False) -> None:
    global _setting, _stamp, _next_check
    with _lock:
        path = _path
        if path is None:
            return
        _next_check = time.monotonic() + REFRESH_SECONDS
        stamp = _file_stamp(path)
        if stamp == _stamp and not force:
            return
        if stamp is None:
            _setting, _stamp = ClockSetting(), None
            return
        try:
            setting = ClockSetting.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            # A damaged file must not stop every page: keep the last good setting, say why.
            log.warning("clock file %s unreadable (%s); keeping the current setting", path, exc)
            return
        _setting, _stamp = setting, stamp


def refresh() -> ClockSetting:
    """Read the shared setting now instead of at the next due check."""
    _refresh(force=True)
    return _setting


def apply(setting: ClockSetting) -> None:
    """Put ``setting`` in force here and, when bound, for every process sharing the file."""
    global _setting, _stamp
    with _lock:
        _setting = setting
        if _path is None:
            return
        _path.parent.mkdir(parents=True, exist_ok=True)
        partial = _path.with_name(f".{_path.name}.{os.getpid()}.tmp")
        partial.write_text(json.dumps(setting.to_dict()), encoding="utf-8")
        os.replace(partial, _path)  # atomic: readers see the old file or the new one
        _stamp = _file_stamp(_path)


def scenario(at: datetime, *, pinned: bool = False, rate: float = 1.0) -> ClockSetting:
    """A setting at ``at`` (aware) from this real instant on; unpinned, it advances at ``rate``."""
    if at.tzinfo is None:
        raise ValueError("the clock takes an aware datetime")
    if rate <= 0:
        raise ValueError("the clock's rate must be positive")
    return ClockSetting(
        anchor=at.astimezone(UTC), anchor_real=time.time(), pinned=pinned, rate=rate
    )


def set_scenario(at: datetime, *, pinned: bool = False, rate: float = 1.0) -> ClockSetting:
    """Set the clock to ``at`` (aware); unpinned, it then advances at ``rate``."""
    setting = scenario(at, pinned=pinned, rate=rate)
    apply(setting)
    return setting


def advanced(by: timedelta) -> ClockSetting:
    """The current scenario setting moved on by ``by``, pinned or running as it was."""
    setting = current()
    if setting.anchor is None:
        raise Invalid("the clock is the real clock; set a scenario time before advancing it")
    real = time.time()
    return replace(setting, anchor=setting.now(real) + by, anchor_real=real)


def advance(by: timedelta) -> ClockSetting:
    """Move a scenario clock on by ``by``, keeping it pinned or running as it was."""
    moved = advanced(by)
    apply(moved)
    return moved


def reset() -> None:
    """Back to the wall clock."""
    apply(ClockSetting())
