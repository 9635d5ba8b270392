"""The screening API as a sampling site, a lab, a grid worker and a resident use it."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from cordon.auth.rules import Role
from tests.helpers import id_number, person
from tests.screening.fixtures import GRID, OTHER_GRID

ROUND = {
    "name": "第一轮",
    "division_code": "450681100001",
    "starts_at": "2021-12-21T08:00:00+08:00",
    "ends_at": "2021-12-22T08:00:00+08:00",
    "pooling": {"other": 3},
}


def setup_round(
    client: TestClient, headers: dict[str, str], people: int = 7
) -> tuple[int, int, list[str]]:
    numbers = [id_number(order=200 + i) for i in range(people)]
    for i, number in enumerate(numbers):
        answer = client.post(
            "/api/v1/people",
            json=person(name=f"居民{i}", id_number=number, phone=None),
            headers=headers,
        )
        assert answer.status_code == 201, answer.text
    created = client.post("/api/v1/screening/rounds", json=ROUND, headers=headers)
    assert created.status_code == 201, created.text
    round_id = created.json()["id"]
    site = client.post(
        f"/api/v1/screening/rounds/{round_id}/sites",
        json={"name": "东郊采样点", "division_code": "450681100001", "tables": 1, "grids": [GRID]},
        headers=headers,
    )
    assert site.status_code == 201, site.text
    return round_id, site.json()["id"], numbers


def test_sampling_results_and_follow_up_over_http(
    client: TestClient, token_for: Callable[..., dict[str, str]]
) -> None:
    admin = token_for("admin")
    round_id, site_id, numbers = setup_round(client, admin)
    plan = client.get(f"/api/v1/screening/rounds/{round_id}/plan", headers=admin).json()
    assert plan["sites"][0]["expected"] == 7 and not plan["sites"][0]["overloaded"]
    operator = token_for("op", Role.SCREENING_OPERATOR, "450681")
    for i, number in enumerate(numbers[:6]):
        answer = client.post(
            f"/api/v1/screening/rounds/{round_id}/samples",
            json={"site_id": site_id, "tube": f"P{i // 3:04d}", "id_number": number},
            headers=operator,
        )
        assert answer.status_code == 201, answer.text
    assert answer.json()["tube_closed"] is True
    over = client.post(
        f"/api/v1/screening/rounds/{round_id}/samples",
        json={"site_id": site_id, "tube": "P0001", "id_number": numbers[6]},
        headers=operator,
    )
    assert over.status_code == 409 and "P0001" in over.json()["message"]
    again = client.post(
        f"/api/v1/screening/rounds/{round_id}/samples",
        json={"site_id": site_id, "tube": "P0009", "id_number": numbers[0]},
        headers=operator,
    )
    assert again.status_code == 409 and "居民0" in again.json()["message"]
    receipt = client.post(
        f"/api/v1/screening/rounds/{round_id}/receipts",
        json={"lab": "东兴市人民医院", "tubes": ["P0000", "P0001", "NOPE1"]},
        headers=operator,
    )
    assert receipt.status_code == 422 and "NOPE1" in receipt.text
    csv = "管码,检测结果\nP0000,阴性\nP0001,阳性\n".encode()
    for _ in range(2):
        imported = client.post(
            f"/api/v1/screening/rounds/{round_id}/results?lab=东兴",
            files={"file": ("lab.csv", csv, "text/csv")},
            headers=operator,
        )
        assert imported.status_code == 200, imported.text
    assert imported.json()["changed"] == 0 and imported.json()["unchanged"] == 2
    bad = client.post(
        f"/api/v1/screening/rounds/{round_id}/results",
        files={"file": ("lab.csv", "管码,检测结果\nP0000,阴性\nZZZZ9,阳性\n".encode(), "text/csv")},
        headers=operator,
    )
    assert bad.status_code == 422
    assert bad.json()["problems"] == [{"field": "tube", "message": "试管 ZZZZ9 不存在", "row": 3}]
    worker = token_for("grid", Role.GRID_WORKER, "450681100001")
    tasks = client.get(f"/api/v1/screening/tasks?grid_code={GRID}", headers=worker).json()
    assert sorted((t["kind"], t["name"]) for t in tasks) == sorted(
        (k, f"居民{i}") for k in ("isolate", "retest") for i in (3, 4, 5)
    )
    missing = client.get(f"/api/v1/screening/rounds/{round_id}/missing", headers=worker).json()
    assert [m["name"] for m in missing] == ["居民6"] and "*" in missing[0]["id_number"]
    export = client.get(
        f"/api/v1/screening/rounds/{round_id}/missing.xlsx?grid_code={GRID}", headers=worker
    )
    assert export.status_code == 200 and export.content[:2] == b"PK"
    progress = client.get(f"/api/v1/screening/rounds/{round_id}/progress", headers=worker).json()
    assert (progress["expected"], progress["sampled"], progress["resulted"]) == (7, 6, 6)
    elsewhere = token_for("far", Role.GRID_WORKER, "450681101201")
    assert client.get(f"/api/v1/screening/tasks?grid_code={GRID}", headers=elsewhere).json() == []
    assert client.get(f"/api/v1/screening/rounds/{round_id}", headers=elsewhere).status_code == 404
    forbidden = client.post(
        f"/api/v1/screening/rounds/{round_id}/samples",
        json={"site_id": site_id, "tube": "P0100", "id_number": numbers[6]},
        headers=worker,
    )
    assert forbidden.status_code == 403


def test_a_site_cannot_take_a_grid_twice_or_outside_the_round(
    client: TestClient, token_for: Callable[..., dict[str, str]]
) -> None:
    admin = token_for("admin")
    round_id, _site, _numbers = setup_round(client, admin, people=1)
    answer = client.post(
        f"/api/v1/screening/rounds/{round_id}/sites",
        json={"name": "second", "division_code": "450681100001", "grids": [GRID, OTHER_GRID]},
        headers=admin,
    )
    assert answer.status_code == 422
    messages = [p["message"] for p in answer.json()["problems"]]
    assert messages == [
        f"网格 {GRID} 已由 东郊采样点 负责",
        f"网格 {OTHER_GRID} 不在本轮筛查范围内",
    ]


def test_the_planner_matches_the_protocol_numbers(
    client: TestClient, token_for: Callable[..., dict[str, str]]
) -> None:
    headers = token_for("analyst", Role.ANALYST, "450681")
    out = client.post(
        "/api/v1/screening/planner",
        json={"prevalence": 0.001, "max_pool": 50, "people": 200_000, "lab_per_day": 5_000},
        headers=headers,
    ).json()
    designs = {d["name"]: d for d in out["designs"]}
    assert designs["dorfman_optimum"]["pool"] == 32
    assert round(designs["dorfman_optimum"]["tests_per_person"], 3) == 0.063
    assert round(designs["fixed_10"]["tests_per_person"], 3) == 0.110
    assert round(designs["fixed_20"]["tests_per_person"], 3) == 0.070
    assert round(out["entropy"], 4) == 0.0114
    assert designs["binary_splitting"]["tests_per_person"] < 0.063
    assert out["lab_days"] == -(-out["tests_needed"] // 5_000)


def test_the_planner_answers_tiny_prevalences_and_refuses_impossible_ones(
    client: TestClient, token_for: Callable[..., dict[str, str]]
) -> None:
    headers = token_for("analyst", Role.ANALYST, "450681")
    tiny = client.post("/api/v1/screening/planner", json={"prevalence": 1e-17}, headers=headers)
    assert tiny.status_code == 200, tiny.text
    assert tiny.json()["recommended"]["pool"] == 20
    for impossible in (0, -0.1, 0.5, 1, 2, 1e308):
        answer = client.post(
            "/api/v1/screening/planner", json={"prevalence": impossible}, headers=headers
        )
        assert answer.status_code == 422, (impossible, answer.text)
        assert [p["field"] for p in answer.json()["problems"]] == ["prevalence"]


def test_a_resident_sees_their_own_results_masked_and_limited(
    client: TestClient, token_for: Callable[..., dict[str, str]]
) -> None:
    admin = token_for("admin")
    round_id, site_id, numbers = setup_round(client, admin, people=1)
    client.post(
        f"/api/v1/screening/rounds/{round_id}/samples",
        json={"site_id": site_id, "tube": "S0001", "id_number": numbers[0]},
        headers=admin,
    )
    mine = client.post("/api/v1/screening/lookup", json={"id_number": numbers[0], "name": "居民0"})
    body = mine.json()
    assert body["found"] and body["name"] == "居*0" and numbers[0] not in mine.text
    assert [r["result"] for r in body["results"]] == ["pending"]
    wrong = client.post("/api/v1/screening/lookup", json={"id_number": numbers[0], "name": "别人"})
    assert wrong.json() == {"found": False, "name": "", "id_number": "", "results": []}
    codes = [
        client.post(
            "/api/v1/screening/lookup", json={"id_number": numbers[0], "name": "x"}
        ).status_code
        for _ in range(5)
    ]
    assert codes[-1] == 429
