"""Logging in and out of the pages (session cookie), and managing users (admins)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from cordon.auth import service
from cordon.auth.rules import Role
from cordon.auth.schemas import Actor, UserIn, UserPatch
from cordon.config import Settings
from cordon.errors import CordonError, Problem, TooManyAttempts
from cordon.geo import service as geo_service
from cordon.web import csrf
from cordon.web.deps import SESSION_COOKIE, DbSession, RecordId, SettingsDep, client_addr
from cordon.web.forms import problems_of
from cordon.web.i18n import N_
from cordon.web.nav import NavEntry
from cordon.web.page_deps import PageActor, page_require
from cordon.web.templating import render, translated_problems, translator

router = APIRouter(include_in_schema=False)
NAV = [NavEntry("/users", N_("Users"), "users:manage", order=92)]
Manager = Annotated[Actor, Depends(page_require("users:manage"))]
ROLE_NAMES = {
    Role.ADMIN: N_("Administrator"),
    Role.COMMANDER: N_("Commander"),
    Role.EPIDEMIOLOGIST: N_("Epidemiologist"),
    Role.SCREENING_OPERATOR: N_("Screening operator"),
    Role.GRID_WORKER: N_("Grid worker"),
    Role.BORDER_OFFICER: N_("Border officer"),
    Role.ANALYST: N_("Analyst"),
}
USER_FIELDS = {
    "username": N_("Username"),
    "display_name": N_("Display name"),
    "role": N_("Role"),
    "jurisdiction": N_("Jurisdiction"),
    "password": N_("Password"),
    "active": N_("Status"),
}
# The users service's fixed messages, extracted here and translated when shown.
USER_MESSAGES = (
    N_("you may not change your own role"),
    N_("you may not disable yourself"),
    N_("String should have at least 10 characters"),
)


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


class NewUserForm(BaseModel):
    username: str = ""
    display_name: str = ""
    role: str = ""
    jurisdiction: str = ""
    password: str = ""


class EditUserForm(BaseModel):
    display_name: str = ""
    role: str = ""
    jurisdiction: str = ""


def _user_context(request: Request, session: Session, actor: Actor) -> dict[str, object]:
    _ = translator(request)
    divisions = geo_service.divisions_within(session=session, code=actor.jurisdiction)
    return {
        "roles": {role.value: _(label) for role, label in ROLE_NAMES.items()},
        "fields": {name: _(label) for name, label in USER_FIELDS.items()},
        "divisions": divisions,
        "division_names": {d.code: d.name for d in divisions},
    }


def _users_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, str] | None = None,
    problems: list[Problem] | None = None,
    issued: tuple[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {
        **_user_context(request, session, actor),
        "users": service.list_users(session=session, actor=actor),
        "values": values or {},
        "problems": translated_problems(request, problems or []),
        "issued": issued,
    }
    return render(request, "auth/users.html", context, status=status)


def _user_page(
    request: Request,
    session: Session,
    actor: Actor,
    user_id: int,
    *,
    problems: list[Problem] | None = None,
    issued: str | None = None,
    saved: bool = False,
    status: int = 200,
) -> HTMLResponse:
    user = service.get_managed_user(session=session, actor=actor, user_id=user_id)
    context = {
        **_user_context(request, session, actor),
        "user": user,
        "problems": translated_problems(request, problems or []),
        "issued": issued,
        "saved": saved,
    }
    return render(request, "auth/user.html", context, status=status)


def _problems(exc: Exception) -> list[Problem]:
    if isinstance(exc, ValidationError):
        return problems_of(exc)
    if isinstance(exc, CordonError):
        return exc.problems or [Problem("form", exc.message)]
    raise exc


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, actor: Manager, session: DbSession) -> HTMLResponse:
    return _users_page(request, session, actor)


@router.post("/users", response_class=HTMLResponse)
def create_user(
    request: Request,
    actor: Manager,
    session: DbSession,
    form: Annotated[NewUserForm, Form()],
) -> HTMLResponse:
    """Create a user; a password left blank is made at random and shown once, on this answer
    only (never in a link)."""
    values = form.model_dump(exclude={"password"})
    password = form.password or secrets.token_urlsafe(12)
    try:
        data = UserIn(
            username=form.username.strip(),
            display_name=form.display_name.strip(),
            role=form.role,  # type: ignore[arg-type]
            jurisdiction=form.jurisdiction.strip(),
            password=password,
        )
        user = service.create_user(session=session, user=data, actor=actor)
    except (ValidationError, CordonError) as exc:
        session.rollback()
        return _users_page(
            request, session, actor, values=values, problems=_problems(exc), status=422
        )
    issued = (user.username, password) if not form.password else None
    return _users_page(request, session, actor, issued=issued, values={"created": user.username})


@router.get("/users/{user_id}", response_class=HTMLResponse)
def user_page(
    request: Request, user_id: RecordId, actor: Manager, session: DbSession, saved: int = 0
) -> HTMLResponse:
    return _user_page(request, session, actor, user_id, saved=bool(saved))


def _changed(
    request: Request, session: Session, actor: Actor, user_id: int, patch: dict[str, object]
) -> Response:
    try:
        service.update_user(
            session=session, actor=actor, user_id=user_id, patch=UserPatch.model_validate(patch)
        )
    except (ValidationError, CordonError) as exc:
        if isinstance(exc, CordonError) and exc.status_code == 404:
            raise
        session.rollback()
        return _user_page(request, session, actor, user_id, problems=_problems(exc), status=422)
    return RedirectResponse(f"/users/{user_id}?saved=1", status_code=303)


@router.post("/users/{user_id}", response_class=HTMLResponse)
def edit_user(
    request: Request,
    user_id: RecordId,
    actor: Manager,
    session: DbSession,
    form: Annotated[EditUserForm, Form()],
) -> Response:
    patch = {key: value.strip() for key, value in form.model_dump().items() if value.strip()}
    return _changed(request, session, actor, user_id, patch)


@router.post("/users/{user_id}/active", response_class=HTMLResponse)
def set_active(
    request: Request,
    user_id: RecordId,
    actor: Manager,
    session: DbSession,
    active: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    return _changed(request, session, actor, user_id, {"active": active == "1"})


@router.post("/users/{user_id}/password", response_class=HTMLResponse)
def reset_password(
    request: Request,
    user_id: RecordId,
    actor: Manager,
    session: DbSession,
    password: Annotated[str, Form(max_length=256)] = "",
) -> HTMLResponse:
    """A new password: the one typed, or a random one shown once on this answer."""
    if password and len(password) < 10:
        problem = Problem("password", "String should have at least 10 characters")
        return _user_page(request, session, actor, user_id, problems=[problem], status=422)
    _user, chosen = service.reset_password(
        session=session, actor=actor, user_id=user_id, password=password or None
    )
    issued = None if password else chosen
    return _user_page(request, session, actor, user_id, issued=issued, saved=bool(password))
