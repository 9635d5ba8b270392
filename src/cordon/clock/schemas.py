"""The clock's shapes in the API: what it says, and a change an operator asks for."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

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
        description="The scenario instant (ISO 8601); a time without a zone is read in the "
        "configured zone (Asia/Shanghai). Required unless mode is real.",
    )
    rate: float = Field(default=1.0, gt=0, le=100_000)

    @model_validator(mode="after")
    def _at_given(self) -> ClockIn:
        if self.mode != "real" and self.at is None:
            raise ValueError("at: a scenario time is required unless the mode is real")
        return self
