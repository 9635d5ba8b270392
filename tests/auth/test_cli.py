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
    assert "已创建用户 epi（流调人员），辖区 450681" in result.output
    assert "密码：" in result.output


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
    assert "辖区：行政区划代码 '450699' 不存在" in result.output
    short = runner.invoke(
        app,
        [
            "--lang",
            "en",
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
    assert short.exit_code == 2
    assert "Password: String should have at least 10 characters" in short.output


def test_users_reset_password_prints_a_new_one(
    env: Path, make_user: Callable[..., str], client: TestClient
) -> None:
    make_user("epi", "epidemiologist", "450681")
    result = runner.invoke(
        app, ["--lang", "en", "users", "reset-password", "epi", "--data-dir", str(env)]
    )
    assert result.exit_code == 0, result.output
    new = result.output.split("Password: ")[1].split()[0]
    assert login(client, "epi", PASSWORD).status_code == 401
    assert login(client, "epi", new).status_code == 303
    unknown = runner.invoke(app, ["users", "reset-password", "nobody", "--data-dir", str(env)])
    assert unknown.exit_code != 0 and "没有用户 'nobody'" in unknown.output
