"""Registering cases: the investigation clock, scoping, and the window tracing needs."""

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from cordon.cases.rules import investigation_clock
from tests.helpers import person

Tokens = Callable[..., dict[str, str]]


def test_the_clock_flags_overdue_investigations() -> None:
    reported = datetime(2021, 12, 20, 12, tzinfo=UTC)
    early = investigation_clock(
        reported_at=reported,
        core_done_at=None,
        full_done_at=None,
        now=datetime(2021, 12, 20, 15, tzinfo=UTC),
    )
    assert (early.core_overdue, early.full_overdue) == (False, False)
    late = investigation_clock(
        reported_at=reported,
        core_done_at=datetime(2021, 12, 20, 15, tzinfo=UTC),
        full_done_at=None,
        now=datetime(2021, 12, 21, 13, tzinfo=UTC),
    )
    assert (late.core_overdue, late.full_overdue) == (False, True)
    assert late.core_due == datetime(2021, 12, 20, 16, tzinfo=UTC)


def test_register_view_and_list_within_the_jurisdiction(
    client: TestClient, token_for: Tokens
) -> None:
    epi = token_for("epi", "epidemiologist", "450681")
    pid = client.post("/api/v1/people", json=person(), headers=epi).json()["id"]
    made = client.post(
        "/api/v1/cases",
        json={
            "person_id": pid,
            "kind": "confirmed",
            "onset_date": "2021-12-19",
            "found_by": "routine_test",
        },
        headers=epi,
    )
    assert made.status_code == 201, made.text
    case = made.json()
    assert case["division_code"] == "450681100001" and case["core_overdue"] is False
    assert client.get(f"/api/v1/cases/{case['id']}", headers=epi).json()["person_id"] == pid
    again = client.post(
        "/api/v1/cases",
        json={
            "person_id": pid,
            "kind": "confirmed",
            "onset_date": "2021-12-19",
            "found_by": "routine_test",
        },
        headers=epi,
    )
    assert again.status_code == 409
    fangcheng = token_for("fc", "epidemiologist", "450603")
    assert client.get(f"/api/v1/cases/{case['id']}", headers=fangcheng).status_code == 404
    assert client.get("/api/v1/cases", headers=fangcheng).json() == []


def test_a_case_needs_an_onset_or_a_sample(client: TestClient, token_for: Tokens) -> None:
    epi = token_for("epi", "epidemiologist", "450681")
    pid = client.post("/api/v1/people", json=person(), headers=epi).json()["id"]
    response = client.post(
        "/api/v1/cases",
        json={"person_id": pid, "kind": "asymptomatic", "found_by": "screening"},
        headers=epi,
    )
    assert response.status_code == 422
    assert "请填写发病日期或采样时间" in response.json()["message"]  # Chinese by default
    unknown = client.post(
        "/api/v1/cases",
        json={
            "person_id": 99999,
            "kind": "asymptomatic",
            "found_by": "screening",
            "sampled_at": "2021-12-20T08:00:00+08:00",
        },
        headers=epi,
    )
    assert unknown.status_code == 404


def test_investigation_transfers_and_one_plan_per_patient(
    client: TestClient, token_for: Tokens
) -> None:
    epi = token_for("epi", "epidemiologist", "450681")
    pid = client.post("/api/v1/people", json=person(), headers=epi).json()["id"]
    case = client.post(
        "/api/v1/cases",
        json={
            "person_id": pid,
            "kind": "confirmed",
            "onset_date": "2021-12-19",
            "found_by": "symptoms",
            "facility": "东兴市人民医院",
        },
        headers=epi,
    ).json()
    url = f"/api/v1/cases/{case['id']}"
    core = client.post(f"{url}/investigation", json={"stage": "core"}, headers=epi).json()
    assert core["core_overdue"] is False
    early = client.post(
        f"{url}/investigation",
        json={"stage": "full", "done_at": "2001-01-01T00:00:00+08:00"},
        headers=epi,
    )
    assert early.status_code == 422 and "done_at" in early.text

    moved = client.post(
        f"{url}/transfers",
        json={
            "to_facility": "防城港市定点医院",
            "at": "2021-12-21T10:00:00+08:00",
            "reason": "加重",
        },
        headers=epi,
    )
    assert moved.status_code == 201, moved.text
    assert moved.json()["from_facility"] == "东兴市人民医院"
    same = client.post(
        f"{url}/transfers",
        json={"to_facility": "防城港市定点医院", "at": "2021-12-22T10:00:00+08:00"},
        headers=epi,
    )
    assert same.status_code == 422 and "已在" in same.text
    assert client.get(url, headers=epi).json()["facility"] == "防城港市定点医院"
    assert len(client.get(f"{url}/transfers", headers=epi).json()) == 1

    assert client.get(f"{url}/plan", headers=epi).json() is None
    first = client.put(f"{url}/plan", json={"plan": "抗病毒治疗，监测血氧"}, headers=epi).json()
    second = client.put(f"{url}/plan", json={"plan": "加用激素"}, headers=epi).json()
    assert (first["version"], second["version"]) == (1, 2)
    assert client.get(f"{url}/plan", headers=epi).json()["plan"] == "加用激素"

    elsewhere = token_for("other", "epidemiologist", "450602")
    assert client.put(f"{url}/plan", json={"plan": "x"}, headers=elsewhere).status_code == 404


def test_a_registered_case_is_red(client: TestClient, token_for: Tokens) -> None:
    epi = token_for("epi", "epidemiologist", "450681")
    pid = client.post("/api/v1/people", json=person(), headers=epi).json()["id"]
    assert (
        client.get(f"/api/v1/codes/people/{pid}", headers=epi).json()["current"]["colour"]
        == "green"
    )
    client.post(
        "/api/v1/cases",
        json={
            "person_id": pid,
            "kind": "asymptomatic",
            "sampled_at": "2021-12-20T08:00:00+08:00",
            "found_by": "screening",
        },
        headers=epi,
    )
    code = client.get(f"/api/v1/codes/people/{pid}", headers=epi).json()["current"]
    assert code["colour"] == "red", code
