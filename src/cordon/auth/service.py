"""Users, authentication, sessions and tokens, and the failed-login brake."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cordon.auth import rules
from cordon.auth.models import AuthToken, LoginFailure, User
from cordon.auth.passwords import hash_password, verify_password
from cordon.auth.schemas import Actor, UserIn
from cordon.db import utcnow
from cordon.errors import (
    Conflict,
    DeniedAccess,
    Forbidden,
    NotFound,
    OutOfJurisdiction,
    Problem,
    TooManyAttempts,
)
from cordon.geo import service as geo_service


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(*, session: Session, user: UserIn, actor: Actor | None = None) -> User:
    """Create a user. With an ``actor`` (not from the CLI) the new user must fall inside the
    actor's own jurisdiction."""
    division = geo_service.require_division(
        session=session, code=user.jurisdiction, field="jurisdiction"
    )
    if actor is not None:
        if not actor.can("users:manage"):
            raise Forbidden("you may not manage users")
        if not division.code.startswith(actor.jurisdiction):
            raise Forbidden(
                "jurisdiction %(code)s lies outside your own (%(jurisdiction)s)",
                params=dict(code=division.code, jurisdiction=actor.jurisdiction),
                problems=[Problem("jurisdiction", "outside your jurisdiction")],
            )
    if session.scalar(select(User.id).where(User.username == user.username)) is not None:
        raise Conflict(
            "user %(username)s exists",
            params=dict(username=repr(user.username)),
            problems=[Problem("username", "already taken")],
        )
    row = User(
        username=user.username,
        display_name=user.display_name or user.username,
        password_hash=hash_password(user.password),
        role=user.role.value,
        jurisdiction=division.code,
    )
    session.add(row)
    session.flush()
    return row


def find_user(*, session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def actor_named(*, session: Session, username: str, client_addr: str | None) -> Actor:
    """The actor for a command run as ``username`` (scoped and audited like a request)."""
    user = find_user(session=session, username=username)
    if user is None:
        raise NotFound(
            "no user %(username)s",
            params=dict(username=repr(username)),
            problems=[Problem("user", "unknown user")],
        )
    return actor_for(user, client_addr=client_addr)


def require(actor: Actor, permission: str) -> None:
    """Refuse an actor whose role lacks ``permission``; every service checks its own."""
    if not actor.can(permission):
        raise Forbidden(
            "your role (%(role)s) may not do %(permission)s",
            params=dict(role=actor.role, permission=permission),
        )


def out_of_jurisdiction(
    actor: Actor, *, message: str, action: str, entity: str, entity_id: str | int
) -> OutOfJurisdiction:
    """The answer to reaching a record outside the actor's jurisdiction: a 404 (so the record's
    existence does not leak) that is still audited as a denied attempt."""
    return OutOfJurisdiction(
        message,
        denied=DeniedAccess(
            user_id=actor.user_id,
            username=actor.username,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            detail={"reason": "outside jurisdiction", "jurisdiction": actor.jurisdiction},
        ),
    )


def set_password(*, user: User, password: str) -> None:
    user.password_hash = hash_password(password)


def list_users(*, session: Session, actor: Actor) -> list[User]:
    require(actor, "users:manage")
    query = select(User).where(User.jurisdiction.startswith(actor.jurisdiction))
    return list(session.scalars(query.order_by(User.username)))


def actor_for(user: User, *, client_addr: str | None) -> Actor:
    return Actor(
        user_id=user.id,
        username=user.username,
        role=user.role,
        jurisdiction=user.jurisdiction,
        permissions=rules.permissions_of(user.role),
        client_addr=client_addr,
    )


def check_login_brake(
    *,
    session: Session,
    username: str,
    client_addr: str | None,
    max_failures: int,
    window: timedelta,
) -> None:
    """Refuse further attempts once a name, or an address, has failed too often lately."""
    since = utcnow() - window
    by_name = session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.username == username, LoginFailure.at >= since)
    )
    by_addr = 0
    if client_addr:
        by_addr = (
            session.scalar(
                select(func.count())
                .select_from(LoginFailure)
                .where(LoginFailure.client_addr == client_addr, LoginFailure.at >= since)
            )
            or 0
        )
    if (by_name or 0) >= max_failures or by_addr >= max_failures * 4:
        minutes = int(window.total_seconds() // 60)
        raise TooManyAttempts(
            "too many failed logins; try again in %(minutes)s minutes", params=dict(minutes=minutes)
        )


def authenticate(
    *,
    session: Session,
    username: str,
    password: str,
    client_addr: str | None,
    max_failures: int = 5,
    window: timedelta = timedelta(minutes=15),
) -> User | None:
    """The user if the password is right; otherwise records the failure and returns None.

    Returns instead of raising so that the caller's transaction keeps the failure record.
    """
    check_login_brake(
        session=session,
        username=username,
        client_addr=client_addr,
        max_failures=max_failures,
        window=window,
    )
    user = session.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        session.add(LoginFailure(username=username[:64], client_addr=client_addr))
        session.flush()
        return None
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    # Each successful login also sweeps what has expired, so the tables stay small.
    purge_expired(session=session, keep_failures=window)
    return user


def issue_token(
    *, session: Session, user: User, kind: str, lifetime: timedelta, client_addr: str | None
) -> tuple[str, AuthToken]:
    """A new random token; only its digest is stored. Returns (token, row)."""
    token = secrets.token_urlsafe(32)
    row = AuthToken(
        token_hash=_digest(token),
        kind=kind,
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32) if kind == "session" else None,
        expires_at=utcnow() + lifetime,
        client_addr=client_addr,
    )
    session.add(row)
    session.flush()
    return token, row


def resolve_token(*, session: Session, token: str, kind: str) -> tuple[User, AuthToken] | None:
    row = session.scalar(
        select(AuthToken).where(AuthToken.token_hash == _digest(token), AuthToken.kind == kind)
    )
    if row is None or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return user, row


def revoke_token(*, session: Session, token: str) -> None:
    session.execute(delete(AuthToken).where(AuthToken.token_hash == _digest(token)))


def purge_expired(
    *, session: Session, keep_failures: timedelta, now: datetime | None = None
) -> None:
    """Forget expired sessions and tokens, and failed logins older than the brake's window."""
    moment = now or utcnow()
    session.execute(delete(AuthToken).where(AuthToken.expires_at <= moment))
    session.execute(delete(LoginFailure).where(LoginFailure.at < moment - keep_failures))
