"""Closing and receiving tubes stays inside the operator's jurisdiction, and closing is audited."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from cordon.auth.rules import Role
from tests.helpers import id_number, person
from tests.screening.fixtures import GRID, OTHER_GRID

DONGXING, JIANGPING = "450681100", "450681101"


def city_round(client: TestClient, admin: dict[str, str]) -> int:
    """A round over the whole city, one person and one tube in each of two towns."""
    numbers = {GRID: id_number(order=301), OTHER_GRID: id_number(order=303)}
    for grid, number in numbers.items():
        made = client.post(
            "/api/v1/people",
            json=person(id_number=number, grid_code=grid, phone=None),
            headers=admin,
        )
        assert made.status_code == 201, made.text
    created = client.post(
        "/api/v1/screening/rounds",
        json={
            "name": "全市第一轮",
            "division_code": "450681",
            "starts_at": "2021-12-21T08:00:00+08:00",
            "ends_at": "2021-12-22T08:00:00+08:00",
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    round_id = created.json()["id"]
    for grid, tube in ((GRID, "DX0001"), (OTHER_GRID, "JP0001")):
        site = client.post(
            f"/api/v1/screening/rounds/{round_id}/sites",
            json={"name": f"采样点{tube}", "division_code": grid[:12], "grids": [grid]},
            headers=admin,
        )
        assert site.status_code == 201, site.text
        scanned = client.post(
            f"/api/v1/screening/rounds/{round_id}/samples",
            json={"site_id": site.json()["id"], "tube": tube, "id_number": numbers[grid]},
            headers=admin,
        )
        assert scanned.status_code == 201, scanned.text
    return round_id


def audit(client: TestClient, admin: dict[str, str], **query: str) -> list[dict[str, object]]:
    found = client.get("/api/v1/audit", params=query, headers=admin)
    assert found.status_code == 200, found.text
    return list(found.json()["entries"])


def test_an_operator_closes_only_tubes_of_their_town_and_closing_is_audited(
    client: TestClient, token_for: Callable[..., dict[str, str]]
) -> None:
    admin = token_for("admin")
    round_id = city_round(client, admin)
    jiangping = token_for("jp", Role.SCREENING_OPERATOR, JIANGPING)
    close = f"/api/v1/screening/rounds/{round_id}/tubes/close"
    foreign = client.post(close, params={"tube": "DX0001"}, headers=jiangping)
    unknown = client.post(close, params={"tube": "NOPE01"}, headers=jiangping)
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json()["message"] == unknown.json()["message"].replace("NOPE01", "DX0001")
    denied = audit(client, admin, username="jp", outcome="denied")
    assert [(e["action"], e["entity"]) for e in denied] == [("close", "screening_tube")]
    own = client.post(close, params={"tube": "JP0001"}, headers=jiangping)
    assert own.status_code == 200 and own.json()["tube_closed"], own.text
    closed = audit(client, admin, username="jp", entity="screening_tube", outcome="ok")
    assert [e["action"] for e in closed] == ["close"]
    assert closed[0]["detail"] == {"round_id": round_id, "tube": "JP0001", "filled": 1}


def test_a_lab_operator_receives_only_tubes_of_their_town(
    client: TestClient, token_for: Callable[..., dict[str, str]]
) -> None:
    admin = token_for("admin")
    round_id = city_round(client, admin)
    jiangping = token_for("jp", Role.SCREENING_OPERATOR, JIANGPING)
    receipts = f"/api/v1/screening/rounds/{round_id}/receipts"
    mixed = client.post(
        receipts, json={"lab": "东兴市人民医院", "tubes": ["JP0001", "DX0001"]}, headers=jiangping
    )
    assert mixed.status_code == 422, mixed.text
    assert [p["message"] for p in mixed.json()["problems"]] == ["试管 DX0001 不存在"]
    denied = audit(client, admin, username="jp", outcome="denied")
    assert [(e["action"], e["detail"]["tubes"]) for e in denied] == [("receive", ["DX0001"])]
    # Nothing was received: the batch is all or none.
    own = client.post(
        receipts, json={"lab": "东兴市人民医院", "tubes": ["JP0001"]}, headers=jiangping
    )
    assert own.json() == {"received": 1, "already": 0}
    dongxing = token_for("dx", Role.SCREENING_OPERATOR, DONGXING)
    theirs = client.post(
        receipts, json={"lab": "东兴市人民医院", "tubes": ["DX0001"]}, headers=dongxing
    )
    assert theirs.json() == {"received": 1, "already": 0}
