"""FastAPI dependencies as ``Annotated`` aliases, shared by every slice's api and pages.

A request is authenticated by a bearer token (API clients) or by the session cookie (pages).
Requests authenticated by cookie must also prove they come from our own forms (CSRF).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from cordon.auth import service as auth_service
from cordon.auth.models import AuthToken
from cordon.auth.schemas import Actor
from cordon.config import Settings
from cordon.db import transaction
from cordon.errors import Forbidden, Unauthorized
from cordon.security.crypto import FieldCipher

SESSION_COOKIE = "cordon_session"
LANG_COOKIE = "cordon_lang"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class LoginRequired(Unauthorized):
    """Raised for pages: answered with a redirect to the login page."""


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    with transaction(request.app.state.session_factory) as session:
        yield session


def route_transaction(request: Request) -> AbstractContextManager[Session]:
    """A transaction opened and closed inside a sync route's own thread.

    ``DbSession`` holds its connection from the dependency's thread to the teardown's, across
    threadpool hops; under a burst of more concurrent requests than the connection pool holds,
    requests waiting for a connection can occupy every thread that the holders need to finish.
    Public endpoints that must take bursts (residents' lookups) use this instead."""
    return transaction(request.app.state.session_factory)


def get_cipher(request: Request) -> FieldCipher:
    cipher: FieldCipher = request.app.state.cipher
    return cipher


def client_addr(request: Request) -> str | None:
    return request.client.host if request.client else None


# Row ids fit PostgreSQL's integer; larger numbers get a 422, not a database error.
RecordId = Annotated[int, Path(ge=1, le=2_147_483_647, description="Record id")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": commit before the response is sent. With FastAPI's default ("request") the
# commit runs after the client already has the answer, so a browser following the login
# redirect could arrive before its session row exists.
DbSession = Annotated[Session, Depends(get_session, scope="function")]
Cipher = Annotated[FieldCipher, Depends(get_cipher)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        return token.strip()
    return None


async def _csrf_sent(request: Request) -> str:
    sent = request.headers.get(CSRF_HEADER)
    if sent:
        return sent
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def get_actor(request: Request, session: DbSession) -> Actor:
    token = _bearer(request)
    page = not request.url.path.startswith("/api/")
    if token is not None:
        found = auth_service.resolve_token(session=session, token=token, kind="api")
        if found is None:
            raise Unauthorized("invalid or expired token")
        user, _row = found
        return auth_service.actor_for(user, client_addr=client_addr(request))
    cookie = request.cookies.get(SESSION_COOKIE)
    found = (
        auth_service.resolve_token(session=session, token=cookie, kind="session")
        if cookie
        else None
    )
    if found is None:
        if page:
            raise LoginRequired("please log in")
        raise Unauthorized("send a bearer token (POST /api/v1/auth/token)")
    user, row = found
    if request.method not in SAFE_METHODS:
        sent = await _csrf_sent(request)
        if not row.csrf_token or not hmac.compare_digest(sent, row.csrf_token):
            raise Forbidden("missing or wrong CSRF token; reload the page and try again")
    request.state.session_row = row
    return auth_service.actor_for(user, client_addr=client_addr(request))


CurrentActor = Annotated[Actor, Depends(get_actor)]


def require(permission: str) -> Callable[[Actor], Actor]:
    """A dependency that lets only actors whose role has ``permission`` through."""

    def check(actor: CurrentActor) -> Actor:
        if not actor.can(permission):
            raise Forbidden(
                "your role (%(role)s) may not do %(permission)s",
                params=dict(role=actor.role, permission=permission),
            )
        return actor

    return check


def session_row(request: Request) -> AuthToken | None:
    """The cookie session of a page request (for its CSRF token), after get_actor ran."""
    return getattr(request.state, "session_row", None)
