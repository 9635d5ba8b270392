"""The audit log page: admins browse and filter; other roles may not."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from cordon.audit import service as audit_service
from cordon.db import transaction
from tests.conftest import UserMaker
from tests.helpers import make_actor
from tests.page_helpers import login


def audit_rows(html: str) -> list[list[str]]:
    table = re.search(r'<table class="data" id="audit-table">.*?</table>', html, re.S)
    if table is None:
        return []
    body = table.group(0).split("<tbody>")[1]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def seed(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as s:
        for username, action, entity_id in [("li", "view", "7"), ("zhao", "update", "8")]:
            audit_service.record(
                session=s,
                actor=make_actor(username=username),
                action=action,
                entity="person",
                entity_id=entity_id,
            )
        audit_service.record(
            session=s,
            actor=make_actor(username="zhao"),
            action="view",
            entity="person",
            entity_id="9",
            outcome="denied",
        )


def test_admin_filters_by_user_outcome_and_record(
    client: TestClient, make_user: UserMaker, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory)
    make_user("wang")
    login(client, "wang")
    everything = audit_rows(client.get("/audit").text)
    assert len(everything) == 3
    by_user = audit_rows(client.get("/audit", params={"username": "zhao"}).text)
    assert [row[1] for row in by_user] == ["zhao", "zhao"]
    denied = audit_rows(client.get("/audit", params={"outcome": "denied"}).text)
    assert len(denied) == 1 and denied[0][1:5] == ["zhao", "查看", "人员 9", "拒绝"]
    by_record = audit_rows(client.get("/audit", params={"entity_id": "8"}).text)
    assert len(by_record) == 1 and by_record[0][2] == "修改"


def test_times_are_china_standard_time(
    client: TestClient, make_user: UserMaker, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory)
    make_user("wang")
    login(client, "wang")
    with transaction(session_factory) as s:
        _total, entries = audit_service.browse(session=s, username="li")
    shanghai = entries[0].at.astimezone(ZoneInfo("Asia/Shanghai"))
    rows = audit_rows(client.get("/audit", params={"username": "li"}).text)
    assert rows[0][0] == shanghai.strftime("%Y-%m-%d %H:%M:%S")


def test_other_roles_may_not_read_the_log(client: TestClient, make_user: UserMaker) -> None:
    make_user("boss", "commander", "450681")
    login(client, "boss")
    response = client.get("/audit")
    assert response.status_code == 403 and "无权操作" in response.text
