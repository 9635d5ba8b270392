"""The health-code API: residents' lookup (masked, audited, rate-limited) with a signed token
that verifies offline; staff recompute, explain, counts, catalogue and what-if."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cordon.audit.models import AuditEntry
from cordon.codes import service, tokens
from cordon.codes.models import HealthCode
from cordon.config import Settings
from cordon.db import transaction, utcnow
from cordon.facts import service as facts
from cordon.facts.schemas import FactIn
from cordon.people import service as people_service
from cordon.people.schemas import PersonIn
from cordon.security.crypto import FieldCipher
from tests.helpers import id_number, make_actor, person, wait_for_job

NUMBER = id_number(order=151)


def _contact(factory: sessionmaker[Session], cipher: FieldCipher) -> int:
    with transaction(factory) as s:
        pid = people_service.create_person(
            session=s, actor=make_actor(), cipher=cipher, data=PersonIn(**person(id_number=NUMBER))
        ).id
        facts.record(
            session=s,
            actor=make_actor(),
            facts=[
                FactIn(
                    person_id=pid,
                    kind="contact",
                    at=utcnow(),
                    attrs={"contact_kind": "close", "case_id": 1},
                    source="trace:case:1",
                )
            ],
        )
    return pid


def _audit(factory: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    with transaction(factory) as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action == "code_lookup"))
        return [(r.entity_id, r.outcome, r.username) for r in rows]


def test_a_resident_looks_up_their_code_and_a_checkpoint_verifies_it(
    client: TestClient,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
    settings: Settings,
) -> None:
    pid = _contact(session_factory, cipher)
    answer = client.post("/api/v1/codes/lookup", json={"id_number": NUMBER, "name": "黄志明"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["name"], body["id_number"], body["colour"]) == (
        "黄*明",
        NUMBER[:6] + "********" + NUMBER[-4:],
        "red",
    )
    assert body["reasons"][0]["rule_id"] == "close-contact"
    assert body["conversion"]["colour"] == "yellow"
    # Offline: only the exported public key is needed.
    pem = client.get("/api/v1/codes/public-key").json()
    claims = tokens.verify(body["token"], tokens.load_public_key(pem))
    assert claims.colour == "red" and claims.name == "黄*明"
    checked = client.post("/api/v1/codes/verify", json={"token": body["token"]}).json()
    assert checked["valid"] and checked["colour"] == "red"
    altered = body["token"][:-2] + ("A" if body["token"][-2] != "A" else "B") + body["token"][-1]
    refused = client.post("/api/v1/codes/verify", json={"token": altered}).json()
    assert not refused["valid"] and "altered" in refused["message"]
    assert _audit(session_factory) == [(str(pid), "ok", "resident")]


def test_a_wrong_name_and_an_unknown_number_get_the_same_answer(
    client: TestClient, session_factory: sessionmaker[Session], cipher: FieldCipher
) -> None:
    _contact(session_factory, cipher)
    wrong_name = client.post("/api/v1/codes/lookup", json={"id_number": NUMBER, "name": "李四"})
    unknown = client.post(
        "/api/v1/codes/lookup", json={"id_number": id_number(order=999), "name": "黄志明"}
    )
    assert wrong_name.status_code == unknown.status_code == 404
    assert wrong_name.json() == unknown.json()
    assert "没有与该身份证号码和姓名相符的健康码" in wrong_name.json()["message"]
    assert _audit(session_factory) == [("-", "denied", "resident"), ("-", "denied", "resident")]
    malformed = client.post("/api/v1/codes/lookup", json={"id_number": "12345", "name": "x"})
    assert malformed.status_code == 422


def test_bursts_of_lookups_are_refused_with_retry_after(
    client: TestClient,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
    settings: Settings,
) -> None:
    _contact(session_factory, cipher)
    payload = {"id_number": NUMBER, "name": "黄志明"}
    answers = [
        client.post("/api/v1/codes/lookup", json=payload)
        for _ in range(settings.code_lookup_per_minute + 2)
    ]
    assert [a.status_code for a in answers[: settings.code_lookup_per_minute]] == [
        200
    ] * settings.code_lookup_per_minute
    assert answers[-1].status_code == 429
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 60
    assert "查询次数过多" in answers[-1].json()["message"]
    # Refused lookups change nothing: only the allowed ones are audited.
    assert len(_audit(session_factory)) == settings.code_lookup_per_minute


def test_staff_recompute_explain_and_count(
    client: TestClient,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
    token_for: Callable[..., dict[str, str]],
) -> None:
    pid = _contact(session_factory, cipher)
    commander = token_for("cmd", "commander", "450681")
    run = client.post("/api/v1/codes/recompute", headers=commander)
    assert run.status_code == 202, run.text  # a job, answered at once
    job = wait_for_job(client, run.json()["id"], commander)
    assert job["status"] == "done" and job["result"]["held"] == {"red": 1}
    explained = client.get(f"/api/v1/codes/people/{pid}", headers=commander).json()
    assert explained["current"]["colour"] == "red" and explained["history"][0]["colour_to"] == "red"
    towns = client.get("/api/v1/codes/counts", headers=commander).json()
    assert {t["code"]: t["red"] for t in towns}["450681100"] == 1
    analyst = token_for("ana", "analyst", "450681")
    assert client.post("/api/v1/codes/recompute", headers=analyst).status_code == 403
    other = token_for("far", "commander", "450681101")
    assert client.get(f"/api/v1/codes/people/{pid}", headers=other).status_code == 404
    catalogue = client.get("/api/v1/codes/catalogue", headers=analyst).json()
    assert "contact" in catalogue["facts"]
    with transaction(session_factory) as s:
        assert s.get(HealthCode, pid) is not None


def test_whatif_refuses_a_bad_draft_and_names_the_rule(
    client: TestClient,
    token_for: Callable[..., dict[str, str]],
    session_factory: sessionmaker[Session],
) -> None:
    headers = {**token_for("cmd", "commander", "450681"), "Content-Type": "text/plain"}
    draft = service.packs.pack_text("e9-2022-06").replace("fact: arrival", "fact: arrivals", 1)
    refused = client.post("/api/v1/codes/whatif", content=draft.encode(), headers=headers)
    assert refused.status_code == 422
    problem = refused.json()["problems"][0]
    assert (
        problem["field"].endswith(".fact") and "规则 high-risk-area-arrival" in problem["message"]
    )
    good = service.packs.pack_text("e9-2022-06")
    report = client.post("/api/v1/codes/whatif", content=good.encode(), headers=headers)
    assert report.status_code == 200 and report.json()["draft"] == "e9-2022-06"
    with transaction(session_factory) as s:
        assert s.scalars(select(HealthCode)).all() == []
