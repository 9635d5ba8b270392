"""Token login, the failed-login brake, and user management."""

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from cordon.auth.models import AuthToken
from cordon.db import transaction, utcnow
from tests.conftest import PASSWORD, UserMaker

Tokens = Callable[..., dict[str, str]]


def login(client: TestClient, username: str, password: str) -> int:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    return response.status_code


def test_token_identifies_the_user(client: TestClient, token_for: Tokens) -> None:
    headers = token_for("epi", "epidemiologist", "450681")
    me = client.get("/api/v1/me", headers=headers).json()
    assert me["username"] == "epi" and me["jurisdiction"] == "450681"
    assert "people:edit" in me["permissions"] and "audit:view" not in me["permissions"]


def test_logout_revokes_the_token(client: TestClient, token_for: Tokens) -> None:
    headers = token_for("epi")
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_failed_logins_are_braked(client: TestClient, make_user: UserMaker) -> None:
    make_user("epi")
    assert [login(client, "epi", "wrong password") for _ in range(5)] == [401] * 5
    # Now even the right password waits: the name is braked for the window.
    assert login(client, "epi", PASSWORD) == 429
    refused = client.post("/api/v1/auth/token", json={"username": "epi", "password": PASSWORD})
    # Until the oldest counted failure leaves the 15-minute window.
    assert 14 * 60 < int(refused.headers["Retry-After"]) <= 15 * 60


def test_a_success_clears_earlier_failures(client: TestClient, make_user: UserMaker) -> None:
    make_user("epi")
    for _ in range(4):
        login(client, "epi", "wrong password")
    assert login(client, "epi", PASSWORD) == 200
    for _ in range(4):
        login(client, "epi", "wrong password")
    assert login(client, "epi", PASSWORD) == 200


def test_unknown_user_is_the_same_401(client: TestClient) -> None:
    assert login(client, "nobody", "whatever-password") == 401


def test_admin_creates_users_only_inside_own_jurisdiction(
    client: TestClient, token_for: Tokens
) -> None:
    dx_admin = token_for("dxadmin", "admin", "450681")
    made = client.post(
        "/api/v1/users",
        json={
            "username": "gw1",
            "password": "long enough pw",
            "role": "grid_worker",
            "jurisdiction": "450681100001",
        },
        headers=dx_admin,
    )
    assert made.status_code == 201, made.text
    assert made.json()["jurisdiction"] == "450681100001"
    outside = client.post(
        "/api/v1/users",
        json={
            "username": "gw2",
            "password": "long enough pw",
            "role": "grid_worker",
            "jurisdiction": "450603",
        },
        headers=dx_admin,
    )
    assert outside.status_code == 403
    duplicate = client.post(
        "/api/v1/users",
        json={
            "username": "gw1",
            "password": "long enough pw",
            "role": "grid_worker",
            "jurisdiction": "450681",
        },
        headers=dx_admin,
    )
    assert duplicate.status_code == 409
    unknown = client.post(
        "/api/v1/users",
        json={
            "username": "gw3",
            "password": "long enough pw",
            "role": "grid_worker",
            "jurisdiction": "450699",
        },
        headers=dx_admin,
    )
    assert unknown.status_code == 422
    assert unknown.json()["problems"][0]["field"] == "jurisdiction"
    names = [u["username"] for u in client.get("/api/v1/users", headers=dx_admin).json()]
    assert names == ["dxadmin", "gw1"]


def test_only_admins_manage_users(client: TestClient, token_for: Tokens) -> None:
    commander = token_for("cmd", "commander", "450681")
    assert client.get("/api/v1/users", headers=commander).status_code == 403


def test_login_sweeps_expired_tokens(
    client: TestClient, token_for: Tokens, session_factory: sessionmaker[Session]
) -> None:
    old = token_for("epi")
    with transaction(session_factory) as s:
        s.execute(update(AuthToken).values(expires_at=utcnow() - timedelta(minutes=1)))
    assert client.get("/api/v1/me", headers=old).status_code == 401
    assert login(client, "epi", PASSWORD) == 200
    with transaction(session_factory) as s:
        assert s.scalar(select(func.count()).select_from(AuthToken)) == 1
