"""`cordon screening …` on a loaded simulated city."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cordon.cli import app
from cordon.config import Settings
from cordon.db import transaction
from cordon.security.crypto import FieldCipher
from cordon.sim import service as sim
from tests.conftest import UserMaker

IMPORTS = {
    "outbreak": {"imports": [{"day": 0, "kind": "border", "count": 8}]},
    # The round's roster is the registered residents: a city without visitors (who are
    # registered where they live) puts everyone in the lake on it.
    "city": {"visitor_share": 0.0},
}
runner = CliRunner()


def test_a_simulated_round_from_the_command_line(
    settings: Settings,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
    make_user: UserMaker,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    lake: Path = settings.lake_dir
    sim.run(sim.RunRequest("dongxing-2021", 2_000, 8, 11, lake, overrides=IMPORTS))
    with transaction(session_factory) as s:
        sim.load(session=s, cipher=cipher, folder=lake)
    make_user("cmd", "commander", "450681")
    monkeypatch.setenv("CORDON_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("CORDON_FIELD_KEY", "22" * 32)
    monkeypatch.setenv("CORDON_LOOKUP_KEY", "33" * 32)
    common = ["--user", "cmd", "--data-dir", str(settings.data_dir)]
    out = tmp_path / "lab"
    done = runner.invoke(
        app, ["screening", "simulate-round", "--day", "7", "--out", str(out), *common]
    )
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert report["sampled"] + report["not_sampled"] == 2_000
    assert report["found"] + report["missed"] == report["infected_sampled"]
    round_id = report["round_id"]

    lab_file = out / f"lab-round{round_id}.xlsx"
    again = runner.invoke(
        app, ["screening", "import-results", str(round_id), str(lab_file), *common]
    )
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["changed"] == 0

    shown = runner.invoke(app, ["screening", "coverage", str(round_id), *common])
    coverage = json.loads(shown.output)
    assert coverage["progress"]["sampled"] == report["sampled"]

    sheet = tmp_path / "missing.xlsx"
    written = runner.invoke(
        app, ["screening", "missing", str(round_id), "--out", str(sheet), *common]
    )
    assert written.exit_code == 0, written.output
    rows = list(load_workbook(sheet).worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "姓名" and len(rows) - 1 == report["not_sampled"]

    planned = runner.invoke(
        app,
        [
            "screening",
            "planner",
            "--prevalence",
            "0.01",
            "--day",
            "7",
            "--lab-per-day",
            "500",
            *common,
        ],
    )
    assert planned.exit_code == 0, planned.output
    plan = json.loads(planned.output)
    assert plan["recommended"]["pool"] == 11
    assert plan["simulation"]["designs"]["single"]["lab_days"] == 4

    unknown = runner.invoke(app, ["screening", "coverage", "999", *common])
    assert unknown.exit_code == 2 and "没有编号为 999 的筛查轮次" in unknown.output
