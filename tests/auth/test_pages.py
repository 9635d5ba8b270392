"""Logging in and out through the pages: cookie, failures, brake, CSRF, no open redirect."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cordon.auth.models import LoginFailure
from cordon.auth.pages import safe_next
from cordon.db import transaction
from cordon.web.deps import SESSION_COOKIE
from tests.conftest import UserMaker
from tests.page_helpers import csrf_token, login, page_token


def failures(factory: sessionmaker[Session]) -> int:
    with transaction(factory) as s:
        return s.scalar(select(func.count()).select_from(LoginFailure)) or 0


def test_login_sets_a_protected_session_cookie_and_goes_to_next(
    client: TestClient, make_user: UserMaker
) -> None:
    make_user("wang")
    response = login(client, "wang", next_path="/people?grid_code=450681100001001")
    assert response.status_code == 303
    assert response.headers["location"] == "/people?grid_code=450681100001001"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)
    )
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "max-age", "samesite"} <= attributes
    assert "samesite=lax" in cookie.lower() and "max-age=43200" in cookie.lower()
    assert "secure" not in attributes  # settings.secure_cookies is off in tests
    assert client.get("/people").status_code == 200


def test_wrong_password_is_401_on_the_form_and_counted(
    client: TestClient, make_user: UserMaker, session_factory: sessionmaker[Session]
) -> None:
    make_user("wang")
    response = login(client, "wang", password="not the password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    assert 'value="wang"' in response.text  # the name is kept for the next try
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert failures(session_factory) == 1


def test_sixth_attempt_is_refused_with_429_even_with_the_right_password(
    client: TestClient, make_user: UserMaker
) -> None:
    make_user("wang")
    for _ in range(5):
        assert login(client, "wang", password="guess guess").status_code == 401
    sixth = login(client, "wang")
    assert sixth.status_code == 429
    assert 14 * 60 < int(sixth.headers["Retry-After"]) <= 15 * 60
    assert "登录失败次数过多" in sixth.text and "15" in sixth.text
    assert client.get("/", follow_redirects=False).status_code == 303  # still logged out


def test_login_form_needs_its_own_token(client: TestClient, make_user: UserMaker) -> None:
    make_user("wang")
    form = client.get("/login")
    token = csrf_token(form.text)
    client.cookies.clear()  # a cross-site page cannot send our cookie's value in the form
    response = client.post(
        "/login",
        data={"username": "wang", "password": "correct horse battery", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "",
    ],
)
def test_next_never_leaves_the_site(target: str) -> None:
    assert safe_next(target) == "/"


def test_next_keeps_local_paths() -> None:
    assert safe_next("/people/3?saved=1") == "/people/3?saved=1"


def test_login_with_foreign_next_lands_on_overview(
    client: TestClient, make_user: UserMaker
) -> None:
    make_user("wang")
    response = login(client, "wang", next_path="//evil.example/x")
    assert response.headers["location"] == "/"


def test_logout_revokes_the_session(client: TestClient, make_user: UserMaker) -> None:
    make_user("wang")
    login(client, "wang")
    stolen = client.cookies[SESSION_COOKIE]
    response = client.post(
        "/logout", data={"csrf_token": page_token(client)}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert SESSION_COOKIE not in client.cookies
    client.cookies.set(SESSION_COOKIE, stolen)
    again = client.get("/", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/login")


def test_logout_without_csrf_token_is_refused(client: TestClient, make_user: UserMaker) -> None:
    make_user("wang")
    login(client, "wang")
    response = client.post("/logout", follow_redirects=False)
    assert response.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200
