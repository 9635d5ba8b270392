"""The clock's shapes in the API: what it says, and a change an operator asks for."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from cordon.errors import Invalid
from cordon.inputs import Input

Mode = Literal["real", "running", "pinned"]


class ClockOut(Input):
    now: datetime = Field(description="The clock's current instant (UTC).")
    mode: Mode = Field(
        description="real: the wall clock; running: a scenario time that "
        "advances; pinned: a scenario time that stays."
    )
    anchor: datetime | None = Field(description="The scenario instant set, if any (UTC).")
    rate: float = Field(description="Scenario seconds per real second while running.")


class ClockIn(Input):
    mode: Mode
    at: datetime | None = Field(
        default=None,
        validate_default=True,  # so that a missing time is refused, naming the field
        description="The scenario instant (ISO 8601); a time without a zone is read in the "
        "configured zone (Asia/Shanghai). Required unless mode is real.",
    )
    rate: float = Field(default=1.0, gt=0, le=100_000)

    @field_validator("at")
    @classmethod
    def _at_given(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        if value is None and info.data.get("mode", "real") != "real":
            raise Invalid("a scenario time is required unless the mode is real")
        return value
