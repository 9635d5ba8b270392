"""Fact shapes shared by the slices that write facts and the codes slice that reads them."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from pydantic import Field, field_validator, model_validator

from cordon.facts import rules
from cordon.inputs import Input


class FactIn(Input):
    person_id: int = Field(ge=1, le=2_147_483_647)
    kind: str = Field(max_length=32)
    at: datetime
    attrs: dict[str, int | str | None] = Field(default_factory=dict)
    source: str = Field(min_length=1, max_length=120)

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a time zone, e.g. 2021-12-20T20:00:00+08:00")
        return value

    @model_validator(mode="after")
    def _in_catalogue(self) -> FactIn:
        problems = rules.problems_in(self.kind, self.attrs)
        if problems:
            raise ValueError("; ".join(f"{field}: {msg}" for field, msg in problems))
        return self


class FactOut(Input):
    id: int
    person_id: int
    division_code: str
    kind: str
    at: datetime
    attrs: dict[str, int | str | None]
    source: str
    recorded_at: datetime
    retracted_at: datetime | None


class RecordResult(Input):
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    retracted: int = 0


class FactRow(NamedTuple):
    """A fact in a large homogeneous batch (``service.record_many``): checked against the
    catalogue once per shape instead of once per row."""

    person_id: int
    kind: str
    at: datetime
    attrs: dict[str, int | str | None]
    source: str
