"""Person and household shapes for the API, pages and imports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from cordon.inputs import Input

Sex = Literal["M", "F"]


class PersonIn(Input):
    name: str = Field(min_length=1, max_length=64)
    id_number: str = Field(min_length=1, max_length=32)
    sex: Sex | None = Field(default=None, description="Defaults to what the identity number says.")
    birth_date: date | None = Field(
        default=None, description="Defaults to what the identity number says."
    )
    phone: str | None = Field(default=None, max_length=32)
    address: str = Field(default="", max_length=200)
    household: str | None = Field(default=None, max_length=32, description="Household number")
    division_code: str | None = Field(
        default=None, max_length=12, description="Defaults to the grid's village."
    )
    grid_code: str | None = Field(default=None, max_length=15)


class PersonPatch(Input):
    """Fields to change; the identity number is not changed by editing."""

    name: str | None = Field(default=None, min_length=1, max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=200)
    household: str | None = Field(default=None, max_length=32)
    division_code: str | None = Field(default=None, max_length=12)
    grid_code: str | None = Field(default=None, max_length=15)


class PersonOut(BaseModel):
    id: int
    name: str
    id_number: str
    sex: Sex
    birth_date: date
    phone: str | None
    address: str
    household: str | None
    division_code: str
    division_name: str | None
    grid_code: str | None
    masked: bool = Field(description="True when identity number and phone are shown masked.")
    updated_at: datetime


class PersonName(BaseModel):
    """A person as a list shows them: a name to link to their record."""

    id: int
    name: str = Field(description="Masked (张*明) unless the role may see identity data.")


class PersonPage(BaseModel):
    total: int
    people: list[PersonOut]


class RowError(BaseModel):
    row: int
    field: str
    message: str
    # The message's catalog key and values, for pages to translate (not part of answers).
    template: str = Field(default="", exclude=True)
    params: dict[str, Any] = Field(default_factory=dict, exclude=True)


class ImportReport(BaseModel):
    rows: int
    written: int
    rejected: int
    skipped: int = Field(description="Rows read but not written (all of them when refused)")
    mode: Literal["all_or_nothing", "valid_rows"]
    errors: list[RowError]


class ProblemOut(BaseModel):
    field: str
    message: str
    row: int | None = None


class ImportRefused(BaseModel):
    """A refused import (HTTP 422), nothing written: the file could not be read (problems
    only), or rows were rejected (problems per row, and the report's fields)."""

    error: str
    message: str
    problems: list[ProblemOut]
    rows: int | None = None
    written: int | None = None
    rejected: int | None = None
    skipped: int | None = None
    mode: Literal["all_or_nothing", "valid_rows"] | None = None
    errors: list[RowError] | None = None
