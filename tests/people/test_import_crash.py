"""A process that dies in the middle of an import leaves nothing behind, and the next run works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from cordon.config import Settings
from tests.helpers import id_number, xlsx

ROWS = 6000


def big_file(path: Path) -> None:
    rows: list[list[object]] = [["姓名", "身份证号", "网格编码"]]
    for i in range(ROWS):
        born = date(1960, 1, 1) + timedelta(days=i // 500)
        rows.append([f"人{i}", id_number(born=born, order=i % 500), "450681100001001"])
    path.write_bytes(xlsx(rows))


def count(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        return int(s.execute(text("SELECT count(*) FROM people")).scalar_one())


def test_killed_import_writes_nothing(
    settings: Settings, session_factory: sessionmaker[Session], make_user: object, tmp_path: Path
) -> None:
    make_user("admin")  # type: ignore[operator]
    source = tmp_path / "people.xlsx"
    big_file(source)
    env = {
        **os.environ,
        "CORDON_DATABASE_URL": settings.resolved_database_url,
        "CORDON_FIELD_KEY": "22" * 32,
        "CORDON_LOOKUP_KEY": "33" * 32,
    }
    command = [
        sys.executable,
        "-m",
        "cordon",
        "people",
        "import",
        str(source),
        "--user",
        "admin",
        "--data-dir",
        str(settings.data_dir),
    ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(2.5)  # well into reading, checking and writing the rows
    assert process.poll() is None, "the import finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert count(session_factory) == 0

    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert count(session_factory) == ROWS
