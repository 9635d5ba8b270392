"""The people API, including jurisdiction scoping (acceptance 3) and bad input (acceptance 4)."""

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.helpers import id_number, person

Tokens = Callable[..., dict[str, str]]


def test_create_view_edit_round_trip(client: TestClient, token_for: Tokens) -> None:
    admin = token_for("admin")
    created = client.post("/api/v1/people", json=person(), headers=admin)
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    edited = client.patch(f"/api/v1/people/{pid}", json={"address": "新址"}, headers=admin)
    assert edited.json()["address"] == "新址"
    seen = client.get(f"/api/v1/people/{pid}", headers=admin).json()
    assert seen["id_number"] == id_number() and seen["masked"] is False


def test_malformed_identity_number_names_field_and_part(
    client: TestClient, token_for: Tokens
) -> None:
    admin = token_for("admin")
    bad = id_number()[:-1] + ("1" if id_number()[-1] != "1" else "2")
    response = client.post("/api/v1/people", json=person(id_number=bad), headers=admin)
    assert response.status_code == 422
    problem = response.json()["problems"][0]
    assert problem["field"] == "id_number"
    assert "校验码" in problem["message"]  # the check digit, in the default language
    assert client.get("/api/v1/people", headers=admin).json()["total"] == 0


def test_unknown_division_code_is_refused(client: TestClient, token_for: Tokens) -> None:
    admin = token_for("admin")
    response = client.post(
        "/api/v1/people",
        json=person(grid_code=None, division_code="450681199999"),
        headers=admin,
    )
    assert response.status_code == 422
    assert response.json()["problems"] == [
        {"field": "division_code", "message": "行政区划代码 '450681199999' 不存在"}
    ]


def test_schema_errors_name_the_field(client: TestClient, token_for: Tokens) -> None:
    admin = token_for("admin")
    response = client.post("/api/v1/people", json={"name": "x"}, headers=admin)
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "id_number"


def test_fangcheng_user_cannot_list_view_or_change_dongxing_person(
    client: TestClient, token_for: Tokens
) -> None:
    admin = token_for("admin")
    pid = client.post("/api/v1/people", json=person(), headers=admin).json()["id"]
    fangcheng = token_for("fc", "epidemiologist", "450603")

    listing = client.get("/api/v1/people", headers=fangcheng)
    assert listing.status_code == 200 and listing.json()["total"] == 0
    by_number = client.get("/api/v1/people", params={"id_number": id_number()}, headers=fangcheng)
    assert by_number.json()["total"] == 0
    assert client.get(f"/api/v1/people/{pid}", headers=fangcheng).status_code == 404
    change = client.patch(f"/api/v1/people/{pid}", json={"name": "改"}, headers=fangcheng)
    assert change.status_code == 404
    assert client.get(f"/api/v1/people/{pid}", headers=admin).json()["name"] == "黄志明"

    denied = client.get("/api/v1/audit", params={"outcome": "denied"}, headers=admin).json()[
        "entries"
    ]
    assert {(e["username"], e["action"], e["entity_id"]) for e in denied} == {
        ("fc", "view", str(pid)),
        ("fc", "update", str(pid)),
    }
    assert all(e["client_addr"] == "testclient" for e in denied)


def test_roles_see_only_what_they_may(client: TestClient, token_for: Tokens) -> None:
    admin = token_for("admin")
    pid = client.post("/api/v1/people", json=person(), headers=admin).json()["id"]
    worker = token_for("gw", "grid_worker", "450681100")
    seen = client.get(f"/api/v1/people/{pid}", headers=worker).json()
    assert seen["id_number"].startswith("450681********") and seen["masked"] is True
    analyst = token_for("an", "analyst", "450681")
    assert client.get("/api/v1/people", headers=analyst).status_code == 403
    assert client.get("/api/v1/audit", headers=worker).status_code == 403


def test_api_needs_a_valid_token(client: TestClient) -> None:
    assert client.get("/api/v1/people").status_code == 401
    bad = client.get("/api/v1/people", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_export_is_masked_for_the_role_scoped_and_audited(
    client: TestClient, token_for: Tokens
) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    admin = token_for("admin")
    client.post("/api/v1/people", json=person(), headers=admin)
    client.post(
        "/api/v1/people",
        json=person(name="李娜", id_number=id_number(order=124), grid_code="450681101201001"),
        headers=admin,
    )
    worker = token_for("gw", "grid_worker", "450681100")
    response = client.get("/api/v1/people/export.xlsx", headers=worker)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("姓名", "身份证号")
    assert len(rows) == 2  # the 江平镇 person is outside the grid worker's town
    assert rows[1][0] == "黄志明" and rows[1][1] == id_number()[:6] + "********" + id_number()[-4:]
    assert rows[1][4] == "138****5678"
    exported = client.get("/api/v1/audit", params={"username": "gw"}, headers=admin).json()[
        "entries"
    ]
    assert [e["action"] for e in exported] == ["export"]
