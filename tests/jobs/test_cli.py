"""``cordon jobs list`` and ``cancel`` say a job's kind and status in the CLI's language."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cordon.cli import app
from cordon.codes import jobs as codes_jobs
from cordon.config import Settings
from cordon.db import transaction
from cordon.jobs import service
from tests.conftest import UserMaker
from tests.helpers import make_actor

runner = CliRunner()


def test_jobs_are_listed_and_cancelled_in_the_cli_language(
    settings: Settings,
    session_factory: sessionmaker[Session],
    make_user: UserMaker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_user("adm", "admin", "45")
    monkeypatch.setenv("CORDON_DATABASE_URL", settings.resolved_database_url)
    with transaction(session_factory) as s:
        job = service.submit(
            session=s, actor=make_actor(username="adm"), kind=codes_jobs.RECOMPUTE
        ).id
    common = ["--user", "adm", "--data-dir", str(settings.data_dir)]
    listed = runner.invoke(app, ["jobs", "list", *common])
    assert listed.exit_code == 0, listed.output
    assert "重新计算健康码" in listed.output and "排队中" in listed.output
    english = runner.invoke(app, ["--lang", "en", "jobs", "list", *common])
    assert "Recompute health codes" in english.output and "Queued" in english.output
    cancelled = runner.invoke(app, ["jobs", "cancel", str(job), *common])
    assert cancelled.exit_code == 0, cancelled.output
    assert f"任务 {job}：已取消" in cancelled.output
