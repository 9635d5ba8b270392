"""No English in the Chinese interface: every page an administrator can open, with data on it
(people, a traced case and its contacts, codes, a screening round with a swab), the error
pages and the answers to bad input, read as a user reads them (tests/web/english.py)."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from cordon.codes import packs
from cordon.codes.packs import CATALOGUE
from cordon.db import transaction
from cordon.security.crypto import FieldCipher
from tests.conftest import UserMaker
from tests.helpers import wait_for_job, xlsx
from tests.page_helpers import csrf_token, login
from tests.screening.fixtures import scan, village
from tests.trace.test_stored import city, loaded  # noqa: F401  (fixtures)
from tests.web.english import ALLOWED, english_on_page, english_words

ADMIN = "chief"
# User names (ours, the fixtures' "tester") and the client address are data, not interface text.
PAGE_ALLOWED = ALLOWED | {ADMIN, "tester", "testclient"}


@pytest.fixture
def seeded(
    client: TestClient,
    make_user: UserMaker,
    loaded: list[int],  # noqa: F811
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
) -> dict[str, Any]:
    """An administrator logged in, a traced case with contacts, codes, a round with a swab."""
    make_user(ADMIN, "admin", "45")
    assert login(client, ADMIN).status_code == 303
    case_id = loaded[0]
    page = client.get(f"/cases/{case_id}")
    ran = client.post(
        f"/trace/cases/{case_id}/run",
        data={"csrf_token": csrf_token(page.text), "pack": "guangxi-2021-12"},
        follow_redirects=False,
    )
    assert ran.status_code == 303
    traced = int(ran.headers["location"].split("job=")[1].split("#")[0])
    assert wait_for_job(client, traced)["status"] == "done"  # its contacts are listed below
    codes = client.get("/codes")
    done = client.post("/codes/recompute", data={"csrf_token": csrf_token(codes.text)})
    assert done.status_code in (200, 303)
    with transaction(session_factory) as s:
        screened = village(s, cipher, people=4)
        scan(s, cipher, screened, screened.people[0], "T0001")
    listing = client.get("/trace/contacts").text
    person_id = screened.people[0]
    assert "/people/" in listing
    top = client.get("/api/v1/trace/contacts?limit=1").json()["rows"][0]
    return {
        "contact": top["person_id"],  # the riskiest contact: tier and score on their page
        "case": case_id,
        "round": screened.round_id,
        "site": screened.site_id,
        "person": person_id,
        "swabbed": screened.numbers[screened.people[0]],
    }


def page_paths(ids: dict[str, Any]) -> list[str]:
    case, round_, person = ids["case"], ids["round"], ids["person"]
    return [
        "/",
        "/people",
        "/people?q=黄",
        "/people/new",
        "/people/import",
        f"/people/{person}",
        f"/people/{person}/edit",
        "/cases",
        f"/cases/{case}",
        f"/trace/cases/{case}/panel",
        "/trace/contacts",
        f"/trace/contacts?case_id={case}&kind=close",
        "/trace/contacts?kind=companion",
        "/trace/contacts?kind=all&tier=1",
        f"/people/{ids['contact']}",
        "/trace/network",
        f"/trace/network?case_id={case}",
        "/codes",
        "/codes/whatif",
        "/codes/lookup",
        "/codes/check",
        f"/codes/people/{person}",
        "/screening",
        f"/screening/rounds/{round_}",
        f"/screening/rounds/{round_}/desk",
        f"/screening/rounds/{round_}/results",
        "/screening/tasks",
        "/screening/planner",
        "/screening/planner?prevalence=2&people=x",
        "/audit",
        "/no/such/page",
        "/cases/999999",
        "/people?q=450681199001011239",
    ]


def assert_chinese(
    where: str, html: str, found: dict[str, list[str]], names: frozenset[str] = frozenset()
) -> None:
    """Record the English on a page; ``names`` are identifiers the page may quote."""
    words = english_on_page(html, PAGE_ALLOWED | names)
    if words:
        found[where] = words


def test_every_page_and_error_is_chinese(client: TestClient, seeded: dict[str, Any]) -> None:
    found: dict[str, list[str]] = {}
    for path in page_paths(seeded):
        answer = client.get(path)
        assert answer.status_code < 500, path
        assert_chinese(f"GET {path} ({answer.status_code})", answer.text, found)

    token = csrf_token(client.get("/people/new").text)
    posts = {
        "/people/new": {"name": "", "id_number": "450681199001011230", "csrf_token": token},
        "/codes/whatif": {"draft": "rules: [", "csrf_token": token},
        "/codes/check": {"token": "not-a-token", "csrf_token": token},
        f"/screening/rounds/{seeded['round']}/desk": {
            "tube": "",
            "id_number": "123",
            "csrf_token": token,
        },
        "/screening": {"name": "", "division_code": "99", "csrf_token": token},
    }
    for path, form in posts.items():
        answer = client.post(path, data=form)
        assert answer.status_code < 500, (path, answer.text[:300])
        assert_chinese(f"POST {path} ({answer.status_code})", answer.text, found)
    draft = packs.pack_text("e9-2022-06").replace("fact: arrival", "fact: arrivals", 1)
    answer = client.post("/codes/whatif", data={"draft": draft, "csrf_token": token})
    assert answer.status_code == 422
    # The fact kinds a pack may name are identifiers written in the YAML, listed as they are.
    kinds = frozenset(w for kind in CATALOGUE for w in kind.split("_"))
    assert_chinese("POST /codes/whatif, an unknown fact", answer.text, found, kinds)
    # The sampling desk refusing a second swab of the same person (who, where, when, tube).
    answer = client.post(
        f"/screening/rounds/{seeded['round']}/desk",
        data={
            "csrf_token": token,
            "site_id": str(seeded["site"]),
            "id_number": seeded["swabbed"],
            "tube": "T0002",
        },
    )
    assert answer.status_code == 409, answer.text[:300]
    assert_chinese(f"POST desk ({answer.status_code})", answer.text, found)
    bad_rows = xlsx([["姓名", "身份证号"], ["", "450681199001011230"], ["黄", "12"]])
    imported = client.post(
        "/people/import",
        data={"csrf_token": token},
        files={"file": ("people.xlsx", bad_rows, "application/octet-stream")},
    )
    assert_chinese(f"POST /people/import ({imported.status_code})", imported.text, found)
    lab = (
        b"\xe7\xae\xa1\xe7\xa0\x81,\xe6\xa3\x80\xe6\xb5\x8b\xe7\xbb\x93\xe6\x9e\x9c\nT9999,maybe\n"
    )
    results = client.post(
        f"/screening/rounds/{seeded['round']}/results",
        data={"csrf_token": token},
        files={"file": ("lab.csv", lab, "text/csv")},
    )
    assert_chinese(f"POST results ({results.status_code})", results.text, found)
    assert found == {}, "\n".join(f"{k}:\n  " + "\n  ".join(v) for k, v in found.items())


def test_exports_are_chinese(client: TestClient, seeded: dict[str, Any]) -> None:
    found: dict[str, list[str]] = {}
    exports = [
        f"/api/v1/trace/contacts.xlsx?case_id={seeded['case']}",
        f"/api/v1/screening/rounds/{seeded['round']}/missing.xlsx",
        "/api/v1/people/export.xlsx",
    ]
    # Headers may say the column's English name beside the Chinese; values must be Chinese.
    allowed = set(ALLOWED)
    for url in exports:
        answer = client.get(url)
        if answer.status_code != 200:
            found[url] = [f"status {answer.status_code}: {answer.text[:200]}"]
            continue
        sheet = load_workbook(io.BytesIO(answer.content)).active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
        values = "\n".join(
            " ".join(str(v) for v in row if v is not None and not isinstance(v, datetime))
            for row in rows[1:]
        )
        words = english_words(values, allowed)
        if words:
            found[url] = words[:10]
    assert found == {}, found


def test_the_check_finds_english() -> None:
    page = (
        "<html><head><title>总览</title><style>a{}</style></head><body>"
        '<script>var x = "Hello";</script><p>病例 #12 Sampled</p>'
        '<input type="submit" value="Save"><span title="Close it">×</span>'
        "<p>Cordon QR 450681199001011239 guangxi-2021-12 12 km</p></body></html>"
    )
    assert [w.split(" ")[0] for w in english_on_page(page)] == [
        "'Sampled'",
        "'Save'",
        "'Close'",
        "'it'",
    ]
