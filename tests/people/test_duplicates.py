"""A registered identity number gets one answer wherever the person lives: creating or
importing it does not tell a user that it is registered outside their jurisdiction, the
attempt is audited, and no duplicate person is made."""

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.helpers import id_number, person, xlsx
from tests.page_helpers import login, page_token

Tokens = Callable[..., dict[str, str]]
DONGXING_GRID, JIANGPING_GRID = "450681100001001", "450681101201001"
HEADER = ["姓名", "身份证号", "网格编码"]


def setup(client: TestClient, token_for: Tokens) -> tuple[dict[str, str], ...]:
    admin = token_for("admin")
    made = client.post("/api/v1/people", json=person(id_number=id_number(order=11)), headers=admin)
    assert made.status_code == 201, made.text  # lives in Dongxing
    dongxing = token_for("dx", "grid_worker", "450681100")
    jiangping = token_for("jp", "grid_worker", "450681101")
    return admin, dongxing, jiangping


def denied(client: TestClient, admin: dict[str, str], user: str) -> list[dict[str, object]]:
    query = {"username": user, "outcome": "denied"}
    return list(client.get("/api/v1/audit", params=query, headers=admin).json()["entries"])


def test_creating_a_registered_number_answers_the_same_inside_and_outside(
    client: TestClient, token_for: Tokens
) -> None:
    admin, dongxing, jiangping = setup(client, token_for)
    inside = client.post(
        "/api/v1/people",
        json=person(id_number=id_number(order=11), grid_code=DONGXING_GRID),
        headers=dongxing,
    )
    outside = client.post(
        "/api/v1/people",
        json=person(id_number=id_number(order=11), grid_code=JIANGPING_GRID),
        headers=jiangping,
    )
    assert inside.status_code == outside.status_code == 422
    assert inside.json() == outside.json()
    assert "registered" not in outside.json()["message"].replace("cannot be registered", "")
    assert [p["field"] for p in outside.json()["problems"]] == ["id_number"]
    assert denied(client, admin, "dx") == []
    [entry] = denied(client, admin, "jp")
    assert (entry["action"], entry["entity"]) == ("create", "person")
    assert client.get("/api/v1/people", headers=admin).json()["total"] == 1


def test_importing_a_registered_number_answers_the_same_inside_and_outside(
    client: TestClient, token_for: Tokens
) -> None:
    admin, dongxing, jiangping = setup(client, token_for)
    answers = []
    for headers, grid in ((dongxing, DONGXING_GRID), (jiangping, JIANGPING_GRID)):
        data = xlsx([HEADER, ["黄志明", id_number(order=11), grid]])
        answer = client.post(
            "/api/v1/people/import",
            files={"file": ("p.xlsx", data, "application/octet-stream")},
            headers=headers,
        )
        assert answer.status_code == 422, answer.text
        answers.append(answer.json())
    assert answers[0] == answers[1]
    assert answers[1]["errors"][0]["field"] == "id_number"
    assert denied(client, admin, "dx") == []
    [entry] = denied(client, admin, "jp")
    assert (entry["action"], entry["entity"], entry["detail"]["row"]) == ("import", "person", 2)
    # In valid-rows mode the registered row is skipped, the new one written, the attempt audited.
    data = xlsx(
        [
            HEADER,
            ["黄志明", id_number(order=11), JIANGPING_GRID],
            ["李娜", id_number(order=12), JIANGPING_GRID],
        ]
    )
    partial = client.post(
        "/api/v1/people/import",
        files={"file": ("p.xlsx", data, "application/octet-stream")},
        params={"mode": "valid_rows"},
        headers=jiangping,
    )
    assert partial.status_code == 200, partial.text
    assert (partial.json()["written"], partial.json()["skipped"]) == (1, 1)
    assert len(denied(client, admin, "jp")) == 2
    assert client.get("/api/v1/people", headers=admin).json()["total"] == 2


def test_the_form_answers_a_registered_number_outside_alike_and_audits_it(
    client: TestClient, token_for: Tokens, make_user: Callable[..., str]
) -> None:
    admin = token_for("admin")
    number = id_number(order=11)
    made = client.post("/api/v1/people", json=person(id_number=number), headers=admin)
    assert made.status_code == 201, made.text
    make_user("jp", "grid_worker", "450681101")
    login(client, "jp")
    form = {
        **person(id_number=number, grid_code=JIANGPING_GRID, phone=""),
        "csrf_token": page_token(client),
    }
    response = client.post("/people/new", data=form)
    assert response.status_code == 422
    assert "该身份证号无法在此登记，请先查询此人" in response.text
    [entry] = denied(client, admin, "jp")
    assert (entry["action"], entry["entity"]) == ("create", "person")
