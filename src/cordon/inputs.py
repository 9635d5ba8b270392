"""The base of every request shape: text from users must be storable on every backend.

PostgreSQL refuses NUL characters in text; refusing them here gives the user a 422 naming the
field instead of a database error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, field_validator

from cordon.errors import Invalid

# How a time with its zone is written, shown to whoever sends one without.
ZONED_EXAMPLE = "2021-12-20T20:00:00+08:00"
Moment = TypeVar("Moment", datetime, datetime | None)


def reject_nul(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise Invalid("must not contain NUL characters")
    return value


def zoned(value: Moment) -> Moment:
    """A time as given, if it says its zone: a bare 20:00 could be Beijing's or UTC's."""
    if value is not None and value.tzinfo is None:
        raise Invalid("needs a time zone, e.g. %(example)s", params=dict(example=ZONED_EXAMPLE))
    return value


class Input(BaseModel):
    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return reject_nul(value)
