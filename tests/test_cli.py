"""The root commands: ``cordon db upgrade`` on an empty database and again; ``cordon --help``
loads no heavy library and lists whole sentences; the demo sets the scenario clock."""

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cordon.cli import app
from cordon.config import Settings
from cordon.db import make_engine, transaction
from cordon.models import Base
from cordon.security.crypto import FieldCipher

SHANGHAI = ZoneInfo("Asia/Shanghai")

runner = CliRunner()


def test_db_upgrade_creates_the_schema_and_loads_divisions(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    else:
        Base.metadata.drop_all(engine)
    monkeypatch.setenv("CORDON_DATABASE_URL", database_url)
    try:
        first = runner.invoke(app, ["db", "upgrade", "--data-dir", str(tmp_path)])
        assert first.exit_code == 0, first.output
        # Guangxi (126), Dongxing to its villages (46) and Guangdong (144), less one row shared
        assert "新增 315 个行政区划" in first.output  # the CLI speaks the UI's default language
        assert {"people", "users", "audit_entries", "alembic_version"} <= set(
            inspect(engine).get_table_names()
        )
        again = runner.invoke(app, ["--lang", "en", "db", "upgrade", "--data-dir", str(tmp_path)])
        assert again.exit_code == 0 and "0 divisions added" in again.output
    finally:
        if engine.dialect.name == "postgresql":  # hand the shared schema back as it was
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            Base.metadata.create_all(engine)
        engine.dispose()


# Libraries that cost seconds to import; ``cordon --help`` (and a command's help) must not.
HEAVY = (
    "pandas",
    "numba",
    "pyarrow",
    "pyarrow.dataset",
    "duckdb",
    "alembic",
    "sqlalchemy",
    "fastapi",
    "uvicorn",
    "openpyxl",
    "docx",
    "shapely",
    "pydantic_settings",
)


def _imported_by(*args: str) -> set[str]:
    """Modules a fresh ``python -m cordon ARGS`` process imports (from ``-X importtime``)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cordon", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


@pytest.mark.parametrize(
    "args", [("--help",), ("codes", "--help"), ("trace", "batch", "--help"), ("clock", "--help")]
)
def test_help_loads_no_heavy_library(args: tuple[str, ...]) -> None:
    loaded = _imported_by(*args)
    assert "cordon.cli" in loaded
    assert sorted(set(HEAVY) & loaded) == []


def test_commands_speak_the_ui_language_or_the_one_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chinese by default, as the pages and the API; ``--lang en`` or an English installation
    (CORDON_DEFAULT_LANGUAGE=en) in English: the error, and each problem's field and reason."""
    from tests.web.english import english_words

    monkeypatch.delenv("CORDON_DEFAULT_LANGUAGE", raising=False)
    args = ["sim", "run", "--population", "0", "--out", str(tmp_path / "lake")]
    chinese = runner.invoke(app, args)
    assert chinese.exit_code == 2
    assert "错误：无法按所给参数运行模拟" in chinese.output
    assert "人口：人数应为正数" in chinese.output
    assert english_words(chinese.output) == []
    english = runner.invoke(app, ["--lang", "en", *args])
    assert english.exit_code == 2
    assert "Error: the simulation cannot run as asked" in english.output
    assert "Population: must be a positive number of people" in english.output
    monkeypatch.setenv("CORDON_DEFAULT_LANGUAGE", "en")
    assert "Population: must be a positive" in runner.invoke(app, args).output
    assert "人口：人数应为正数" in runner.invoke(app, ["--lang", "zh_CN", *args]).output


def _commands(command: object, path: str = "cordon") -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for name, sub in getattr(command, "commands", {}).items():
        found.append((f"{path} {name}", sub))
        found.extend(_commands(sub, f"{path} {name}"))
    return found


def test_every_command_lists_a_whole_sentence() -> None:
    """Listings show a command's first paragraph whole, in Rich and plain help alike (plain
    help and shell completion used to cut it at 45 characters, mid-sentence)."""
    import typer.main

    commands = _commands(typer.main.get_command(app))
    assert {"cordon demo", "cordon clock set", "cordon codes whatif"} <= {n for n, _ in commands}
    for name, command in commands:
        short = command.get_short_help_str(limit=45)  # type: ignore[attr-defined]
        assert short and not short.endswith("..."), f"{name}: {short!r}"
        assert short.endswith("."), f"{name}: {short!r} is not a whole sentence"
        assert short == " ".join((command.help or short).split("\n\n")[0].split()), name  # type: ignore[attr-defined]
    listing = runner.invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    assert (
        "Simulate Dongxing's outbreak once, load it, and serve it at the scenario's time."
        in listing
    )


def test_the_demo_sets_the_scenario_clock_unless_an_operator_pinned_it(
    settings: Settings, session_factory: sessionmaker[Session], cipher: FieldCipher
) -> None:
    from cordon import cli, clock
    from cordon.cases import service as cases_service
    from cordon.cases.schemas import CaseIn
    from cordon.people import service as people_service
    from cordon.people.schemas import PersonIn
    from cordon.sim import service as sim_service
    from tests.helpers import make_actor, person

    sim_service.run(sim_service.RunRequest("dongxing-2021", 300, 2, 3, settings.lake_dir))
    clock.bind(clock.path_in(settings.data_dir))  # as the demo's settings_for does
    evening = datetime(2021, 12, 1, 20, 0, tzinfo=SHANGHAI)  # 30 Nov + 2 days: the last day
    assert "2021-12-01 20:00 (运行中)" in cli._set_scenario_clock(settings)
    assert clock.current().mode == "running" and clock.now() - evening < timedelta(minutes=1)
    assert json.loads(clock.path_in(settings.data_dir).read_text())["pinned"] is False
    with transaction(session_factory) as session:  # a case reported later that evening
        admin = make_actor()
        pid = people_service.create_person(
            session=session, actor=admin, cipher=cipher, data=PersonIn(**person())
        ).id
        late = evening + timedelta(hours=2)
        cases_service.register_case(
            session=session,
            actor=admin,
            cipher=cipher,
            now=late,
            data=CaseIn(person_id=pid, kind="asymptomatic", sampled_at=late, found_by="symptoms"),
        )
        cli._set_scenario_clock(settings, session=session)
    assert clock.now() - (late + timedelta(minutes=1)) < timedelta(minutes=1)
    pinned = datetime(2021, 12, 1, 9, 0, tzinfo=SHANGHAI)
    clock.set_scenario(pinned, pinned=True)
    assert "2021-12-01 09:00 (已固定)" in cli._set_scenario_clock(settings)
    assert clock.now() == pinned
