"""Case shapes for the API and CLI."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field, field_validator, model_validator

from cordon.errors import Invalid
from cordon.inputs import Input, zoned

Kind = Literal["confirmed", "asymptomatic"]
Severity = Literal["none", "mild", "moderate", "severe", "critical"]
FoundBy = Literal["routine_test", "screening", "symptoms", "tracing"]


class CaseIn(Input):
    person_id: int = Field(ge=1, le=2_147_483_647)
    kind: Kind
    severity: Severity = "mild"
    onset_date: date | None = Field(default=None, description="Symptom onset (confirmed cases).")
    sampled_at: datetime | None = Field(default=None, description="Time of the positive sample.")
    found_by: FoundBy
    isolated_at: datetime | None = None
    facility: str = Field(default="", max_length=100)

    @field_validator("sampled_at", "isolated_at")
    @classmethod
    def _zoned(cls, value: datetime | None) -> datetime | None:
        return zoned(value)

    @model_validator(mode="after")
    def _a_window_can_open(self) -> CaseIn:
        if self.onset_date is None and self.sampled_at is None:
            raise Invalid("give onset_date or sampled_at: tracing needs one of them")
        if self.kind == "asymptomatic" and self.onset_date is not None:
            raise Invalid("an asymptomatic case has no onset date")
        return self


class CaseOut(Input):
    id: int
    person_id: int
    division_code: str
    kind: Kind
    severity: Severity
    onset_date: date | None
    sampled_at: datetime | None
    found_by: FoundBy
    reported_at: datetime
    isolated_at: datetime | None
    facility: str
    core_due: datetime
    full_due: datetime
    core_done_at: datetime | None = None
    full_done_at: datetime | None = None
    core_overdue: bool
    full_overdue: bool


class InvestigationIn(Input):
    stage: Literal["core", "full"] = Field(
        description="core: core information (due 4 h after report); full: the whole investigation"
    )
    done_at: datetime | None = Field(default=None, description="Default: now.")

    @field_validator("done_at")
    @classmethod
    def _zoned(cls, value: datetime | None) -> datetime | None:
        return zoned(value)


class TransferIn(Input):
    to_facility: str = Field(min_length=1, max_length=100)
    at: datetime
    reason: str = Field(default="", max_length=200)

    @field_validator("at")
    @classmethod
    def _zoned(cls, value: datetime) -> datetime:
        return zoned(value)


class TransferOut(Input):
    id: int
    case_id: int
    from_facility: str
    to_facility: str
    at: datetime
    reason: str
    recorded_by: str


class PlanIn(Input):
    plan: str = Field(min_length=1, max_length=4000)


class PlanOut(Input):
    case_id: int
    version: int
    plan: str
    updated_at: datetime
    updated_by: str
