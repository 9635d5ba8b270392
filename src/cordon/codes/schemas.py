"""Health-code shapes for the API, pages and commands."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from cordon.inputs import Input

Colour = Literal["red", "yellow", "green"]


class ReasonOut(BaseModel):
    rule_id: str
    zh: str
    en: str


class ConversionOut(BaseModel):
    colour: Colour
    at: datetime | None
    zh: str
    en: str


class DecisionOut(BaseModel):
    person_id: int
    colour: Colour
    pack: str
    at: datetime
    rules: list[str]
    reasons: list[ReasonOut]
    conversion: ConversionOut | None


class ChangeOut(BaseModel):
    colour_from: Colour | None
    colour_to: Colour
    pack: str
    at: datetime
    rules: list[str]
    reasons: list[ReasonOut]
    conversion: ConversionOut | None


class ExplainOut(BaseModel):
    current: DecisionOut
    stored_colour: Colour | None = Field(description="Colour of the last recompute, if any.")
    stored_at: datetime | None
    history: list[ChangeOut]


class RecomputeOut(BaseModel):
    kind: Literal["full", "incremental"]
    pack: str
    at: datetime
    evaluated: int
    changed: int
    seconds: float
    held: dict[str, int] = Field(description="People held by a rule, per colour.")


class LookupIn(Input):
    id_number: str = Field(min_length=15, max_length=18)
    name: str = Field(min_length=1, max_length=64)

    @field_validator("id_number")
    @classmethod
    def _shape(cls, value: str) -> str:
        value = value.strip().upper()
        if (
            len(value) != 18
            or not value[:17].isdigit()
            or not (value[17].isdigit() or value[17] == "X")
        ):
            raise ValueError("an identity number has 17 digits and a check digit (0-9 or X)")
        return value


class LookupOut(BaseModel):
    name: str
    id_number: str
    colour: Colour
    reasons: list[ReasonOut]
    conversion: ConversionOut | None
    token: str
    expires_at: datetime


class VerifyIn(Input):
    token: str = Field(min_length=1, max_length=2000)


class VerifyOut(BaseModel):
    valid: bool
    message: str
    colour: Colour | None = None
    name: str | None = None
    id_number: str | None = None
    expires_at: datetime | None = None


class PlaceCount(BaseModel):
    code: str
    name: str
    people: int
    red: int
    yellow: int
    green: int


class WhatIfExample(BaseModel):
    person_id: int
    division_code: str
    grid_code: str | None
    colour_from: Colour
    colour_to: Colour
    reasons: list[ReasonOut]
    # The person's riskiest stored contact, where they are one: examples come riskiest first.
    contact_kind: str | None = None
    contact_score: float | None = None
    contact_tier: int | None = None


class WhatIfPlace(BaseModel):
    code: str
    name: str
    changed: int
    transitions: dict[str, int]


class WhatIfOut(BaseModel):
    draft: str
    draft_version: int
    current: str
    at: datetime
    evaluated: int
    changed: int
    transitions: dict[str, int] = Field(description='e.g. {"red→yellow": 12}')
    by_town: list[WhatIfPlace]
    by_grid: list[WhatIfPlace]
    examples: list[WhatIfExample]
