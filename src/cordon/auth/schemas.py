"""Who is acting, and the shapes of users and tokens in the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from cordon.auth.rules import Role
from cordon.inputs import Input


@dataclass(frozen=True)
class Actor:
    """The user behind a request or command, with where they act from."""

    user_id: int | None
    username: str
    role: str
    jurisdiction: str
    permissions: frozenset[str] = field(default_factory=frozenset)
    client_addr: str | None = None

    def can(self, permission: str) -> bool:
        return permission in self.permissions


class UserIn(Input):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=10, max_length=256)
    display_name: str = Field(default="", max_length=64)
    role: Role
    jurisdiction: str = Field(min_length=2, max_length=12)


class UserPatch(Input):
    """Changes to a user; fields left out stay as they are."""

    display_name: str | None = Field(default=None, max_length=64)
    role: Role | None = None
    jurisdiction: str | None = Field(default=None, min_length=2, max_length=12)
    active: bool | None = None


class PasswordReset(Input):
    password: str | None = Field(
        default=None,
        min_length=10,
        max_length=256,
        description="The new password; a random one is made (and answered once) when left out.",
    )


class PasswordOut(BaseModel):
    user_id: int
    password: str = Field(description="Shown once: only its hash is stored.")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: str
    jurisdiction: str
    active: bool
    created_at: datetime


class TokenRequest(Input):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
