"""Parameters of the outbreak (``OutbreakParams``), each with its source."""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator

from cordon.lake import schemas
from cordon.sim.disease import Infectiousness


class ImportSpec(BaseModel):
    """Infections brought in from outside on a given simulation day (or calendar date)."""

    model_config = ConfigDict(extra="forbid")
    day: int | None = Field(default=None, ge=0, description="Simulation day of the introduction.")
    date: dt.date | None = Field(
        default=None,
        description="Or its calendar date (Asia/Shanghai), whatever the scenario's start date.",
    )
    kind: Literal["border", "sea"] = Field(
        description="border: a trader infected at the border crossing that day; sea: a fisher "
        "whose boat met a foreign vessel that day."
    )
    count: int = Field(default=1, ge=1, description="Number of people infected.")

    @model_validator(mode="after")
    def _day_or_date(self) -> Self:
        if (self.day is None) == (self.date is None):
            raise ValueError("give either day or date")
        return self

    def day_of(self, start_date: dt.date) -> int:
        """The simulation day of the introduction for a run starting on ``start_date``."""
        if self.date is None:
            return int(self.day or 0)
        day = (self.date - start_date).days
        if day < 0:
            raise ValueError(f"import on {self.date} is before the start date {start_date}")
        return day


class RoutineGroup(BaseModel):
    """A group tested routinely (key-population screening)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="The group, written to routine_tests.group.")
    roles: list[str] = Field(default_factory=list, description="Roles (PEOPLE.role) in it.")
    work_place_kinds: list[str] = Field(
        default_factory=list, description="People whose work place is of one of these kinds."
    )
    visited_place_kinds: list[str] = Field(
        default_factory=list,
        description="People with a stay at a place of one of these kinds that day.",
    )
    every_days: int = Field(ge=1, description="Test interval in days, staggered by person.")


def _default_rates() -> dict[str, float]:
    return {
        "household": 0.005,
        "work": 0.004,
        "class": 0.002,
        "venue": 0.02,
        "health": 0.005,
        "transit": 0.005,
        "vessel": 0.005,
        "outside": 0.0,
    }


def _default_caps() -> dict[str, float]:
    return {"work": 20.0, "venue": 10.0, "health": 10.0, "transit": 10.0}


def _default_groups() -> list[RoutineGroup]:
    return [
        RoutineGroup(
            name="border",
            roles=["trader"],
            work_place_kinds=["border_crossing"],
            visited_place_kinds=["border_crossing"],
            every_days=2,
        ),
        RoutineGroup(
            name="port", work_place_kinds=["port"], visited_place_kinds=["port"], every_days=2
        ),
        RoutineGroup(name="fisher", roles=["fisher"], work_place_kinds=["harbour"], every_days=3),
        RoutineGroup(
            name="health_worker",
            roles=["health_worker"],
            work_place_kinds=["hospital", "clinic"],
            every_days=7,
        ),
    ]


def _default_imports() -> list[ImportSpec]:
    return [
        ImportSpec(date=dt.date(2021, 12, 17), kind="border", count=2),
        ImportSpec(date=dt.date(2021, 12, 18), kind="sea", count=1),
    ]


def _hellewell() -> list[tuple[float, float]]:
    return [(0, 0.0), (1, 0.10), (2, 0.40), (3, 0.65), (4, 0.77), (10, 0.50), (21, 0.15), (30, 0.0)]


class OutbreakParams(BaseModel):
    """Every parameter of the outbreak, with its source. Rates are hazards per hour of
    co-presence with one person at peak infectiousness; see the module docstring for how they
    make the reproduction number."""

    model_config = ConfigDict(extra="forbid")

    incubation_mean_days: float = Field(
        default=4.4,
        gt=0,
        description="Mean incubation period, Delta: 4.4 d (Zhang M et al. 2021, China CDC "
        "Weekly 3(27), Guangdong Delta outbreak May-June 2021; Guangzhou median 4.0 d, Wang Y et "
        "al. 2021, EClinicalMedicine 40:101129).",
    )
    incubation_sd_days: float = Field(
        default=1.9,
        gt=0,
        description="SD of the (lognormal) incubation period; gives a 97.5th percentile near 9 d, "
        "cf. 6.9 d for Delta in Japan (Ogata T et al. 2022, IJERPH 19:1127). Assumption.",
    )
    generation_mean_days: float = Field(
        default=4.7,
        gt=0,
        description="Mean intrinsic generation time, Delta: 4.7 d (Hart WS et al. 2022, Lancet "
        "Infect Dis 22:603, UK household study). The infectiousness profile is a gamma density "
        "with this mean.",
    )
    generation_sd_days: float = Field(
        default=2.5,
        gt=0,
        description="SD of the generation time (gamma). Assumption within the range of Hart et al. "
        "2022 and Ganyani T et al. 2020 (Euro Surveill 25(17)).",
    )
    infectious_max_days: float = Field(
        default=21.0, gt=0, description="No transmission later than this after infection."
    )
    asymptomatic_share: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Share of infections that never have symptoms: 20% (17-25%) (Buitrago-Garcia "
        "D et al. 2020, PLoS Med 17:e1003346, living systematic review).",
    )
    asymptomatic_relative_infectiousness: float = Field(
        default=0.35,
        ge=0,
        description="Secondary attack rate from asymptomatic vs symptomatic index cases, relative "
        "risk 0.35 (Buitrago-Garcia D et al. 2020, PLoS Med 17:e1003346).",
    )
    susceptibility_under_20: float = Field(
        default=0.5,
        ge=0,
        description="Susceptibility of people under 20 relative to adults, about half (Davies NG "
        "et al. 2020, Nat Med 26:1205).",
    )
    rates: dict[str, float] = Field(
        default_factory=_default_rates,
        description="Hazard per hour of co-presence with one infectious person at peak "
        "infectiousness, by setting of the exposed stay. Calibrated (bench/sim_outbreak.py) so "
        "that a housemate sharing ~14 h a day is infected with probability ~30% (Delta household "
        "secondary attack rate 29.7%, Madewell ZJ et al. 2022, JAMA Netw Open 5:e229317) and the "
        "early reproduction number on the dongxing-2021 city is ~2.5-3 (Delta under China's 2021 "
        "measures and vaccination; Rt of the Guangzhou Delta outbreak was 6.8 in its first week "
        "and fell below 1 under control, Li L et al. 2022, PLoS Negl Trop Dis 16:e0010048). "
        'Setting "outside" (journeys out of the city) does not transmit here.',
    )
    crowding_caps: dict[str, float] = Field(
        default_factory=_default_caps,
        description="In a setting, an infectious person is effectively close to at most this many "
        "of the people present (hazards are scaled by cap / people present when more). Settings "
        "not listed are uncapped. Assumption.",
    )
    imports: list[ImportSpec] = Field(
        default_factory=_default_imports,
        description="Imported infections. Default: two traders infected at the border crossing "
        "on 17 Dec 2021 and a fisher whose boat meets a foreign one on 18 Dec; routine testing "
        "finds the outbreak around 20 Dec (the scenario: a routine test on 20 Dec evening), and "
        "the chains reach ~20-30 people within a week of it (calibrated on the dongxing-2021 "
        "city in bench/sim_outbreak.py).",
    )
    routine_groups: list[RoutineGroup] = Field(
        default_factory=_default_groups,
        description="Key groups tested routinely: border-crossing traders and port staff every "
        "2 days, fishers every 3 days, health workers weekly (policy in border ports in late 2021: "
        "frontline port staff tested daily to every other day; assumption for the others).",
    )
    test_sensitivity: list[tuple[float, float]] = Field(
        default_factory=_hellewell,
        description="PCR sensitivity by days since infection, (day, sensitivity) points "
        "interpolated linearly: peak 77% on day 4, 50% on day 10 (Hellewell J et al. 2021, BMC "
        "Med 19:106, routine testing of health workers).",
    )
    routine_turnaround_hours: float = Field(
        default=12.0, ge=0, description="Sampling to result for routine tests (morning to evening)."
    )
    care_seeking_probability: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Probability that a symptomatic person visits a fever clinic and is tested "
        "(mild Delta cases often did not; assumption).",
    )
    care_seeking_delay_mean_days: float = Field(
        default=2.0, gt=0, description="Mean onset-to-test delay (lognormal). Assumption."
    )
    care_seeking_delay_sd_days: float = Field(
        default=1.5, gt=0, description="SD of the onset-to-test delay. Assumption."
    )
    clinical_turnaround_hours: float = Field(
        default=6.0, ge=0, description="Fever-clinic sampling to result."
    )
    isolation_delay_hours: float = Field(
        default=2.0,
        ge=0,
        description="Detection to transfer; isolation starts at the next day start after it.",
    )

    def infectiousness(self) -> Infectiousness:
        return Infectiousness(
            self.generation_mean_days, self.generation_sd_days, self.infectious_max_days
        )

    def rate_array(self) -> npt.NDArray[np.float64]:
        unknown = set(self.rates) - set(schemas.SETTINGS)
        if unknown:
            raise ValueError(f"unknown settings in rates: {sorted(unknown)}")
        return np.array([self.rates.get(s, 0.0) for s in schemas.SETTINGS], dtype=np.float64)

    def cap_array(self) -> npt.NDArray[np.float64]:
        unknown = set(self.crowding_caps) - set(schemas.SETTINGS)
        if unknown:
            raise ValueError(f"unknown settings in crowding_caps: {sorted(unknown)}")
        return np.array(
            [self.crowding_caps.get(s, np.inf) for s in schemas.SETTINGS], dtype=np.float64
        )

    def mean_relative_infectiousness(self) -> float:
        a = self.asymptomatic_share
        return (1.0 - a) + a * self.asymptomatic_relative_infectiousness
