"""Token login for API clients, the current user, and user management."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from cordon.auth import service
from cordon.auth.schemas import (
    Actor,
    PasswordOut,
    PasswordReset,
    TokenOut,
    TokenRequest,
    UserIn,
    UserOut,
    UserPatch,
)
from cordon.web.deps import (
    CurrentActor,
    DbSession,
    RecordId,
    SettingsDep,
    _bearer,
    client_addr,
    require,
)

router = APIRouter(tags=["auth"])


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses={401: {"description": "wrong name or password"}, 429: {"description": "slow down"}},
)
def issue_token(
    body: TokenRequest, request: Request, session: DbSession, settings: SettingsDep
) -> TokenOut | JSONResponse:
    user = service.authenticate(
        session=session,
        username=body.username,
        password=body.password,
        client_addr=client_addr(request),
        max_failures=settings.login_max_failures,
        window=timedelta(minutes=settings.login_window_minutes),
    )
    if user is None:
        # Returned, not raised: the transaction commits and the failure is counted.
        return JSONResponse(
            {"error": "unauthorized", "message": "wrong username or password", "problems": []},
            status_code=401,
        )
    token, row = service.issue_token(
        session=session,
        user=user,
        kind="api",
        lifetime=timedelta(hours=settings.session_hours),
        client_addr=client_addr(request),
    )
    return TokenOut(access_token=token, expires_at=row.expires_at)


@router.post("/auth/logout", status_code=204)
def revoke(request: Request, actor: CurrentActor, session: DbSession) -> None:
    token = _bearer(request)
    if token:
        service.revoke_token(session=session, token=token)


@router.get("/me")
def me(actor: CurrentActor) -> dict[str, object]:
    return {
        "user_id": actor.user_id,
        "username": actor.username,
        "role": actor.role,
        "jurisdiction": actor.jurisdiction,
        "permissions": sorted(actor.permissions),
    }


Manager = Annotated[Actor, Depends(require("users:manage"))]


@router.get("/users", response_model=list[UserOut])
def list_users(actor: Manager, session: DbSession) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in service.list_users(session=session, actor=actor)]


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserIn, actor: Manager, session: DbSession) -> UserOut:
    return UserOut.model_validate(service.create_user(session=session, user=body, actor=actor))


@router.get("/users/{user_id}", response_model=UserOut)
def get_user(user_id: RecordId, actor: Manager, session: DbSession) -> UserOut:
    user = service.get_managed_user(session=session, actor=actor, user_id=user_id)
    return UserOut.model_validate(user)


@router.patch("/users/{user_id}", response_model=UserOut)
def update_user(user_id: RecordId, body: UserPatch, actor: Manager, session: DbSession) -> UserOut:
    """Change a user's display name, role, jurisdiction or whether they may log in (within
    your jurisdiction; you may not disable yourself or change your own role)."""
    user = service.update_user(session=session, actor=actor, user_id=user_id, patch=body)
    return UserOut.model_validate(user)


@router.post("/users/{user_id}/password", response_model=PasswordOut)
def reset_password(
    user_id: RecordId, body: PasswordReset, actor: Manager, session: DbSession
) -> PasswordOut:
    """Set a new password (random when none is given); the user's sessions end."""
    user, password = service.reset_password(
        session=session, actor=actor, user_id=user_id, password=body.password
    )
    return PasswordOut(user_id=user.id, password=password)
