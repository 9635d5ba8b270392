"""Scenarios: named YAML files of every simulator parameter, with their sources.

``scenarios/<name>.yaml`` holds the parameters; each section is validated by the part that
uses it (city, movement, vessels, outbreak), so an unknown key or a wrong value is refused at
load time with its path named.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cordon.errors import Problem, ValidationFailed
from cordon.sim.city import CityParams
from cordon.sim.movement import MovementParams
from cordon.sim.outbreak import OutbreakParams
from cordon.sim.vessels import VesselParams


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    start_date: date = Field(description="First simulated day (Asia/Shanghai calendar).")
    max_days: int = Field(gt=0, description="Longest run this scenario supports.")
    max_population: int = Field(gt=0, description="Largest population this scenario supports.")
    city: CityParams = Field(default_factory=CityParams)
    movement: MovementParams = Field(default_factory=MovementParams)
    vessels: VesselParams = Field(default_factory=VesselParams)
    outbreak: OutbreakParams = Field(default_factory=OutbreakParams)


def available() -> list[str]:
    folder = resources.files("cordon.sim") / "scenarios"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def load(name: str) -> Scenario:
    """The packaged scenario ``name``; a clear error for an unknown name or a bad file."""
    known = available()
    if name not in known:
        message = f"unknown scenario {name!r}; known: {', '.join(known)}"
        raise ValidationFailed(message, problems=[Problem("scenario", message)])
    text = (resources.files("cordon.sim") / "scenarios" / f"{name}.yaml").read_text("utf-8")
    return parse(yaml.safe_load(text), source=f"{name}.yaml")


def parse(data: Any, *, source: str) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(".".join(str(p) for p in e["loc"]) or "scenario", e["msg"])
            for e in exc.errors()
        ]
        raise ValidationFailed(f"scenario {source} is not valid", problems=problems) from exc
