"""Users, authentication, sessions and tokens, and the failed-login brake."""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cordon.audit import service as audit
from cordon.auth import rules
from cordon.auth.models import AuthToken, LoginFailure, User
from cordon.auth.passwords import hash_password, verify_password
from cordon.auth.schemas import Actor, UserIn, UserPatch
from cordon.db import wall_utcnow
from cordon.errors import (
    Conflict,
    DeniedAccess,
    Forbidden,
    NotFound,
    OutOfJurisdiction,
    Problem,
    TooManyAttempts,
    ValidationFailed,
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
    if actor is not None:
        audit.record(
            session=session,
            actor=actor,
            action="create",
            entity="user",
            entity_id=row.id,
            detail={"username": row.username, "role": row.role, "jurisdiction": row.jurisdiction},
        )
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
    actor: Actor, unknown: NotFound, *, action: str, entity: str, entity_id: str | int
) -> OutOfJurisdiction:
    """The answer to reaching a record outside the actor's jurisdiction: ``unknown``, the 404
    a record that does not exist gets (so the record's existence does not leak, in any
    language), still audited as a denied attempt."""
    return OutOfJurisdiction(
        unknown.template or unknown.message,
        params=unknown.params if unknown.template else None,
        problems=unknown.problems,
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


def _seconds_until_below(
    session: Session, condition: object, count: int, limit: int, window: timedelta
) -> int:
    """Seconds until enough of the counted failures leave the window for one more try."""
    oldest = session.scalar(
        select(LoginFailure.at)
        .where(condition, LoginFailure.at >= wall_utcnow() - window)  # type: ignore[arg-type]
        .order_by(LoginFailure.at)
        .offset(count - limit)
        .limit(1)
    )
    if oldest is None:
        return 1
    return max(math.ceil((oldest + window - wall_utcnow()).total_seconds()), 1)


def check_login_brake(
    *,
    session: Session,
    username: str,
    client_addr: str | None,
    max_failures: int,
    window: timedelta,
) -> None:
    """Refuse further attempts once a name, or an address, has failed too often lately; the
    refusal says when the next attempt is allowed (``retry_after``, seconds)."""
    since = wall_utcnow() - window
    by_name = (
        session.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.username == username, LoginFailure.at >= since)
        )
        or 0
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
    waits = []
    if by_name >= max_failures:
        waits.append(
            _seconds_until_below(
                session, LoginFailure.username == username, by_name, max_failures, window
            )
        )
    if by_addr >= max_failures * 4:
        waits.append(
            _seconds_until_below(
                session, LoginFailure.client_addr == client_addr, by_addr, max_failures * 4, window
            )
        )
    if waits:
        retry = max(waits)
        raise TooManyAttempts(
            "too many failed logins; try again in %(minutes)s minutes",
            params=dict(minutes=math.ceil(retry / 60)),
            retry_after=retry,
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
        expires_at=wall_utcnow() + lifetime,
        client_addr=client_addr,
    )
    session.add(row)
    session.flush()
    return token, row


def resolve_token(*, session: Session, token: str, kind: str) -> tuple[User, AuthToken] | None:
    row = session.scalar(
        select(AuthToken).where(AuthToken.token_hash == _digest(token), AuthToken.kind == kind)
    )
    if row is None or row.expires_at <= wall_utcnow():
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
    moment = now or wall_utcnow()
    session.execute(delete(AuthToken).where(AuthToken.expires_at <= moment))
    session.execute(delete(LoginFailure).where(LoginFailure.at < moment - keep_failures))


def _managed(*, session: Session, actor: Actor, user_id: int, action: str) -> User:
    """A user the actor may manage: inside the actor's own jurisdiction (others are a 404,
    audited as denied, like any record out of reach)."""
    require(actor, "users:manage")
    user = session.get(User, user_id)
    unknown = NotFound("no user %(user_id)s", params=dict(user_id=user_id))
    if user is None:
        raise unknown
    if not user.jurisdiction.startswith(actor.jurisdiction):
        raise out_of_jurisdiction(actor, unknown, action=action, entity="user", entity_id=user_id)
    return user


def get_managed_user(*, session: Session, actor: Actor, user_id: int) -> User:
    return _managed(session=session, actor=actor, user_id=user_id, action="view")


def update_user(*, session: Session, actor: Actor, user_id: int, patch: UserPatch) -> User:
    """Change a user's name, role, jurisdiction or whether they may log in; audited. An admin
    may not disable themselves or change their own role, and keeps every user inside their own
    jurisdiction. Disabling ends the user's sessions and tokens."""
    user = _managed(session=session, actor=actor, user_id=user_id, action="update")
    changes: dict[str, object] = {}
    problems: list[Problem] = []
    own = user.id == actor.user_id
    if patch.display_name is not None and patch.display_name.strip() != user.display_name:
        changes["display_name"] = patch.display_name.strip() or user.username
    if patch.role is not None and patch.role.value != user.role:
        if own:
            problems.append(Problem("role", "you may not change your own role"))
        changes["role"] = patch.role.value
    if patch.jurisdiction is not None:
        try:
            division = geo_service.require_division(
                session=session, code=patch.jurisdiction, field="jurisdiction"
            )
        except ValidationFailed as exc:
            problems.extend(exc.problems)
        else:
            if not division.code.startswith(actor.jurisdiction):
                problems.append(Problem("jurisdiction", "outside your jurisdiction"))
            elif division.code != user.jurisdiction:
                changes["jurisdiction"] = division.code
    if patch.active is not None and patch.active != user.active:
        if own and not patch.active:
            problems.append(Problem("active", "you may not disable yourself"))
        changes["active"] = patch.active
    if problems:
        raise ValidationFailed("the changes are not valid", problems=problems)
    if not changes:
        return user
    for name, value in changes.items():
        setattr(user, name, value)
    if changes.get("active") is False:
        session.execute(delete(AuthToken).where(AuthToken.user_id == user.id))
    session.flush()
    action = "update"
    if "active" in changes:
        action = "enable" if changes["active"] else "disable"
    audit.record(
        session=session,
        actor=actor,
        action=action,
        entity="user",
        entity_id=user.id,
        detail={"username": user.username, "changes": changes},
    )
    return user


def reset_password(
    *, session: Session, actor: Actor, user_id: int, password: str | None = None
) -> tuple[User, str]:
    """Give a user a new password (a random one when none is given), end their sessions and
    tokens, and audit it (never the password). Returns the user and the password to hand over."""
    user = _managed(session=session, actor=actor, user_id=user_id, action="reset_password")
    return user, _new_password(session=session, actor=actor, user=user, password=password)


def reset_password_from_console(
    *, session: Session, username: str, password: str | None = None
) -> tuple[User, str]:
    """``cordon users reset-password``: an operator at the server's console (like ``users
    create``) gives a user a new password, e.g. the only admin who forgot theirs. Audited."""
    user = find_user(session=session, username=username)
    if user is None:
        raise NotFound(
            "no user '%(username)s'",
            params=dict(username=username),
            problems=[Problem("user", "unknown user")],
        )
    console = Actor(user_id=None, username="console", role="", jurisdiction="")
    return user, _new_password(session=session, actor=console, user=user, password=password)


def _new_password(*, session: Session, actor: Actor, user: User, password: str | None) -> str:
    chosen = password or secrets.token_urlsafe(12)
    set_password(user=user, password=chosen)
    session.execute(delete(AuthToken).where(AuthToken.user_id == user.id))
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="reset_password",
        entity="user",
        entity_id=user.id,
        detail={"username": user.username, "generated": password is None},
    )
    return chosen
