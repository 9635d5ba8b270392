"""No English in the Chinese interface: every page an administrator can open, with data on it
(people, a traced case and its contacts, codes, a screening round with a swab), the error
pages and the answers to bad input, read as a user reads them (tests/web/english.py)."""

from __future__ import annotations

import io
from collections.abc import Callable
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
from tests.helpers import person, wait_for_job, xlsx
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


NAIVE = "2021-12-20T20:00:00"  # a time without its zone
ZONED = "2021-12-20T20:00:00+08:00"
CASE = {"person_id": 1, "kind": "confirmed", "found_by": "symptoms"}
ROUND = {"name": "第一轮", "division_code": "450681", "starts_at": ZONED, "ends_at": ZONED}
# Each refusal a user can meet in the API: what is sent, the field named, the English reason.
REFUSALS: list[tuple[str, str, dict[str, Any], str, str]] = [
    ("POST", "/api/v1/cases", CASE, "body", "give onset_date or sampled_at"),
    (
        "POST",
        "/api/v1/cases",
        {**CASE, "kind": "asymptomatic", "onset_date": "2021-12-19", "sampled_at": ZONED},
        "body",
        "an asymptomatic case has no onset date",
    ),
    ("POST", "/api/v1/cases", {**CASE, "sampled_at": NAIVE}, "sampled_at", "needs a time zone"),
    (
        "POST",
        "/api/v1/cases",
        {**CASE, "sampled_at": ZONED, "isolated_at": NAIVE},
        "isolated_at",
        "needs a time zone",
    ),
    (
        "POST",
        "/api/v1/cases/1/investigation",
        {"stage": "core", "done_at": NAIVE},
        "done_at",
        "needs a time zone",
    ),
    (
        "POST",
        "/api/v1/cases/1/transfers",
        {"to_facility": "东兴市人民医院", "at": NAIVE},
        "at",
        "needs a time zone",
    ),
    ("POST", "/api/v1/trace/batch", {"since": NAIVE}, "since", "needs a time zone"),
    (
        "POST",
        "/api/v1/screening/rounds",
        {**ROUND, "starts_at": NAIVE},
        "starts_at",
        "needs a time zone",
    ),
    (
        "POST",
        "/api/v1/screening/rounds",
        {**ROUND, "ends_at": "2021-12-20T08:00:00+08:00"},
        "ends_at",
        "must be after the start",
    ),
    (
        "POST",
        "/api/v1/screening/rounds",
        {**ROUND, "ends_at": "2021-12-21T20:00:00+08:00", "zones": {"4506x": "sealed"}},
        "zones",
        "zone code '4506x' is not a division or grid code",
    ),
    (
        "POST",
        "/api/v1/screening/rounds/1/samples",
        {"site_id": 1, "tube": "T0001"},
        "body",
        "scan an identity number or a pre-registration code",
    ),
    ("PUT", "/api/v1/clock", {"mode": "pinned"}, "at", "a scenario time is required"),
    ("POST", "/api/v1/people", {"name": "黄\x00志明"}, "name", "must not contain NUL characters"),
    ("POST", "/api/v1/people", {"phone": "12"}, "phone", "'12' is not a valid number"),
    ("POST", "/api/v1/people", {"phone": "电话"}, "phone", "'电话' is not a phone number"),
    (
        "POST",
        "/api/v1/people",
        {"grid_code": None, "division_code": "45068x"},
        "division_code",
        "division code must be digits, got '45068x'",
    ),
    (
        "POST",
        "/api/v1/people",
        {"grid_code": None, "division_code": "4506811"},
        "division_code",
        "division code '4506811' has 7 digits",
    ),
    (
        "POST",
        "/api/v1/people",
        {"grid_code": None, "division_code": "450681199999"},
        "division_code",
        "unknown division code '450681199999'",
    ),
    ("GET", "/api/v1/people?division_code=4506x", {}, "division_code", "must be digits"),
    (
        "GET",
        "/api/v1/people?id_number=450681199001011231",
        {},
        "id_number",
        "identity number checksum: check digit is 1, should be 4",
    ),
]


def _refused(client: TestClient, headers: dict[str, str], refusal: tuple[Any, ...]) -> Any:
    method, path, body, _field, _english = refusal
    if path == "/api/v1/people" and method == "POST":
        body = person(**body)
    answer = client.request(method, path, headers=headers, **({"json": body} if body else {}))
    assert answer.status_code == 422, (path, answer.text[:300])
    return answer.json()


def _said(answer: dict[str, Any]) -> str:
    return "\n".join([answer["message"], *(p["message"] for p in answer["problems"])])


@pytest.mark.parametrize("refusal", REFUSALS, ids=[f"{r[1]} {r[3]}: {r[4]}" for r in REFUSALS])
def test_refusals_name_the_field_in_chinese_or_in_english_on_request(
    client: TestClient, token_for: Callable[..., dict[str, str]], refusal: tuple[Any, ...]
) -> None:
    admin = token_for("admin")
    field, english = refusal[3], refusal[4]
    chinese = _refused(client, admin, refusal)
    assert [p["field"] for p in chinese["problems"]] == [field]
    assert english_words(_said(chinese)) == [], _said(chinese)
    asked = _refused(client, {**admin, "Accept-Language": "en"}, refusal)
    assert [p["field"] for p in asked["problems"]] == [field]
    assert english in asked["problems"][0]["message"], asked


def test_a_record_out_of_reach_gets_the_answer_of_one_that_does_not_exist(
    client: TestClient, token_for: Callable[..., dict[str, str]]
) -> None:
    """Another town's person or case is a 404 word for word like a missing one, in Chinese."""
    admin = token_for("admin")
    pid = client.post("/api/v1/people", json=person(), headers=admin).json()["id"]
    case = {**CASE, "person_id": pid, "sampled_at": ZONED}
    case_id = client.post("/api/v1/cases", json=case, headers=admin).json()["id"]
    fangcheng = token_for("fc", "admin", "450603")
    for kind, found, missing in (("people", pid, pid + 1), ("cases", case_id, case_id + 1)):
        out_of_reach = client.get(f"/api/v1/{kind}/{found}", headers=fangcheng)
        absent = client.get(f"/api/v1/{kind}/{missing}", headers=admin)
        assert out_of_reach.status_code == absent.status_code == 404
        shown, said_absent = out_of_reach.json(), absent.json()
        assert english_words(_said(shown)) == [], shown
        assert shown["message"] == said_absent["message"].replace(str(missing), str(found))
        assert shown["problems"] == said_absent["problems"]


def test_a_refused_people_import_is_chinese_by_default_and_english_on_request(
    client: TestClient, token_for: Callable[..., dict[str, str]]
) -> None:
    admin = token_for("admin")
    rows = xlsx([["姓名", "身份证号", "电话"], ["黄志明", "450681199001011231", "12"]])
    files = {"file": ("people.xlsx", rows, "application/octet-stream")}
    chinese = client.post("/api/v1/people/import", files=files, headers=admin)
    assert chinese.status_code == 422
    assert english_words(_said(chinese.json())) == [], chinese.json()
    assert english_words("\n".join(e["message"] for e in chinese.json()["errors"])) == []
    asked = client.post(
        "/api/v1/people/import", files=files, headers={**admin, "Accept-Language": "en"}
    )
    assert asked.json()["message"] == "1 of 1 rows rejected; nothing was written"
    assert {e["message"] for e in asked.json()["errors"]} == {
        "identity number checksum: check digit is 1, should be 4",
        "'12' is not a valid number",
        "give a division code or a grid code",
    }
