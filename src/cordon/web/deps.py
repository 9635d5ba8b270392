"""FastAPI dependencies as ``Annotated`` aliases, shared by every slice's api and pages.

A request is authenticated by a bearer token (API clients) or by the session cookie (pages).
Requests authenticated by cookie must also prove they come from our own forms (CSRF).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from cordon.auth import service as auth_service
from cordon.auth.models import AuthToken
from cordon.auth.schemas import Actor
from cordon.config import Settings
from cordon.db import reads, transaction
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


def route_reads(request: Request) -> AbstractContextManager[Session]:
    """Like :func:`route_transaction` for routes that write nothing in the database (public
    lookups: their limits and audit entries live elsewhere): autocommit reads, no BEGIN or
    COMMIT."""
    return reads(request.app.state.engine)


def get_cipher(request: Request) -> FieldCipher:
    cipher: FieldCipher = request.app.state.cipher
    return cipher


def trusted_networks(spec: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """The networks of ``CORDON_TRUSTED_PROXIES`` ("10.0.0.5, 192.168.1.0/24"); a bad entry is
    a clear error at start, not a silently open door."""
    networks = []
    for part in spec.replace(";", ",").split(","):
        if part.strip():
            try:
                networks.append(ip_network(part.strip(), strict=False))
            except ValueError as exc:
                raise ValueError(
                    f"CORDON_TRUSTED_PROXIES: {part.strip()!r} is not an address"
                ) from exc
    return tuple(networks)


def _trusted(host: str, networks: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    try:
        address = ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


def forwarded_client(
    peer: str | None, forwarded_for: str | None, networks: tuple[IPv4Network | IPv6Network, ...]
) -> str | None:
    """The client's address: the peer's, unless the peer is a configured proxy; then the
    right-most X-Forwarded-For address that is not itself a trusted proxy (entries to its left
    were written by the client and prove nothing)."""
    if peer is None or not forwarded_for or not networks or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop[:64]
    return hops[0][:64] if hops else peer


def client_addr(request: Request) -> str | None:
    """Who is asking, for limits and the audit trail. Forwarded headers count only from the
    proxies in ``CORDON_TRUSTED_PROXIES`` (none by default): a header anyone can send must not
    move a request to another address's allowance."""
    peer = request.client.host if request.client else None
    state = request.app.state
    networks = getattr(state, "trusted_networks", None)
    if networks is None:
        networks = state.trusted_networks = trusted_networks(state.settings.trusted_proxies)
    if not networks:
        return peer
    return forwarded_client(peer, request.headers.get("x-forwarded-for"), networks)


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
