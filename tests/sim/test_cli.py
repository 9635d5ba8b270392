"""`cordon sim run` and `cordon sim load` as an operator uses them."""

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cordon.cli import app
from cordon.config import Settings
from cordon.db import transaction

runner = CliRunner()


def said(output: str) -> str:
    """The output with Rich's line wrapping undone."""
    return " ".join(output.split())


def test_run_reports_and_writes_the_lake(tmp_path: Path) -> None:
    out = tmp_path / "lake"
    result = runner.invoke(
        app, ["sim", "run", "--population", "500", "--days", "2", "--seed", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "正在逐日模拟" in result.output and "500 人" in said(result.output)
    assert (out / "manifest.json").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--population", "0"], "Population: must be a positive number of people"),
        (["--days", "61"], "Days: at most 60 for dongxing-2021"),
        (["--scenario", "atlantis"], "Scenario: unknown scenario 'atlantis'"),
    ],
)
def test_bad_parameters_exit_2_with_the_field_and_write_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(
        app, ["--lang", "en", "sim", "run", "--out", str(tmp_path / "lake"), *args]
    )
    assert result.exit_code == 2
    assert message in said(result.output)
    assert list(tmp_path.iterdir()) == []


def test_load_refuses_a_folder_that_is_not_a_lake(
    tmp_path: Path,
    settings: Settings,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CORDON_DATABASE_URL", settings.resolved_database_url)
    result = runner.invoke(app, ["sim", "load", str(tmp_path), "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "不是 Cordon 数据湖" in said(result.output)
    with transaction(session_factory) as s:
        assert s.execute(text("SELECT count(*) FROM people")).scalar() == 0
