"""Fact shapes shared by the slices that write facts and the codes slice that reads them."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from pydantic import Field, field_validator, model_validator

from cordon.errors import Invalid
from cordon.facts import rules
from cordon.inputs import Input, zoned


class FactIn(Input):
    person_id: int = Field(ge=1, le=2_147_483_647)
    kind: str = Field(max_length=32)
    at: datetime
    attrs: dict[str, int | str | None] = Field(default_factory=dict)
    source: str = Field(min_length=1, max_length=120)

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return zoned(value)

    @model_validator(mode="after")
    def _in_catalogue(self) -> FactIn:
        # One error per validator: the first thing wrong, with its field (rules.problems_in
        # lists them all, as facts.service reports them).
        problems = rules.problems_in(self.kind, self.attrs)
        if problems:
            first = problems[0]
            raise Invalid("%(field)s: %(problem)s", params=dict(field=first.field, problem=first))
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
