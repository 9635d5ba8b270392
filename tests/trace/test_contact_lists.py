"""Contact lists a command centre acts on: riskiest first (then first exposure), the quarantine
list apart from the companions, tier filters and counts per kind and tier, exports with a
sheet per list, the network keeping the highest-scored contacts, and pages in Chinese with
each score's parts. On SQLite and PostgreSQL (the ``backend`` fixture)."""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from cordon.db import transaction
from cordon.security.crypto import FieldCipher
from cordon.trace import contacts
from cordon.trace.contacts import ContactFilter
from tests.conftest import UserMaker
from tests.page_helpers import login, page_token
from tests.trace.stored_contacts import (
    ADMIN,
    COMPANION_ORDER,
    QUARANTINE_ORDER,
    Traced,
    store_contacts,
)
from tests.web.english import ALLOWED, english_on_page


@pytest.fixture
def traced(session_factory: sessionmaker[Session], cipher: FieldCipher) -> Traced:
    with transaction(session_factory) as s:
        return store_contacts(s, cipher)


def _listed(html: str) -> list[str]:
    """The people a contact list page shows, in its order."""
    return re.findall(r'<th scope="row"><a class="person" href="/people/\d+">([^<]+)</a>', html)


def _names(traced: Traced, person_ids: list[int]) -> list[str]:
    by_id = {v: k for k, v in traced.people.items()}
    return [by_id[p] for p in person_ids]


def test_lists_come_riskiest_first_with_companions_apart_and_counts_per_kind_and_tier(
    client: TestClient, token_for: object, traced: Traced
) -> None:
    epi = token_for("epi", "epidemiologist", "450681")  # type: ignore[operator]
    every = client.get("/api/v1/trace/contacts", headers=epi).json()
    # The quarantine list by score (ties by first exposure), then the companions by score,
    # although a companion has the highest score of all.
    assert _names(traced, [r["person_id"] for r in every["rows"]]) == (
        QUARANTINE_ORDER + COMPANION_ORDER
    )
    assert every["counts"] == {"close": 3, "secondary": 2, "companion": 2}
    assert every["tiers"] == {"1": 3, "2": 1, "3": 1} and every["total"] == 7

    quarantine = client.get("/api/v1/trace/contacts?quarantine=true", headers=epi).json()
    assert _names(traced, [r["person_id"] for r in quarantine["rows"]]) == QUARANTINE_ORDER
    assert quarantine["total"] == 5 and quarantine["counts"] == every["counts"]

    first = client.get("/api/v1/trace/contacts?tier=1", headers=epi).json()
    assert _names(traced, [r["person_id"] for r in first["rows"]]) == ["张三", "李一", "赵七"]
    assert {r["tier"] for r in first["rows"]} == {1} and first["total"] == 3
    # Counts say what the other choices hold: every tier, every kind.
    assert first["tiers"] == every["tiers"] and first["counts"] == every["counts"]

    close = client.get("/api/v1/trace/contacts?kind=close", headers=epi).json()
    assert _names(traced, [r["person_id"] for r in close["rows"]]) == ["李一", "赵七", "王二"]
    assert close["tiers"] == {"1": 2, "2": 1, "3": 0}
    row = close["rows"][0]
    assert (row["score"], row["tier"], row["exposed_minutes"], row["days_exposed"]) == (
        0.30,
        1,
        240.0,
        2,
    )
    assert row["pushed"] is False and row["evidence"][0]["hazard"] == 0.15

    companions = client.get("/api/v1/trace/contacts?kind=companion&offset=1", headers=epi).json()
    assert _names(traced, [r["person_id"] for r in companions["rows"]]) == ["杨六"]
    assert companions["tiers"] == {"1": 0, "2": 0, "3": 0}
    assert client.get("/api/v1/trace/contacts?tier=0", headers=epi).status_code == 422


def test_the_export_has_a_sheet_per_list_riskiest_first(
    client: TestClient,
    token_for: object,
    traced: Traced,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
    tmp_path: object,
) -> None:
    epi = token_for("epi", "epidemiologist", "450681")  # type: ignore[operator]
    answer = client.get("/api/v1/trace/contacts.xlsx", headers=epi)
    assert answer.status_code == 200
    book = load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["隔离名单", "时空伴随者"]
    quarantine = list(book["隔离名单"].iter_rows(values_only=True))
    companions = list(book["时空伴随者"].iter_rows(values_only=True))
    header = quarantine[0]
    assert companions[0] == header
    column = {name.split(" ")[0]: i for i, name in enumerate(header)}
    assert [r[column["姓名"]] for r in quarantine[1:]] == QUARANTINE_ORDER
    assert [r[column["姓名"]] for r in companions[1:]] == COMPANION_ORDER
    li = quarantine[2]
    assert (
        li[column["优先级"]],
        li[column["暴露得分(%)"]],
        li[column["暴露天数"]],
        li[column["暴露分钟"]],
    ) == (1, 30, 2, 240)
    assert {r[column["类别"]] for r in companions[1:]} == {"时空伴随者"}
    assert all(r[column["优先级"]] in (None, "") for r in companions[1:])

    # Paging through a list a chunk at a time keeps the order, ties included.
    path = tmp_path / "chunked.xlsx"  # type: ignore[operator]
    with transaction(session_factory) as s:
        written = contacts.write_xlsx(
            session=s,
            actor=ADMIN,
            cipher=cipher,
            where=ContactFilter(quarantine=True),
            path=path,
            chunk=2,
        )
    chunked = load_workbook(path)
    assert written == 5 and len(chunked.sheetnames) == 1
    rows = list(chunked.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert [r[column["姓名"]] for r in rows[1:]] == QUARANTINE_ORDER

    tier_one = load_workbook(
        io.BytesIO(client.get("/api/v1/trace/contacts.xlsx?tier=1", headers=epi).content)
    )
    assert tier_one.sheetnames == ["隔离名单"]
    assert tier_one["隔离名单"].max_row == 4


def test_a_truncated_network_keeps_the_highest_scored_contacts(
    session_factory: sessionmaker[Session], traced: Traced
) -> None:
    with transaction(session_factory) as s:
        full = contacts.network(session=s, actor=ADMIN, case_ids=[traced.case_id])
        small = contacts.network(session=s, actor=ADMIN, case_ids=[traced.case_id], limit=4)
    assert not full.truncated and len(full.nodes) == 8
    by_id = {v: k for k, v in traced.people.items()}
    kept = {by_id[int(n.id.split(":")[1])]: n for n in small.nodes if n.kind != "case"}
    assert small.truncated and set(kept) == {"陈五", "张三", "李一"}  # the three top scores
    assert (kept["李一"].tier, kept["李一"].score, kept["陈五"].tier) == (1, 0.30, None)
    # Those not drawn are counted in the node they hang off: 刘四 met 李一, the rest the case.
    case = next(n for n in small.nodes if n.kind == "case")
    assert kept["李一"].value == 2 and case.value == 1 + 3
    assert sorted(small.links) == sorted(
        (case.id, f"person:{traced.people[n]}") for n in ("陈五", "张三", "李一")
    )
    # In the full graph a secondary contact hangs off the close contact it met.
    assert (f"person:{traced.people['李一']}", f"person:{traced.people['刘四']}") in full.links


def test_the_page_shows_tiers_scores_and_their_parts_in_chinese(
    client: TestClient, make_user: UserMaker, traced: Traced
) -> None:
    make_user("epi", "epidemiologist", "450681")
    assert login(client, "epi").status_code == 303
    page = client.get("/trace/contacts")
    assert page.status_code == 200
    # The default list is the quarantine list, riskiest first; companions are one click away.
    assert _listed(page.text) == QUARANTINE_ORDER
    assert 'aria-current="page">隔离名单 <span class="n">5</span>' in page.text
    assert '时空伴随者 <span class="n">2</span>' in page.text
    assert "1 级 · 集中隔离" in page.text and "30.0%" in page.text
    assert "2 天 · 4.0 小时" in page.text
    # Each score's parts, explained in one line.
    assert "得分 = 1 − e^(−各段风险之和)" in page.text and "每小时权重" in page.text
    assert "80%" in page.text and "0.1500" in page.text and "经 李一" in page.text
    assert english_on_page(page.text, ALLOWED | {"epi", "testclient"}) == []

    assert _listed(client.get("/trace/contacts?tier=2").text) == ["王二"]
    every = client.get("/trace/contacts?kind=all").text
    assert _listed(every) == QUARANTINE_ORDER + COMPANION_ORDER
    listed = client.get("/trace/contacts?kind=companion")
    assert _listed(listed.text) == COMPANION_ORDER
    assert "黄码并检测" in listed.text and "&lt;0.1%" in listed.text
    assert english_on_page(listed.text, ALLOWED | {"epi", "testclient"}) == []
    assert client.get("/trace/contacts?tier=x").status_code == 422

    # The page's export is the list on screen.
    token = page_token(client, "/trace/contacts")
    sheet = client.post("/trace/contacts/export", data={"csrf_token": token})
    assert load_workbook(io.BytesIO(sheet.content)).sheetnames == ["隔离名单"]
    both = client.post("/trace/contacts/export", data={"csrf_token": token, "kind": "all"})
    assert load_workbook(io.BytesIO(both.content)).sheetnames == ["隔离名单", "时空伴随者"]
