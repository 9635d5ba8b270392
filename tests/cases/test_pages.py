"""The new-case button and form: find the person by identity number or name, register the
case through cases.service, errors shown in the form."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from cordon.auth.rules import Role
from cordon.db import transaction
from cordon.people import service as people_service
from cordon.people.schemas import PersonIn
from cordon.security.crypto import FieldCipher
from tests.conftest import UserMaker
from tests.helpers import id_number, make_actor, person
from tests.page_helpers import login, page_token


def registered(factory: sessionmaker[Session], cipher: FieldCipher) -> int:
    with transaction(factory) as s:
        data = PersonIn.model_validate(person(name="黄志明"))
        return people_service.create_person(
            session=s, actor=make_actor(), cipher=cipher, data=data
        ).id


def test_new_case_from_the_list_by_identity_number(
    client: TestClient,
    make_user: UserMaker,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
) -> None:
    pid = registered(session_factory, cipher)
    make_user("epi", Role.EPIDEMIOLOGIST, "450681")
    login(client, "epi")
    assert 'href="/cases/new"' in client.get("/cases").text
    found = client.get("/cases/new", params={"q": id_number()})
    assert found.status_code == 200
    assert f'name="person_id" value="{pid}" checked' in found.text and "黄志明" in found.text
    by_name = client.get("/cases/new", params={"q": "志明"})
    assert f'value="{pid}"' in by_name.text
    created = client.post(
        "/cases/new",
        data={
            "csrf_token": page_token(client, "/cases/new"),
            "person_id": str(pid),
            "kind": "confirmed",
            "found_by": "symptoms",
            "onset_date": "2021-12-18",
            "sampled_at": "2021-12-20T09:30",
            "isolated_at": "",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    case_page = client.get(created.headers["location"])
    assert case_page.status_code == 200 and "黄志明" in case_page.text
    assert "2021-12-20 09:30" in case_page.text  # Beijing time as typed


def test_new_case_errors_are_shown_in_the_form(
    client: TestClient,
    make_user: UserMaker,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
) -> None:
    pid = registered(session_factory, cipher)
    make_user("epi", Role.EPIDEMIOLOGIST, "450681")
    login(client, "epi")
    token = page_token(client, "/cases/new")
    base = {"csrf_token": token, "kind": "confirmed", "found_by": "symptoms"}
    no_person = client.post("/cases/new", data={**base, "onset_date": "2021-12-18"})
    assert no_person.status_code == 422 and 'id="e-person_id"' in no_person.text
    assert "请从查找结果中选择人员" in no_person.text
    no_window = client.post("/cases/new", data={**base, "person_id": str(pid)})
    assert no_window.status_code == 422 and "请填写发病日期或采样时间" in no_window.text
    bad_time = client.post(
        "/cases/new", data={**base, "person_id": str(pid), "sampled_at": "yesterday"}
    )
    assert bad_time.status_code == 422 and 'id="e-sampled_at"' in bad_time.text
    wrong_number = client.get("/cases/new", params={"q": id_number()[:-1] + "0"})
    assert "校验位" in wrong_number.text
    ok = {**base, "person_id": str(pid), "onset_date": "2021-12-18"}
    assert client.post("/cases/new", data=ok, follow_redirects=False).status_code == 303
    again = client.post("/cases/new", data=ok)
    assert again.status_code == 422 and "已登记为病例" in again.text


def test_roles_that_may_not_register_cases_get_no_button(
    client: TestClient, make_user: UserMaker
) -> None:
    make_user("cmd", Role.COMMANDER, "450681")
    login(client, "cmd")
    assert 'href="/cases/new"' not in client.get("/cases").text
    assert client.get("/cases/new").status_code == 403
