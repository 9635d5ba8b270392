from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cordon.cli import app
from cordon.config import Settings
from tests.conftest import PASSWORD
from tests.page_helpers import login

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


def test_users_reset_password_prints_a_new_one(
    env: Path, make_user: Callable[..., str], client: TestClient
) -> None:
    make_user("epi", "epidemiologist", "450681")
    result = runner.invoke(app, ["users", "reset-password", "epi", "--data-dir", str(env)])
    assert result.exit_code == 0, result.output
    new = result.output.split("Password: ")[1].split()[0]
    assert login(client, "epi", PASSWORD).status_code == 401
    assert login(client, "epi", new).status_code == 303
    unknown = runner.invoke(app, ["users", "reset-password", "nobody", "--data-dir", str(env)])
    assert unknown.exit_code != 0 and "nobody" in unknown.output
