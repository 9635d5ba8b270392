"""`cordon trace case` on a loaded simulated city: the first detected case's contacts as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cordon.cases import service as cases_service
from cordon.cli import app
from cordon.config import Settings
from cordon.db import transaction
from cordon.security.crypto import FieldCipher
from cordon.sim import service as sim
from tests.conftest import UserMaker
from tests.helpers import make_actor
from tests.trace.first_case import register_first_detected

IMPORTS = {"outbreak": {"imports": [{"day": 0, "kind": "border", "count": 8}]}}
runner = CliRunner()


def test_tracing_the_first_detected_case_lists_contacts_with_evidence(
    settings: Settings,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
    make_user: UserMaker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lake: Path = settings.lake_dir
    sim.run(sim.RunRequest("dongxing-2021", 3_000, 8, 11, lake, overrides=IMPORTS))
    with transaction(session_factory) as s:
        sim.load(session=s, cipher=cipher, folder=lake)
    case_id, _detected = register_first_detected(lake, session_factory, cipher)
    make_user("epi", "epidemiologist", "450681")
    monkeypatch.setenv("CORDON_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("CORDON_FIELD_KEY", "22" * 32)
    monkeypatch.setenv("CORDON_LOOKUP_KEY", "33" * 32)
    result = runner.invoke(
        app, ["trace", "case", str(case_id), "--user", "epi", "--data-dir", str(settings.data_dir)]
    )
    assert result.exit_code == 0, result.output
    traced = json.loads(result.output)
    assert traced["case_id"] == case_id and traced["pack"] == "guangxi-2021-12"
    assert traced["counts"]["close"] > 0
    close = next(c for c in traced["contacts"] if c["kind"] == "close")
    evidence = close["evidence"][0]
    assert evidence["place_id"] is not None and evidence["overlap_minutes"] >= 15
    with transaction(session_factory) as s:
        registered = cases_service.get_case(session=s, actor=make_actor(), case_id=case_id)
    assert evidence["index_person_id"] == registered.person_id

    unknown = runner.invoke(
        app, ["trace", "case", "999", "--user", "epi", "--data-dir", str(settings.data_dir)]
    )
    assert unknown.exit_code == 2 and "没有编号为 999 的病例" in unknown.output

    # Acceptance 3: a town-level tracer writes assist letters for contacts in other towns.
    town = registered.division_code[:9]
    make_user("town_epi", "epidemiologist", town)
    out = settings.data_dir / "letters"
    written = runner.invoke(
        app,
        [
            "trace",
            "letters",
            str(case_id),
            "--user",
            "town_epi",
            "--out",
            str(out),
            "--data-dir",
            str(settings.data_dir),
        ],
    )
    assert written.exit_code == 0, written.output
    files = sorted(out.glob("*.docx"))
    assert files, "contacts in other towns should need letters"
    outside = [
        c for c in traced["contacts"] if not homes(session_factory, c["person_id"]).startswith(town)
    ]
    total = 0
    for path in files:
        document = Document(str(path))
        assert document.paragraphs[0].text == "新冠肺炎疫情协查函"
        table = document.tables[0]
        assert [c.text for c in table.rows[0].cells][:3] == ["序号", "姓名", "身份证号"]
        for row in table.rows[1:]:
            number = row.cells[2].text
            assert len(number) == 18 and "*" not in number  # the receiving region needs it
        total += len(table.rows) - 1
    assert total == len(outside)
    with transaction(session_factory) as s:
        listed = s.execute(
            text("SELECT ids FROM audit_entries WHERE action = 'assist_letter'")
        ).scalars()
        audited = sum(len([p for p in (ids or "").split(",") if p]) for ids in listed)
    assert audited == total  # one entry per letter request, listing every person it names


def homes(factory: sessionmaker[Session], person_id: int) -> str:
    with transaction(factory) as s:
        return str(
            s.execute(
                text("SELECT division_code FROM people WHERE id = :i"), {"i": person_id}
            ).scalar()
        )
