"""Logging in and out of the pages (session cookie)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from cordon.auth import service
from cordon.config import Settings
from cordon.errors import TooManyAttempts
from cordon.web import csrf
from cordon.web.deps import SESSION_COOKIE, DbSession, SettingsDep, client_addr
from cordon.web.nav import NavEntry
from cordon.web.page_deps import PageActor
from cordon.web.templating import render, translator

router = APIRouter(include_in_schema=False)
NAV: list[NavEntry] = []


class LoginForm(BaseModel):
    # Everything optional: a missing field is a failed login shown on the form, not a 422.
    username: str = ""
    password: str = ""
    csrf_token: str = ""
    next: str = "/"


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else "/": never redirect to another site."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    # Browsers ignore tabs and newlines and read "\" as "/", so "/\t/evil" would leave the site.
    if "\\" in target or any(c.isspace() or ord(c) < 32 for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def _login_page(
    request: Request,
    settings: Settings,
    *,
    username: str = "",
    next_path: str = "/",
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    token = csrf.login_token(request)
    context = {"login_csrf": token, "username": username, "next": next_path, "error": error}
    response = render(request, "auth/login.html", context, status=status)
    csrf.set_login_cookie(response, token, secure=settings.secure_cookies)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request,
    settings: SettingsDep,
    next_path: Annotated[str, Query(alias="next")] = "/",
) -> HTMLResponse:
    return _login_page(request, settings, next_path=safe_next(next_path))


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    form: Annotated[LoginForm, Form()],
) -> Response:
    _ = translator(request)
    username = form.username.strip()[:64]
    target = safe_next(form.next)
    page = {"username": username, "next_path": target}
    if not csrf.login_token_matches(request, form.csrf_token):
        error = _("The login form has expired. Please try again.")
        return _login_page(request, settings, error=error, status=403, **page)
    try:
        user = service.authenticate(
            session=session,
            username=username,
            password=form.password[:256],
            client_addr=client_addr(request),
            max_failures=settings.login_max_failures,
            window=timedelta(minutes=settings.login_window_minutes),
        )
    except TooManyAttempts as refused:
        retry = refused.retry_after or settings.login_window_minutes * 60
        error = _("Too many failed logins. Try again in %(minutes)d minutes.") % {
            "minutes": -(-retry // 60)
        }
        refusal = _login_page(request, settings, error=error, status=429, **page)
        refusal.headers["Retry-After"] = str(retry)
        return refusal
    if user is None:
        # Returned, not raised: the request's transaction commits and the failure is counted.
        error = _("Wrong username or password.")
        return _login_page(request, settings, error=error, status=401, **page)
    token, _row = service.issue_token(
        session=session,
        user=user,
        kind="session",
        lifetime=timedelta(hours=settings.session_hours),
        client_addr=client_addr(request),
    )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    response.delete_cookie(csrf.LOGIN_CSRF_COOKIE, path=csrf.LOGIN_PATH)
    return response


@router.post("/logout")
def logout(
    request: Request, actor: PageActor, session: DbSession, settings: SettingsDep
) -> RedirectResponse:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        service.revoke_token(session=session, token=token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=settings.secure_cookies
    )
    return response
