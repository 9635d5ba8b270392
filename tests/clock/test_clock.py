"""The one clock: real, running or pinned; shared through the data folder by every process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cordon import clock

SCENARIO = datetime(2021, 12, 27, 12, 0, tzinfo=UTC)  # 20:00 in Dongxing


def test_real_running_and_pinned() -> None:
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
    clock.set_scenario(SCENARIO, pinned=True)
    assert clock.now() == SCENARIO and clock.current().mode == "pinned"
    clock.set_scenario(SCENARIO, rate=3600)  # an hour a second
    time.sleep(0.05)
    moved = clock.now() - SCENARIO
    assert timedelta(minutes=1) < moved < timedelta(hours=1)
    assert clock.current().mode == "running"
    clock.reset()
    assert clock.now().year >= 2026


def test_advance_keeps_the_mode_and_refuses_the_real_clock() -> None:
    with pytest.raises(ValueError, match="real clock"):
        clock.advance(timedelta(hours=1))
    clock.set_scenario(SCENARIO, pinned=True)
    clock.advance(timedelta(hours=2))
    assert clock.now() == SCENARIO + timedelta(hours=2) and clock.current().pinned


def test_today_is_the_scenario_date_in_china() -> None:
    clock.set_scenario(datetime(2021, 12, 27, 17, 0, tzinfo=UTC), pinned=True)  # 01:00 on 28th
    assert clock.today().isoformat() == "2021-12-28"


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("2h", timedelta(hours=2)),
        ("1d6h", timedelta(days=1, hours=6)),
        ("-30m", timedelta(minutes=-30)),
    ],
)
def test_spans(text: str, span: timedelta) -> None:
    assert clock.parse_span(text) == span


@pytest.mark.parametrize("text", ["", "2", "h", "2 hours", "1h1d"])
def test_bad_spans_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="2h, 30m or 1d6h"):
        clock.parse_span(text)


def test_a_setting_made_in_another_process_reaches_this_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = clock.path_in(tmp_path)
    clock.bind(shared)
    assert clock.current().mode == "real"
    other = (
        "from datetime import datetime; from pathlib import Path; from cordon import clock; "
        f"clock.bind(Path({str(shared)!r})); "
        "clock.set_scenario(datetime.fromisoformat('2021-12-27T20:00+08:00'), pinned=True)"
    )
    subprocess.run([sys.executable, "-c", other], check=True, timeout=60)
    monkeypatch.setattr(clock, "REFRESH_SECONDS", 0.0)
    deadline = time.monotonic() + 5
    while clock.current().mode != "pinned" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert clock.now() == SCENARIO
    assert json.loads(shared.read_text())["pinned"] is True


def test_the_file_is_looked_at_only_when_due(tmp_path: Path) -> None:
    shared = clock.path_in(tmp_path)
    clock.bind(shared)
    shared.write_text(json.dumps(clock.ClockSetting(anchor=SCENARIO, pinned=True).to_dict()))
    assert clock.current().mode == "real"  # checked on bind; the next look is a second away
    assert clock.refresh().mode == "pinned" and clock.now() == SCENARIO


def test_a_damaged_file_keeps_the_last_setting(tmp_path: Path) -> None:
    shared = clock.path_in(tmp_path)
    clock.bind(shared)
    clock.set_scenario(SCENARIO, pinned=True)
    shared.write_text("{not json")
    assert clock.refresh().mode == "pinned" and clock.now() == SCENARIO
    shared.unlink()
    assert clock.refresh().mode == "real"
