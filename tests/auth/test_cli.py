from pathlib import Path

import pytest
from typer.testing import CliRunner

from cordon.cli import app
from cordon.config import Settings

runner = CliRunner()


@pytest.fixture
def env(settings: Settings, session_factory: object, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CORDON_DATABASE_URL", settings.resolved_database_url)
    return settings.data_dir


def test_users_create_prints_a_generated_password(env: Path) -> None:
    result = runner.invoke(
        app,
        [
            "users",
            "create",
            "epi",
            "--role",
            "epidemiologist",
            "--jurisdiction",
            "450681",
            "--data-dir",
            str(env),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Created user epi (epidemiologist) in 450681" in result.output
    assert "Password: " in result.output


def test_users_create_names_the_bad_field(env: Path) -> None:
    result = runner.invoke(
        app,
        [
            "users",
            "create",
            "epi",
            "--role",
            "epidemiologist",
            "--jurisdiction",
            "450699",
            "--password",
            "long enough pw",
            "--data-dir",
            str(env),
        ],
    )
    assert result.exit_code == 2
    assert "jurisdiction: unknown division code '450699'" in result.output
    short = runner.invoke(
        app,
        [
            "users",
            "create",
            "epi",
            "--role",
            "admin",
            "--jurisdiction",
            "45",
            "--password",
            "short",
            "--data-dir",
            str(env),
        ],
    )
    assert short.exit_code == 2 and "password" in short.output
