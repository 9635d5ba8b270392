"""People shown as people: names (masked per role) linking to the record in lists, the
person page's sections, the search's identity-number errors, and one audit entry per list."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from cordon.audit.models import AuditEntry
from cordon.auth.rules import Role
from cordon.cases import service as cases_service
from cordon.cases.schemas import CaseIn
from cordon.db import transaction
from cordon.facts import service as facts_service
from cordon.facts.schemas import FactIn
from cordon.people import service as people_service
from cordon.people.schemas import PersonIn
from cordon.security.crypto import FieldCipher
from cordon.trace import contacts as stored_contacts
from tests.conftest import UserMaker
from tests.helpers import id_number, make_actor, person
from tests.page_helpers import login

ADMIN = make_actor()
EXPOSED = datetime(2021, 12, 18, 2, 0, tzinfo=UTC)


@dataclass
class Outbreak:
    case_id: int
    index: int  # 张三丰, the case
    sibling: int  # 张小明, same household
    contact: int  # 李四光, a close contact in Dongxing
    outsider: int  # 王大锤, a close contact living in 港口区 (outside a Dongxing user's reach)


def _register(s: Session, cipher: FieldCipher, **values: object) -> int:
    data = PersonIn.model_validate(person(**values))
    return people_service.create_person(session=s, actor=ADMIN, cipher=cipher, data=data).id


@pytest.fixture
def outbreak(session_factory: sessionmaker[Session], cipher: FieldCipher) -> Outbreak:
    with transaction(session_factory) as s:
        index = _register(s, cipher, name="张三丰", household="H-1", id_number=id_number(order=11))
        sibling = _register(
            s, cipher, name="张小明", household="H-1", id_number=id_number(born=date(2010, 5, 5))
        )
        contact = _register(s, cipher, name="李四光", id_number=id_number(order=13))
        outsider = _register(
            s,
            cipher,
            name="王大锤",
            id_number=id_number(region="450602", order=15),
            grid_code=None,
            division_code="450602",
        )
        case = cases_service.register_case(
            session=s,
            actor=ADMIN,
            cipher=cipher,
            data=CaseIn(
                person_id=index,
                kind="confirmed",
                found_by="screening",
                sampled_at=datetime(2021, 12, 20, 12, tzinfo=UTC),
            ),
        )
        evidence = [
            {
                "kind": "close",
                "setting": "work",
                "overlap_minutes": 30,
                "rule": "close: work >= 15 min",
                "index_person_id": index,
                "place_id": None,
                "cell_id": None,
                "start": EXPOSED.isoformat(),
                "end": EXPOSED.isoformat(),
            }
        ]
        stored_contacts.replace_contacts(
            session=s,
            case_ids=[case.id],
            rows=[
                {
                    "case_id": case.id,
                    "person_id": pid,
                    "kind": "close",
                    "first_exposure": EXPOSED,
                    "division_code": division,
                    "grid_code": None,
                    "case_division_code": case.division_code,
                    "case_ids": [case.id],
                    "evidence": evidence,
                    "pack": "guangxi-2021-12",
                    "traced_at": EXPOSED,
                    "score": 0.12,
                    "tier": 1,
                    "exposed_minutes": 30.0,
                    "days_exposed": 1,
                    "push_id": None,
                }
                for pid, division in ((contact, "450681100001"), (outsider, "450602"))
            ],
        )
        facts_service.record(
            session=s,
            actor=ADMIN,
            facts=[
                FactIn(
                    person_id=contact,
                    kind="contact",
                    at=EXPOSED,
                    attrs={"contact_kind": "close", "case_id": case.id},
                    source=f"trace:case:{case.id}",
                ),
                FactIn(
                    person_id=contact,
                    kind="quarantine",
                    at=datetime(2021, 12, 21, 2, tzinfo=UTC),
                    attrs={"place": "central", "reason": "close"},
                    source="test:order:1",
                ),
                FactIn(
                    person_id=contact,
                    kind="test",
                    at=datetime(2021, 12, 22, 1, tzinfo=UTC),
                    attrs={"result": "negative", "method": "single", "tube": "T-0001"},
                    source="test:tube:T-0001",
                ),
            ],
        )
    return Outbreak(case.id, index, sibling, contact, outsider)


def person_cells(html: str, table: str) -> list[str]:
    """The row headers of a table, tables nested in its rows (a contact's parts) included."""
    start = html.find(f'id="{table}"')
    assert start >= 0, table
    depth, end = 1, start
    for tag in re.finditer(r"<(/?)table\b", html[start:]):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            end = start + tag.start()
            break
    return re.findall(r'<th scope="row">(.*?)</th>', html[start:end], re.S)


def test_contacts_and_cases_show_names_linked_not_numbers(
    client: TestClient, make_user: UserMaker, outbreak: Outbreak
) -> None:
    make_user("epi", Role.EPIDEMIOLOGIST, "450681")
    login(client, "epi")
    contacts = client.get(f"/trace/contacts?case_id={outbreak.case_id}").text
    cells = person_cells(contacts, "contact-table")
    assert f'<a class="person" href="/people/{outbreak.contact}">李四光</a>' in cells
    assert not any("#" in c for c in cells)
    assert any("辖区外人员" in c for c in cells)  # 王大锤 lives outside 东兴市
    assert "王大锤" not in contacts

    cases = client.get("/cases").text
    assert f'<a class="person" href="/people/{outbreak.index}">张三丰</a>' in cases
    case_page = client.get(f"/cases/{outbreak.case_id}").text
    assert re.search(r'id="case-person"><a class="person" href="/people/\d+">张三丰</a>', case_page)
    panel = client.get(f"/trace/cases/{outbreak.case_id}/panel").text
    assert "李四光" in person_cells(panel, "panel-contacts")[0] or "李四光" in panel
    network = client.get(f"/trace/network?case_id={outbreak.case_id}").text
    chart = json.loads(re.search(r'id="network-data">(.*?)</script>', network, re.S).group(1))  # type: ignore[union-attr]
    labels = {n["id"]: n["label"] for n in chart["nodes"]}
    assert labels[f"person:{outbreak.contact}"] == "李四光"
    assert labels[f"person:{outbreak.outsider}"] == ""
    assert labels[f"case:{outbreak.case_id}"] == f"病例 {outbreak.case_id} 张三丰"


def test_names_are_masked_for_roles_without_identity_access(
    client: TestClient,
    make_user: UserMaker,
    outbreak: Outbreak,
    session_factory: sessionmaker[Session],
) -> None:
    worker = make_actor(Role.GRID_WORKER, "450681")
    with transaction(session_factory) as s:
        names = people_service.names_of(
            session=s, actor=worker, person_ids=[outbreak.index, outbreak.outsider]
        )
    assert names == {outbreak.index: "张*丰"}
    make_user("gw", Role.GRID_WORKER, "450681")
    login(client, "gw")
    code_page = client.get(f"/codes/people/{outbreak.contact}").text
    assert f'<a class="person" href="/people/{outbreak.contact}">李*光</a>' in code_page


def test_a_list_page_reads_names_in_one_query_and_writes_one_audit_entry(
    client: TestClient,
    make_user: UserMaker,
    outbreak: Outbreak,
    session_factory: sessionmaker[Session],
    app: object,
) -> None:
    make_user("epi", Role.EPIDEMIOLOGIST, "450681")
    login(client, "epi")
    engine = app.state.engine  # type: ignore[attr-defined]
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        client.get(f"/trace/contacts?case_id={outbreak.case_id}")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    name_reads = [s for s in statements if "people.name" in s]
    assert len(name_reads) == 1
    with transaction(session_factory) as s:
        entries = list(
            s.scalars(
                select(AuditEntry).where(
                    AuditEntry.username == "epi", AuditEntry.entity == "person"
                )
            )
        )
    assert [(e.action, e.entity_id, e.id_list) for e in entries] == [
        ("list", "*", [str(outbreak.contact)])
    ]
    audit_page = None
    make_user("root", Role.ADMIN, "45")
    login(client, "root")
    audit_page = client.get("/audit", params={"entity_id": str(outbreak.contact)}).text
    assert "显示了 1 条记录" in audit_page and "列表查看" in audit_page


def test_people_search_audits_one_entry_with_the_ids_shown(
    client: TestClient,
    make_user: UserMaker,
    outbreak: Outbreak,
    session_factory: sessionmaker[Session],
) -> None:
    make_user("root", Role.ADMIN, "45")
    login(client, "root")
    page = client.get("/people", params={"name": "张"})
    assert page.status_code == 200
    with transaction(session_factory) as s:
        entries = list(
            s.scalars(
                select(AuditEntry).where(
                    AuditEntry.username == "root", AuditEntry.action == "search"
                )
            )
        )
    assert len(entries) == 1
    assert sorted(entries[0].id_list) == sorted([str(outbreak.index), str(outbreak.sibling)])
    api = client.get("/api/v1/audit", params={"entity_id": str(outbreak.sibling)}).json()
    assert any(str(outbreak.sibling) in e["ids"] for e in api["entries"])


def test_search_says_why_an_identity_number_is_wrong(
    client: TestClient, make_user: UserMaker
) -> None:
    make_user("root", Role.ADMIN, "45")
    login(client, "root")
    good = id_number()
    wrong_digit = good[:-1] + ("1" if good[-1] != "1" else "2")
    checksum = client.get("/people", params={"id_number": wrong_digit})
    assert checksum.status_code == 422
    assert f"校验位为 {wrong_digit[-1]}，应为 {good[-1]}" in checksum.text
    assert "未找到" not in checksum.text
    region = client.get("/people", params={"id_number": "999999" + good[6:]})
    assert region.status_code == 422 and "地区码 999999" in region.text
    birth = client.get("/people", params={"id_number": good[:6] + "19901332" + good[14:]})
    assert birth.status_code == 422 and "出生日期 19901332" in birth.text
    english = client.get("/people", params={"id_number": wrong_digit, "lang": "en"})
    assert "check digit is" in english.text


def test_the_person_page_shows_code_cases_contacts_tests_orders_and_household(
    client: TestClient, make_user: UserMaker, outbreak: Outbreak
) -> None:
    make_user("epi", Role.EPIDEMIOLOGIST, "450681")
    login(client, "epi")
    index = client.get(f"/people/{outbreak.index}").text
    cases = re.search(r'id="person-cases".*?</section>', index, re.S).group(0)  # type: ignore[union-attr]
    assert f'href="/cases/{outbreak.case_id}"' in cases and "确诊" in cases
    assert f'href="/trace/contacts?case_id={outbreak.case_id}">2</a>' in cases
    household = re.search(r'id="person-household".*?</section>', index, re.S).group(0)  # type: ignore[union-attr]
    assert f'<a href="/people/{outbreak.sibling}">张小明</a>' in household
    code = re.search(r'id="person-code".*?</section>', index, re.S).group(0)  # type: ignore[union-attr]
    assert "code-red" in code and f'href="/codes/people/{outbreak.index}"' in code

    contact = client.get(f"/people/{outbreak.contact}").text
    as_contact = re.search(r'id="person-contacts".*?</section>', contact, re.S).group(0)  # type: ignore[union-attr]
    assert "密切接触者" in as_contact and f'href="/cases/{outbreak.case_id}"' in as_contact
    tests = re.search(r'id="person-tests".*?</section>', contact, re.S).group(0)  # type: ignore[union-attr]
    assert "阴性" in tests and "T-0001" in tests
    orders = re.search(r'id="person-orders".*?</section>', contact, re.S).group(0)  # type: ignore[union-attr]
    assert "集中隔离" in orders
    assert 'id="person-orders"' not in index  # no orders, no section
