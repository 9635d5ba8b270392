"""Screening shapes for the API, pages and CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from cordon.errors import Invalid
from cordon.inputs import Input, zoned

ZoneLevel = Literal["sealed", "controlled", "other"]
Result = Literal["negative", "positive"]
BARCODE = r"^[A-Za-z0-9-]{4,40}$"


class Pooling(Input):
    sealed: int = Field(default=1, ge=1, le=50)
    controlled: int = Field(default=10, ge=1, le=50)
    other: int = Field(default=20, ge=1, le=50)


class RoundIn(Input):
    name: str = Field(min_length=1, max_length=100)
    division_code: str = Field(min_length=2, max_length=12, pattern=r"^\d+$")
    starts_at: datetime
    ends_at: datetime
    result_hours: int = Field(default=24, ge=1, le=168)
    pooling: Pooling = Field(default_factory=Pooling)
    sealed_by_household: bool = False
    zones: dict[str, ZoneLevel] = Field(
        default_factory=dict,
        description="Zone level per grid or division code; unlisted areas are 'other'.",
        max_length=5000,
    )

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _tz(cls, value: datetime) -> datetime:
        return zoned(value)

    @field_validator("zones")
    @classmethod
    def _codes(cls, value: dict[str, str]) -> dict[str, str]:
        for code in value:
            if not code.isdigit() or not 2 <= len(code) <= 15:
                raise Invalid(
                    "zone code '%(code)s' is not a division or grid code", params=dict(code=code)
                )
        return value

    @field_validator("ends_at")
    @classmethod
    def _after_start(cls, value: datetime, info: ValidationInfo) -> datetime:
        # Declared after _tz, so both times are zoned here (a start that failed is absent).
        starts = info.data.get("starts_at")
        if starts is not None and value <= starts:
            raise Invalid("must be after the start")
        return value


class RoundOut(BaseModel):
    id: int
    name: str
    division_code: str
    starts_at: datetime
    ends_at: datetime
    result_hours: int
    pooling: dict[str, int]
    sealed_by_household: bool
    zones: dict[str, str]
    status: str
    expected: int


class SiteIn(Input):
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["fixed", "mobile"] = "fixed"
    division_code: str = Field(min_length=2, max_length=12, pattern=r"^\d+$")
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    tables: int = Field(default=1, ge=1, le=500)
    opens: str = Field(default="07:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    closes: str = Field(default="19:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    capacity_per_table: int = Field(default=700, ge=1, le=5000)
    grids: list[str] = Field(default_factory=list, max_length=2000)


class SiteOut(BaseModel):
    id: int
    round_id: int
    name: str
    kind: str
    division_code: str
    lon: float | None
    lat: float | None
    tables: int
    opens: str
    closes: str
    capacity_per_table: int
    grids: list[str]


class SitePlan(BaseModel):
    site: SiteOut
    expected: int
    per_table_day: float
    capacity_day: int
    overloaded: bool
    underused: bool


class PlanOut(BaseModel):
    round_id: int
    days: float
    sites: list[SitePlan]
    unassigned_grids: list[str]
    unassigned_people: int


class ScanIn(Input):
    """One swab: who (identity number, or person id from a pre-registration code) and tube."""

    site_id: int = Field(ge=1, le=2_147_483_647)
    tube: str = Field(pattern=BARCODE)
    id_number: str | None = Field(default=None, max_length=32)
    person_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    sampled_at: datetime | None = None

    @field_validator("sampled_at")
    @classmethod
    def _tz(cls, value: datetime | None) -> datetime | None:
        return zoned(value)

    @model_validator(mode="after")
    def _someone(self) -> ScanIn:
        if not self.id_number and self.person_id is None:
            raise Invalid("scan an identity number or a pre-registration code")
        return self


class ScanOut(BaseModel):
    sample_id: int
    person_id: int
    name: str
    tube: str
    tube_filled: int
    tube_capacity: int
    tube_closed: bool
    purpose: str


class ReceiveIn(Input):
    lab: str = Field(min_length=1, max_length=64)
    tubes: list[str] = Field(min_length=1, max_length=20_000)


class ReceiveOut(BaseModel):
    received: int
    already: int


class RowError(BaseModel):
    row: int
    field: str
    message: str
    # The message's catalog key and values, for pages to translate (not part of answers).
    template: str = Field(default="", exclude=True)
    params: dict[str, Any] = Field(default_factory=dict, exclude=True)


class LabImportOut(BaseModel):
    import_id: int | None
    rows: int
    changed: int
    unchanged: int
    positive_tubes: list[str]
    flagged_people: int
    tasks_created: int
    proposals_created: int
    cleared: int


class CoverageRow(BaseModel):
    code: str
    name: str
    expected: int
    sampled: int
    resulted: int
    positive: int
    flagged: int
    cleared: int
    coverage: float
    lon: float | None = None
    lat: float | None = None


class Progress(BaseModel):
    round_id: int
    expected: int
    sampled: int
    resulted: int
    positive_tubes: int
    tubes: int
    turnaround_p50_hours: float | None
    turnaround_p90_hours: float | None
    turnaround_max_hours: float | None
    within_target: float | None
    target_hours: int


class MissingPerson(BaseModel):
    person_id: int
    name: str
    id_number: str
    phone: str | None
    address: str
    grid_code: str | None
    division_code: str


class TaskOut(BaseModel):
    id: int
    round_id: int
    kind: str
    person_id: int
    name: str
    grid_code: str | None
    tube_barcode: str
    status: str
    due_at: datetime
    created_at: datetime
    done_at: datetime | None


class ProposalOut(BaseModel):
    id: int
    round_id: int
    person_id: int
    division_code: str
    tube_barcode: str
    sampled_at: datetime
    status: str
    case_id: int | None


class PlannerIn(Input):
    prevalence: float = Field(gt=0, lt=0.5)
    max_pool: int = Field(default=20, ge=1, le=50)
    people: int = Field(default=0, ge=0, le=50_000_000)
    lab_per_day: int | None = Field(default=None, ge=1, le=50_000_000)


class DesignOut(BaseModel):
    name: str
    pool: int
    tests_per_person: float


class PlannerOut(BaseModel):
    prevalence: float
    max_pool: int
    designs: list[DesignOut]
    recommended: DesignOut
    per_zone: dict[str, DesignOut]
    entropy: float
    people: int
    lab_per_day: int | None
    tests_needed: int
    lab_days: int | None


class OwnResult(BaseModel):
    round_name: str
    sampled_at: datetime
    result: str  # negative | positive | pending | retest_due | cleared (pool, then retest negative)
    tube: str


class LookupIn(Input):
    id_number: str = Field(min_length=6, max_length=32)
    name: str = Field(min_length=1, max_length=64)


class LookupOut(BaseModel):
    found: bool
    name: str
    id_number: str
    results: list[OwnResult]
