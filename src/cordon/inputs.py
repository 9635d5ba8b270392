"""The base of every request shape: text from users must be storable on every backend.

PostgreSQL refuses NUL characters in text; refusing them here gives the user a 422 naming the
field instead of a database error.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, field_validator


def reject_nul(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


class Input(BaseModel):
    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return reject_nul(value)
