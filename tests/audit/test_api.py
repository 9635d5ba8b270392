from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.helpers import person

Tokens = Callable[..., dict[str, str]]


def test_admin_browses_and_filters_the_log(client: TestClient, token_for: Tokens) -> None:
    admin = token_for("admin")
    epi = token_for("epi", "epidemiologist", "450681")
    pid = client.post("/api/v1/people", json=person(), headers=epi).json()["id"]
    client.get(f"/api/v1/people/{pid}", headers=epi)
    page = client.get("/api/v1/audit", params={"username": "epi"}, headers=admin).json()
    assert page["total"] == 2
    assert [e["action"] for e in page["entries"]] == ["view", "create"]  # newest first
    one = client.get(
        "/api/v1/audit", params={"entity_id": str(pid), "limit": 1}, headers=admin
    ).json()
    assert one["total"] == 2 and len(one["entries"]) == 1
    # A bare time is read as China Standard Time, not refused.
    since = client.get(
        "/api/v1/audit", params={"since": "2999-01-01T00:00:00"}, headers=admin
    ).json()
    assert since["total"] == 0


def test_bad_filters_are_422(client: TestClient, token_for: Tokens) -> None:
    admin = token_for("admin")
    response = client.get("/api/v1/audit", params={"outcome": "maybe"}, headers=admin)
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "outcome"
