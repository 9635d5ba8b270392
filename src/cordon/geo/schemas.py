"""Shapes of divisions and grids as the API shows them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from cordon.inputs import Input


class DivisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    level: str
    parent_code: str | None


class GridOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    division_code: str
    lon: float | None
    lat: float | None


class GridIn(Input):
    code: str
    name: str
    division_code: str
    lon: float | None = None
    lat: float | None = None
