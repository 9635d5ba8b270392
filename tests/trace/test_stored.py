"""Stored tracing on a loaded simulated city: contacts and facts written (and replaced by a
re-trace), lists, XLSX export, the network, the trajectory, and batch jobs from API and CLI."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from docx import Document
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cordon.cases import service as cases_service
from cordon.cases.schemas import CaseIn
from cordon.cli import app
from cordon.config import Settings
from cordon.db import transaction
from cordon.facts import service as facts_service
from cordon.lake.reader import read_table
from cordon.security.crypto import FieldCipher
from cordon.sim import service as sim
from tests.helpers import make_actor

IMPORTS = {"outbreak": {"imports": [{"day": 0, "kind": "border", "count": 8}]}}
Tokens = Callable[..., dict[str, str]]
runner = CliRunner()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("stored") / "lake"
    sim.run(sim.RunRequest("dongxing-2021", 3_000, 8, 11, out, overrides=IMPORTS))
    return out


def _register_first_cases(
    lake: Path, factory: sessionmaker[Session], cipher: FieldCipher, count: int
) -> list[int]:
    with transaction(factory) as s:
        sim.load(session=s, cipher=cipher, folder=lake)
    disease = read_table(lake, "disease").to_pandas()
    found = disease[disease["detected_at"].notna()].sort_values("detected_at").head(count)
    ids = []
    with transaction(factory) as s:
        for row in found.itertuples():
            case = cases_service.register_case(
                session=s,
                actor=make_actor(),
                cipher=cipher,
                data=CaseIn(
                    person_id=int(row.person_id) + 1,
                    kind="asymptomatic",
                    sampled_at=row.detected_at.to_pydatetime(),
                    found_by="routine_test",
                    isolated_at=row.isolated_at.to_pydatetime(),
                ),
                now=row.detected_at.to_pydatetime(),  # reported when found: clocks long overdue
            )
            ids.append(case.id)
    return ids


@pytest.fixture
def loaded(
    city: Path,
    settings: Settings,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
) -> list[int]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.lake_dir.symlink_to(city, target_is_directory=True)
    return _register_first_cases(city, session_factory, cipher, 3)


def test_a_stored_trace_writes_contacts_a_push_their_facts_and_a_retrace_replaces_both(
    client: TestClient,
    token_for: Tokens,
    loaded: list[int],
    session_factory: sessionmaker[Session],
) -> None:
    epi = token_for("epi", "epidemiologist", "450681")
    chief = token_for("chief", "commander", "450681")
    case_id = loaded[0]
    preview = client.get(f"/api/v1/trace/cases/{case_id}", headers=epi).json()
    assert (
        client.get(f"/api/v1/trace/contacts?case_id={case_id}", headers=epi).json()["total"] == 0
    ), "a preview stores nothing"
    stored = client.post(f"/api/v1/trace/cases/{case_id}", headers=epi)
    assert stored.status_code == 200, stored.text
    traced = stored.json()
    assert traced["counts"] == preview["counts"] and traced["counts"]["close"] > 0
    listed = client.get(f"/api/v1/trace/contacts?case_id={case_id}&limit=1000", headers=epi).json()
    assert listed["counts"] == traced["counts"]
    close = client.get(
        f"/api/v1/trace/contacts?case_id={case_id}&kind=close&limit=5", headers=epi
    ).json()
    assert {r["kind"] for r in close["rows"]} == {"close"}
    assert close["rows"][0]["evidence"][0]["overlap_minutes"] >= 15
    person, tier = close["rows"][0]["person_id"], close["rows"][0]["tier"]
    with transaction(session_factory) as s:
        facts = facts_service.of_person(session=s, actor=make_actor(), person_id=person)
    assert [f for f in facts if f.kind == "contact"] == [], "codes wait for a push"
    everything = {"case_ids": [case_id], "tiers": [1, 2, 3], "companions": True}
    pushed = client.post("/api/v1/trace/push", json=everything, headers=chief)
    assert pushed.status_code == 201, pushed.text
    with transaction(session_factory) as s:
        facts = facts_service.of_person(session=s, actor=make_actor(), person_id=person)
    contact = next(f for f in facts if f.kind == "contact")
    assert contact.attrs == {
        "contact_kind": "close",
        "case_id": case_id,
        "pack": "guangxi-2021-12",
        "tier": tier,
        "action": {1: "central", 2: "home", 3: "notify"}[tier],
        "push_id": pushed.json()["id"],
    }
    assert contact.source == f"trace:case:{case_id}"

    # The same trace again changes nothing; under E9 the list (and the facts of the tiers
    # pushed) follow the pack.
    again = client.post(f"/api/v1/trace/cases/{case_id}", headers=epi).json()
    assert again["counts"] == traced["counts"]
    e9 = client.post(f"/api/v1/trace/cases/{case_id}?pack=e9-2022-06", headers=epi).json()
    after = client.get(f"/api/v1/trace/contacts?case_id={case_id}&limit=1", headers=epi).json()
    assert after["counts"] == e9["counts"]
    with transaction(session_factory) as s:
        live = facts_service.live_table(session=s).to_pylist()
    ours = [f for f in live if f["source"] == f"trace:case:{case_id}"]
    assert len(ours) == sum(e9["counts"].values())
    assert all('"pack": "e9-2022-06"' in f["attrs"] for f in ours)


def test_export_network_and_trajectory(
    client: TestClient, token_for: Tokens, loaded: list[int]
) -> None:
    epi = token_for("epi", "epidemiologist", "450681")
    case_id = loaded[0]
    traced = client.post(f"/api/v1/trace/cases/{case_id}", headers=epi).json()
    sheet = client.get(f"/api/v1/trace/contacts.xlsx?case_id={case_id}", headers=epi)
    assert sheet.status_code == 200
    book = load_workbook(io.BytesIO(sheet.content))
    # The quarantine list and the companions on sheets of their own, each riskiest first.
    assert book.sheetnames == ["隔离名单", "时空伴随者"]
    quarantine, companions = (list(book[n].iter_rows(values_only=True)) for n in book.sheetnames)
    rows = quarantine + companions[1:]
    assert rows[0][:3] == ("类别 kind", "病例 case", "姓名 name") and companions[0] == rows[0]
    counts = traced["counts"]
    assert len(quarantine) - 1 == counts["close"] + counts["secondary"]
    assert len(companions) - 1 == counts["companion"]
    score = rows[0].index("暴露得分(%) score (%)")
    for listed in (quarantine, companions):
        assert [r[score] for r in listed[1:]] == sorted(
            (r[score] for r in listed[1:]), reverse=True
        )
    assert {r[rows[0].index("优先级 tier")] for r in quarantine[1:]} <= {1, 2, 3}
    # Epidemiologists may see identity data; people outside the jurisdiction are not listed.
    assert all(len(str(r[3])) == 18 and "*" not in str(r[3]) for r in rows[1:] if r[3])

    # The stored list follows the same order: the quarantine list by score, then companions.
    listed = [
        row
        for offset in range(0, len(rows) - 1, 1000)
        for row in client.get(
            f"/api/v1/trace/contacts?case_id={case_id}&limit=1000&offset={offset}", headers=epi
        ).json()["rows"]
    ]
    apart = [(r["kind"] == "companion", -r["score"], r["first_exposure"]) for r in listed]
    assert apart == sorted(apart) and len(listed) == len(rows) - 1

    graph = client.get(f"/api/v1/trace/network?case_id={case_id}", headers=epi).json()
    kinds = {n["kind"] for n in graph["nodes"]}
    assert {"case", "close"} <= kinds
    assert any(a == f"case:{case_id}" for a, _b in graph["links"])
    # More contacts than the graph draws: the highest-scored are the ones drawn.
    people = [n for n in graph["nodes"] if n["kind"] != "case"]
    assert graph["truncated"] and len(graph["nodes"]) == 400
    assert (
        sorted((n["score"] for n in people), reverse=True)
        == sorted((r["score"] for r in listed), reverse=True)[: len(people)]
    )

    home = client.get(f"/api/v1/cases/{case_id}", headers=epi).json()["division_code"][:9]
    town = token_for("town", "epidemiologist", home)
    bundle = client.get(f"/api/v1/trace/cases/{case_id}/letters.zip", headers=town)
    assert bundle.status_code == 200, bundle.text
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        names = archive.namelist()
        assert names and all(n.endswith(".docx") for n in names)
        letter = Document(io.BytesIO(archive.read(names[0])))
        assert letter.paragraphs[0].text == "新冠肺炎疫情协查函"

    path = client.get(f"/api/v1/trace/cases/{case_id}/trajectory", headers=epi).json()
    assert path["stops"] and all(s["lon"] is not None for s in path["stops"])
    assert path["stops"] == sorted(path["stops"], key=lambda s: s["start"])


def test_a_batch_job_traces_every_case_since_a_time(
    client: TestClient, token_for: Tokens, loaded: list[int]
) -> None:
    epi = token_for("epi", "epidemiologist", "450681")
    started = client.post(
        "/api/v1/trace/batch", json={"since": "2021-01-01T00:00:00+08:00"}, headers=epi
    )
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["total"] == len(loaded) and job["kind"] == "trace.batch"
    seen = set()
    for _ in range(240):
        job = client.get(f"/api/v1/jobs/{job['id']}", headers=epi).json()
        seen.add(job["done"])
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert job["status"] == "done", job
    assert job["done"] == len(loaded) and job["result"]["contacts"] > 0
    listed = client.get("/api/v1/trace/contacts?limit=1", headers=epi).json()
    assert listed["total"] >= job["result"]["contacts"]
    assert client.get(f"/api/v1/trace/jobs/{job['id']}", headers=epi).json() == job

    naive = client.post("/api/v1/trace/batch", json={"since": "2021-01-01T00:00:00"}, headers=epi)
    assert naive.status_code == 422 and "需要带时区" in naive.json()["problems"][0]["message"]


def test_a_batch_on_a_missing_lake_is_refused_before_anything_is_queued(
    client: TestClient, token_for: Tokens
) -> None:
    epi = token_for("epi", "epidemiologist", "450681")
    refused = client.post(
        "/api/v1/trace/batch", json={"since": "2021-01-01T00:00:00+08:00"}, headers=epi
    )
    assert refused.status_code == 422 and "not a lake" in refused.text


def test_the_batch_command_reports_its_job(
    settings: Settings,
    loaded: list[int],
    make_user: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_user("epi", "epidemiologist", "450681")
    monkeypatch.setenv("CORDON_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("CORDON_FIELD_KEY", "22" * 32)
    monkeypatch.setenv("CORDON_LOOKUP_KEY", "33" * 32)
    result = runner.invoke(
        app,
        [
            "trace",
            "batch",
            "--since",
            "2021-12-01T00:00:00+08:00",
            "--user",
            "epi",
            "--data-dir",
            str(settings.data_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    job = json.loads(result.output[result.output.index("{") :])
    assert job["status"] == "done" and job["done"] == len(loaded)


def test_a_pushed_close_contact_gets_a_red_code(
    client: TestClient,
    token_for: Tokens,
    loaded: list[int],
    session_factory: sessionmaker[Session],
) -> None:
    from cordon.codes import service as codes_service

    epi = token_for("epi", "epidemiologist", "450681")
    chief = token_for("chief", "commander", "450681")
    case_id = loaded[0]
    client.post(f"/api/v1/trace/cases/{case_id}", headers=epi)
    pushed = client.post(
        "/api/v1/trace/push", json={"case_ids": [case_id], "tiers": [1]}, headers=chief
    )
    assert pushed.status_code == 201, pushed.text
    listed = client.get(
        f"/api/v1/trace/contacts?case_id={case_id}&kind=close&limit=1000", headers=epi
    ).json()["rows"]
    close = next(c for c in listed if c["tier"] == 1)
    exposed = datetime.fromisoformat(close["first_exposure"])
    with transaction(session_factory) as s:
        codes_service.recompute(
            session=s, actor=make_actor(), now=exposed + timedelta(days=1), full=True
        )
        code = codes_service.explain(
            session=s,
            actor=make_actor(),
            person_id=close["person_id"],
            now=exposed + timedelta(days=1),
        )
    assert code.current.colour == "red" and code.stored_colour == "red", code
