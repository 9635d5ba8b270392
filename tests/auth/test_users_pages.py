"""The users page: admins create users, change role and jurisdiction, disable and reset
passwords, only inside their own jurisdiction, every change audited."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from cordon.audit import service as audit_service
from cordon.auth import service as auth_service
from cordon.auth.rules import Role
from cordon.db import transaction
from tests.conftest import PASSWORD, UserMaker
from tests.page_helpers import login, page_token

ISSUED = re.compile(r'id="issued-password">.*?<strong class="mono">([^<]+)</strong>', re.S)


def user_id(factory: sessionmaker[Session], username: str) -> int:
    with transaction(factory) as s:
        user = auth_service.find_user(session=s, username=username)
        assert user is not None
        return user.id


def can_log_in(app: object, username: str, password: str) -> bool:
    with TestClient(app) as other:  # type: ignore[arg-type]
        return login(other, username, password).status_code == 303


def test_admin_creates_a_user_with_a_password_shown_once(
    app: object, client: TestClient, make_user: UserMaker, session_factory: sessionmaker[Session]
) -> None:
    make_user("boss", Role.ADMIN, "4506")
    login(client, "boss")
    page = client.get("/users")
    assert page.status_code == 200
    assert "东兴市 (450681)" in page.text  # jurisdictions are chosen by name
    response = client.post(
        "/users",
        data={
            "username": "li.gw",
            "display_name": "李网格",
            "role": "grid_worker",
            "jurisdiction": "450681",
            "password": "",
            "csrf_token": page_token(client, "/users"),
        },
    )
    assert response.status_code == 200, response.text
    issued = ISSUED.search(response.text)
    assert issued is not None
    assert can_log_in(app, "li.gw", issued.group(1))
    listed = client.get("/users").text
    assert "李网格" in listed and "网格员" in listed
    assert issued.group(1) not in listed  # shown once only
    with transaction(session_factory) as s:
        _total, entries = audit_service.browse(session=s, entity="user")
    assert [(e.username, e.action) for e in entries] == [("boss", "create")]
    assert issued.group(1) not in str(entries[0].detail)


def test_create_errors_are_shown_in_the_form(client: TestClient, make_user: UserMaker) -> None:
    make_user("boss", Role.ADMIN, "4506")
    make_user("taken", Role.ANALYST, "4506")
    login(client, "boss")
    token = page_token(client, "/users")
    outside = client.post(
        "/users",
        data={
            "username": "far",
            "role": "analyst",
            "jurisdiction": "4501",
            "password": "long enough password",
            "csrf_token": token,
        },
    )
    assert outside.status_code == 422
    assert 'id="e-jurisdiction"' in outside.text and "辖区" in outside.text
    duplicate = client.post(
        "/users",
        data={
            "username": "taken",
            "role": "analyst",
            "jurisdiction": "450681",
            "password": "long enough password",
            "csrf_token": token,
        },
    )
    assert duplicate.status_code == 422 and 'id="e-username"' in duplicate.text
    no_token = client.post("/users", data={"username": "x1", "role": "analyst"})
    assert no_token.status_code == 403


def test_disable_enable_and_reset_password(
    app: object, client: TestClient, make_user: UserMaker, session_factory: sessionmaker[Session]
) -> None:
    make_user("boss", Role.ADMIN, "4506")
    make_user("epi", Role.EPIDEMIOLOGIST, "450681")
    epi = user_id(session_factory, "epi")
    login(client, "boss")
    token = page_token(client, f"/users/{epi}")
    changed = client.post(
        f"/users/{epi}",
        data={"role": "commander", "jurisdiction": "450602", "csrf_token": token},
        follow_redirects=True,
    )
    assert changed.status_code == 200 and "已保存" in changed.text
    disabled = client.post(
        f"/users/{epi}/active", data={"active": "0", "csrf_token": token}, follow_redirects=True
    )
    assert 'id="user-disabled"' in disabled.text
    assert not can_log_in(app, "epi", PASSWORD)
    client.post(f"/users/{epi}/active", data={"active": "1", "csrf_token": token})
    assert can_log_in(app, "epi", PASSWORD)
    reset = client.post(f"/users/{epi}/password", data={"password": "", "csrf_token": token})
    issued = ISSUED.search(reset.text)
    assert reset.status_code == 200 and issued is not None
    assert not can_log_in(app, "epi", PASSWORD)
    assert can_log_in(app, "epi", issued.group(1))
    short = client.post(f"/users/{epi}/password", data={"password": "short", "csrf_token": token})
    assert short.status_code == 422
    with transaction(session_factory) as s:
        user = auth_service.find_user(session=s, username="epi")
        assert user is not None and (user.role, user.jurisdiction) == ("commander", "450602")
        _total, entries = audit_service.browse(session=s, entity="user")
    assert [e.action for e in reversed(entries)] == [
        "update",
        "disable",
        "enable",
        "reset_password",
    ]


def test_an_admin_cannot_disable_themselves_or_reach_other_jurisdictions(
    client: TestClient, make_user: UserMaker, session_factory: sessionmaker[Session]
) -> None:
    make_user("boss", Role.ADMIN, "450681")
    make_user("elsewhere", Role.ANALYST, "450602")
    boss, other = user_id(session_factory, "boss"), user_id(session_factory, "elsewhere")
    login(client, "boss")
    token = page_token(client, "/users")
    assert "elsewhere" not in client.get("/users").text
    assert client.get(f"/users/{other}").status_code == 404
    assert (
        client.post(f"/users/{other}/active", data={"active": "0", "csrf_token": token}).status_code
        == 404
    )
    assert client.post(f"/users/{other}/password", data={"csrf_token": token}).status_code == 404
    own = client.post(f"/users/{boss}/active", data={"active": "0", "csrf_token": token})
    assert own.status_code == 422 and "不能停用自己" in own.text
    moved = client.post(
        f"/users/{boss}", data={"role": "admin", "jurisdiction": "45", "csrf_token": token}
    )
    assert moved.status_code == 422  # not above their own jurisdiction
    with transaction(session_factory) as s:
        user = auth_service.find_user(session=s, username="boss")
        assert user is not None and user.active and user.jurisdiction == "450681"


def test_other_roles_may_not_manage_users(client: TestClient, make_user: UserMaker) -> None:
    make_user("cmd", Role.COMMANDER, "4506")
    login(client, "cmd")
    assert client.get("/users").status_code == 403
    assert 'href="/users"' not in client.get("/").text


def test_users_api_changes_and_resets(
    client: TestClient, token_for: Callable[..., dict[str, str]]
) -> None:
    admin = token_for("boss", Role.ADMIN, "4506")
    created = client.post(
        "/api/v1/users",
        json={
            "username": "api.user",
            "password": "long enough password",
            "role": "analyst",
            "jurisdiction": "450681",
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    uid = created.json()["id"]
    patched = client.patch(f"/api/v1/users/{uid}", json={"active": False}, headers=admin)
    assert patched.status_code == 200 and patched.json()["active"] is False
    reset = client.post(f"/api/v1/users/{uid}/password", json={}, headers=admin)
    assert reset.status_code == 200 and len(reset.json()["password"]) >= 10
    me = client.get("/api/v1/me", headers=admin).json()["user_id"]
    refused = client.patch(f"/api/v1/users/{me}", json={"active": False}, headers=admin)
    assert refused.status_code == 422
    assert refused.json()["problems"][0]["field"] == "active"
