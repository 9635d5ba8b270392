"""People pages: search, masked view, jurisdiction, forms with field errors, import report."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from cordon.audit import service as audit_service
from cordon.db import transaction
from cordon.facts import service as facts_service
from cordon.facts.schemas import FactIn
from cordon.people import service as people_service
from cordon.people.schemas import PersonIn
from cordon.security.crypto import FieldCipher
from tests.conftest import UserMaker
from tests.helpers import id_number, make_actor, person, xlsx
from tests.page_helpers import login, page_token
from tests.trace.stored_contacts import T0, store_contacts

Add = Callable[..., int]


@pytest.fixture
def add_person(session_factory: sessionmaker[Session], cipher: FieldCipher) -> Add:
    """Register a person as the province admin; returns the id."""

    def add(**overrides: object) -> int:
        with transaction(session_factory) as s:
            out = people_service.create_person(
                session=s, actor=make_actor(), cipher=cipher, data=PersonIn(**person(**overrides))
            )
        return out.id

    return add


def count_people(session_factory: sessionmaker[Session], cipher: FieldCipher) -> int:
    with transaction(session_factory) as s:
        total, _ = people_service.search_people(session=s, actor=make_actor(), cipher=cipher)
    return total


def test_search_by_name_masked_number_and_grid(
    client: TestClient, make_user: UserMaker, add_person: Add
) -> None:
    add_person(name="黄志明", id_number=id_number(order=123))
    add_person(name="阮氏兰", id_number=id_number(order=456), grid_code="450681101201001")
    make_user("wang")
    login(client, "wang")
    by_name = client.get("/people", params={"name": "志明"}).text
    assert "黄志明" in by_name and "阮氏兰" not in by_name
    last4 = id_number(order=456)[-4:]
    masked = client.get("/people", params={"id_number": f"450681********{last4}"}).text
    assert "阮氏兰" in masked and "黄志明" not in masked
    by_grid = client.get("/people", params={"grid_code": "450681101201001"}).text
    assert "阮氏兰" in by_grid and "黄志明" not in by_grid
    assert "共 1 条" in by_grid


def test_a_masked_number_without_digits_is_a_field_error(
    client: TestClient, make_user: UserMaker
) -> None:
    make_user("wang")
    login(client, "wang")
    response = client.get("/people", params={"id_number": "********"})
    assert response.status_code == 422
    assert 'id="f-id_number"' in response.text and 'aria-invalid="true"' in response.text


def test_list_pages_through_results(
    client: TestClient, make_user: UserMaker, add_person: Add
) -> None:
    for order in range(1, 53):  # more than one page of 50
        add_person(name=f"测试{order}", id_number=id_number(order=order))
    make_user("wang")
    login(client, "wang")
    first = client.get("/people").text
    assert "第 1–50 条，共 52 条" in first and 'href="/people?page=2"' in first
    second = client.get("/people?page=2").text
    assert "第 51–52 条，共 52 条" in second and "测试52" in second and "测试1<" not in second


def test_grid_worker_sees_identity_masked(
    client: TestClient, make_user: UserMaker, add_person: Add
) -> None:
    pid = add_person()
    make_user("gw", "grid_worker", "450681100")
    login(client, "gw")
    page = client.get(f"/people/{pid}").text
    assert id_number() not in page and "13812345678" not in page
    assert f"{id_number()[:6]}********{id_number()[-4:]}" in page
    assert "已脱敏" in page
    make_user("boss", "commander", "450681")
    login(client, "boss")
    assert id_number() in client.get(f"/people/{pid}").text


def test_out_of_jurisdiction_person_is_a_404_page_and_audited(
    client: TestClient,
    make_user: UserMaker,
    add_person: Add,
    session_factory: sessionmaker[Session],
) -> None:
    pid = add_person()
    make_user("fc", "epidemiologist", "450603")
    login(client, "fc")
    response = client.get(f"/people/{pid}")
    assert response.status_code == 404
    assert "未找到" in response.text and "黄志明" not in response.text
    assert client.get(f"/people/{pid}/edit").status_code == 404
    change = client.post(
        f"/people/{pid}/edit", data={"name": "改", "csrf_token": page_token(client)}
    )
    assert change.status_code == 404
    with transaction(session_factory) as s:
        _total, entries = audit_service.browse(session=s, outcome="denied")
    assert sorted((e.username, e.action, e.entity_id) for e in entries) == [
        ("fc", "update", str(pid)),
        ("fc", "view", str(pid)),
        ("fc", "view", str(pid)),
    ]
    assert "没有找到人员" in client.get("/people").text  # nor does the list show them


def test_create_person_through_the_form(client: TestClient, make_user: UserMaker) -> None:
    make_user("wang")
    login(client, "wang")
    form = {**person(), "sex": "", "birth_date": "", "csrf_token": page_token(client)}
    response = client.post("/people/new", data=form, follow_redirects=False)
    assert response.status_code == 303
    shown = client.get(response.headers["location"]).text
    assert "已保存" in shown and "黄志明" in shown and id_number() in shown


def test_bad_form_is_shown_again_with_messages_next_to_fields(
    client: TestClient,
    make_user: UserMaker,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
) -> None:
    make_user("wang")
    login(client, "wang")
    bad_number = id_number()[:-1] + ("1" if id_number()[-1] != "1" else "2")
    form = {
        **person(id_number=bad_number, phone="123"),
        "csrf_token": page_token(client),
    }
    response = client.post("/people/new", data=form)
    assert response.status_code == 422
    page = response.text
    id_field = re.search(
        r'<div class="field has-error">\s*<label for="f-id_number">.*?</div>', page, re.S
    )
    assert id_field is not None and "校验位为" in id_field.group(0)
    phone_field = re.search(
        r'<div class="field has-error">\s*<label for="f-phone">.*?</div>', page, re.S
    )
    assert phone_field is not None
    assert f'value="{bad_number}"' in page  # what the user typed is kept
    assert count_people(session_factory, cipher) == 0


def test_edit_changes_what_was_changed(
    client: TestClient, make_user: UserMaker, add_person: Add
) -> None:
    pid = add_person()
    make_user("wang")
    login(client, "wang")
    form_page = client.get(f"/people/{pid}/edit").text
    originals = dict(re.findall(r'name="orig_(\w+)" value="([^"]*)"', form_page))
    assert originals["grid_code"] == "450681100001001"
    data = {
        **originals,
        **{f"orig_{k}": v for k, v in originals.items()},
        "address": "东兴镇新址8号",
        "grid_code": "450681101201001",
        "csrf_token": page_token(client),
    }
    response = client.post(f"/people/{pid}/edit", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    page = client.get(f"/people/{pid}").text
    assert "东兴镇新址8号" in page and "450681101201001" in page and "450681101201" in page


def test_masked_phone_is_kept_when_a_grid_worker_edits(
    client: TestClient, make_user: UserMaker, add_person: Add
) -> None:
    pid = add_person()
    make_user("gw", "grid_worker", "450681")
    login(client, "gw")
    form_page = client.get(f"/people/{pid}/edit").text
    assert "138****5678" in form_page and 'value="13812345678"' not in form_page
    originals = dict(re.findall(r'name="orig_(\w+)" value="([^"]*)"', form_page))
    data = {
        **originals,
        **{f"orig_{k}": v for k, v in originals.items()},
        "name": "黄志强",
        "csrf_token": page_token(client),
    }
    assert client.post(f"/people/{pid}/edit", data=data).status_code == 200
    make_user("boss", "commander", "450681")
    login(client, "boss")
    page = client.get(f"/people/{pid}").text
    assert "黄志强" in page and "13812345678" in page


def test_import_with_a_bad_row_shows_the_rows_and_writes_nothing(
    client: TestClient,
    make_user: UserMaker,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
) -> None:
    make_user("wang")
    login(client, "wang")
    good = ["黄志明", id_number(order=123), "450681100001001"]
    bad = ["阮氏兰", "450681199001011230", "450681100001001"]
    book = xlsx([["姓名", "身份证号", "网格编码"], good, bad])
    files = {"file": ("名单.xlsx", book, "application/octet-stream")}
    token = page_token(client, "/people/import")
    refused = client.post("/people/import", data={"csrf_token": token}, files=files)
    assert refused.status_code == 422
    table = re.search(r'<table class="data" id="row-errors">.*?</table>', refused.text, re.S)
    assert table is not None
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", table.group(0))
    assert cells[:2] == ["3", "身份证号"] and "校验码" in cells[2]
    assert "未导入任何数据" in refused.text
    assert count_people(session_factory, cipher) == 0

    partial = client.post(
        "/people/import", data={"csrf_token": token, "valid_rows": "1"}, files=files
    )
    assert partial.status_code == 200
    assert "已导入：1" in partial.text
    assert count_people(session_factory, cipher) == 1


def test_import_refuses_unreadable_files_with_a_message(
    client: TestClient, make_user: UserMaker
) -> None:
    make_user("wang")
    login(client, "wang")
    token = page_token(client, "/people/import")
    wrong_type = client.post(
        "/people/import", data={"csrf_token": token}, files={"file": ("a.pdf", b"%PDF", "x/y")}
    )
    assert wrong_type.status_code == 422 and "请使用 .xlsx 或 .csv 文件" in wrong_type.text
    no_columns = client.post(
        "/people/import",
        data={"csrf_token": token},
        files={"file": ("a.csv", b"foo,bar\n1,2\n", "text/csv")},
    )
    assert no_columns.status_code == 422 and "缺少该列" in no_columns.text
    nothing = client.post("/people/import", data={"csrf_token": token})
    assert nothing.status_code == 422 and "请选择文件" in nothing.text


def test_roles_without_edit_rights_cannot_open_the_forms(
    client: TestClient, make_user: UserMaker
) -> None:
    make_user("boss", "commander", "450681")
    login(client, "boss")
    assert client.get("/people/new").status_code == 403
    assert client.get("/people/import").status_code == 403
    assert "登记人员" not in client.get("/people").text


def test_the_list_exports_what_it_shows(
    client: TestClient, make_user: UserMaker, add_person: Add
) -> None:
    add_person()
    add_person(name="李娜", id_number=id_number(order=124))
    make_user("wang")
    login(client, "wang")
    page = client.get("/people", params={"name": "李"}).text
    link = re.search(r'id="export-xlsx" href="([^"]+)"', page)
    assert link is not None
    exported = client.get(link.group(1).replace("&amp;", "&"))
    assert exported.status_code == 200
    from io import BytesIO

    from openpyxl import load_workbook

    rows = list(load_workbook(BytesIO(exported.content)).worksheets[0].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["李娜"]


def test_the_contacts_section_shows_each_contact_s_tier_score_and_exposure(
    client: TestClient,
    make_user: UserMaker,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
) -> None:
    with transaction(session_factory) as s:
        traced = store_contacts(s, cipher)
        facts_service.record(
            session=s,
            actor=make_actor(),
            facts=[
                FactIn(
                    person_id=traced.people[name],
                    kind="contact",
                    at=T0,
                    attrs={"contact_kind": kind, "case_id": traced.case_id, "pack": "x"},
                    source=f"trace:case:{traced.case_id}",
                )
                for name, kind in (("李一", "close"), ("陈五", "companion"))
            ],
        )
    make_user("epi", "epidemiologist", "450681")
    login(client, "epi")

    def section(name: str) -> str:
        page = client.get(f"/people/{traced.people[name]}").text
        found = page[page.index('id="person-contacts"') :]
        return found[: found.index("</section>")]

    close = section("李一")
    assert "1 级" in close and "30.0%" in close and "2 天 · 4.0 小时" in close
    companion = section("陈五")
    assert "黄码并检测" in companion and "50.0%" in companion and "1 级" not in companion
