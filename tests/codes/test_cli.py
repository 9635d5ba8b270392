"""`cordon codes …`: recompute, explain, what-if, public key and offline verification."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cordon.cli import app
from cordon.codes import packs, tokens
from cordon.config import Settings
from cordon.db import transaction
from cordon.facts import service as facts
from cordon.facts.schemas import FactIn
from cordon.people import service as people_service
from cordon.people.schemas import PersonIn
from cordon.security.crypto import FieldCipher
from tests.codes.facts import day
from tests.conftest import UserMaker
from tests.helpers import id_number, make_actor, person

runner = CliRunner()


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch, make_user: UserMaker) -> list[str]:
    monkeypatch.setenv("CORDON_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("CORDON_FIELD_KEY", "22" * 32)
    monkeypatch.setenv("CORDON_LOOKUP_KEY", "33" * 32)
    make_user("epi", "epidemiologist", "450681")
    return ["--data-dir", str(settings.data_dir)]


def test_recompute_explain_and_whatif(
    env: list[str], session_factory: sessionmaker[Session], cipher: FieldCipher
) -> None:
    with transaction(session_factory) as s:
        pid = people_service.create_person(
            session=s,
            actor=make_actor(),
            cipher=cipher,
            data=PersonIn(**person(id_number=id_number(order=161))),
        ).id
        facts.record(
            session=s,
            actor=make_actor(),
            facts=[
                FactIn(
                    person_id=pid,
                    kind="contact",
                    at=day(0),
                    attrs={"contact_kind": "close", "case_id": 1},
                    source="trace:case:1",
                )
            ],
        )
    at = day(3).isoformat()
    run = runner.invoke(app, ["codes", "recompute", "--user", "epi", "--at", at, *env])
    assert run.exit_code == 0, run.output
    assert "按 guangxi-2021-12 全量重算：评估 1 人，1 人变色" in _flat(run.output)
    explained = runner.invoke(
        app, ["--lang", "en", "codes", "explain", str(pid), "--user", "epi", "--at", at, *env]
    )
    assert explained.exit_code == 0, explained.output
    text = _flat(explained.output)
    assert f"person {pid}: red" in text and "close contact" in text
    assert "next: yellow on 29 Dec 10:00 if negative tests on days 1, 4, 7, 14" in text
    chinese = runner.invoke(app, ["codes", "explain", str(pid), "--user", "epi", "--at", at, *env])
    assert f"人员 {pid}：红码" in _flat(chinese.output) and "密切接触者" in chinese.output
    report = runner.invoke(
        app, ["codes", "whatif", "e9-2022-06", "--user", "epi", "--at", day(8).isoformat(), *env]
    )
    assert report.exit_code == 0, report.output
    # Without tests, E9 keeps the close contact red past its 7 days too: nobody changes.
    summary = json.loads(report.output)
    assert (summary["changed"], summary["evaluated"]) == (0, 1)


def test_a_bad_pack_file_is_named(env: list[str], tmp_path: Path) -> None:
    draft = tmp_path / "draft.yaml"
    draft.write_text(
        packs.pack_text("guangxi-2021-12").replace("contact_kind: close", "contact_kind: near")
    )
    checked = runner.invoke(app, ["codes", "check", str(draft)])
    assert checked.exit_code == 2
    assert "rules.3.where.contact_kind" in _flat(checked.output)
    refused = runner.invoke(app, ["codes", "whatif", str(draft), "--user", "epi", *env])
    assert refused.exit_code == 2 and "规则 close-contact" in _flat(refused.output)


def test_public_key_and_offline_verify(env: list[str], settings: Settings, tmp_path: Path) -> None:
    key_file = tmp_path / "checkpoint.pem"
    exported = runner.invoke(app, ["codes", "public-key", "--out", str(key_file), *env])
    assert exported.exit_code == 0, exported.output
    seed = Settings(data_dir=settings.data_dir).secret("code_signing_key")
    token = tokens.issue(
        seed,
        colour="green",
        name="黄*明",
        id_number="450681********0001",
        pack="guangxi-2021-12",
        now=day(1),
        minutes=30,
    )
    ok = runner.invoke(
        app, ["codes", "verify", token, "--public-key", str(key_file), "--at", day(1).isoformat()]
    )
    assert ok.exit_code == 0, ok.output
    assert "有效：绿码" in ok.output
    late = runner.invoke(
        app,
        [
            *("--lang", "en", "codes", "verify", token),
            *("--public-key", str(key_file), "--at", day(2).isoformat()),
        ],
    )
    assert late.exit_code == 1 and "expired" in _flat(late.output)
    tampered = token.replace(".", ".x", 1)
    bad = runner.invoke(app, ["codes", "verify", tampered, "--public-key", str(key_file)])
    assert bad.exit_code == 1 and "不通过" in bad.output
