"""Daily routines by role and kind of day, as data.

A routine is a list of steps in time order; a person-day picks one routine variant for its role
and day kind (workday or rest day) and then every step happens with its probability. A step
starts at its anchor time (with jitter) or, if the previous step runs late, right after it, and
lasts its duration (with jitter), so a person's steps never overlap. Time between steps is spent
at home. Probabilities are numbers or the name of a ``MovementParams`` field (the random-visit
rates).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from cordon.lake import schemas

if TYPE_CHECKING:
    from cordon.sim.movement import MovementParams

# Where a step takes place.
WORK, RESTAURANT_HOME, RESTAURANT_WORK, SHOP, MARKET, CLINIC = range(6)
SOURCES = ("work", "restaurant_home", "restaurant_work", "shop", "market", "clinic")
WORKDAY, RESTDAY = 0, 1


@dataclass(frozen=True)
class Step:
    source: int
    prob: float | str  # a probability, or the name of a MovementParams field
    start: float  # anchor, hours after local midnight
    duration: float  # minutes
    start_sd: float = 15.0  # minutes
    duration_sd: float = 15.0  # minutes


@dataclass(frozen=True)
class Variant:
    weight: float | str  # relative weight, or a MovementParams field (a share in [0, 1])
    steps: tuple[Step, ...]
    complement: bool = False  # weight is 1 - the named share


def _evening(clinic: float | str = "clinic_visit_rate") -> tuple[Step, ...]:
    return (
        Step(CLINIC, clinic, 18.3, 40, 20, 15),
        Step(RESTAURANT_HOME, "evening_restaurant_rate", 19.0, 75, 40, 25),
        Step(SHOP, "evening_shop_rate", 20.5, 25, 30, 10),
    )


FULL_DAY_WORK = Step(WORK, 1.0, 8.0, 570, 15, 30)
LEISURE = (
    Step(MARKET, "market_visit_rate", 8.5, 60, 60, 20),
    Step(CLINIC, "clinic_visit_rate", 10.5, 50, 45, 15),
    Step(RESTAURANT_HOME, "weekend_restaurant_rate", 12.0, 75, 30, 20),
    Step(SHOP, "weekend_shop_rate", 15.5, 45, 90, 15),
    Step(RESTAURANT_HOME, "evening_restaurant_rate", 18.5, 90, 45, 30),
)

ROUTINES: dict[tuple[str, int], tuple[Variant, ...]] = {
    ("child", WORKDAY): (
        Variant(
            1.0,
            (
                Step(MARKET, "child_outing_rate", 9.0, 60, 60, 20),
                Step(CLINIC, "clinic_visit_rate", 10.5, 45, 45, 15),
                Step(SHOP, "child_outing_rate", 16.5, 30, 60, 10),
            ),
        ),
    ),
    ("student", WORKDAY): (
        Variant(
            "school_lunch_share",
            (Step(WORK, 1.0, 7.5, 610, 10, 20), *_evening()[:1], _evening()[2]),
        ),
        Variant(
            "school_lunch_share",
            (
                Step(WORK, 1.0, 7.5, 270, 10, 10),
                Step(WORK, 1.0, 14.33, 200, 10, 15),
                *_evening()[:1],
                _evening()[2],
            ),
            complement=True,
        ),
    ),
    ("worker", WORKDAY): (
        Variant("lunch_at_work_share", (FULL_DAY_WORK, *_evening())),
        Variant(
            "lunch_restaurant_share",
            (
                Step(WORK, 1.0, 8.0, 240, 15, 15),
                Step(RESTAURANT_WORK, 1.0, 12.0, 50, 10, 10),
                Step(WORK, 1.0, 13.5, 270, 10, 20),
                *_evening(),
            ),
        ),
        Variant(
            "lunch_at_home_share",
            (Step(WORK, 1.0, 8.0, 240, 15, 15), Step(WORK, 1.0, 14.5, 210, 15, 20), *_evening()),
        ),
    ),
    ("worker", RESTDAY): (
        Variant("weekend_work_share", (FULL_DAY_WORK, *_evening())),
        Variant("weekend_work_share", LEISURE, complement=True),
    ),
    ("trader", WORKDAY): (
        Variant(
            1.0,
            (
                Step(WORK, 1.0, 8.0, 240, 20, 20),
                Step(RESTAURANT_WORK, 0.5, 12.0, 45, 10, 10),
                Step(WORK, 1.0, 13.0, 270, 15, 30),
                *_evening(),
            ),
        ),
    ),
    ("fisher", WORKDAY): (
        Variant(
            1.0,
            (
                Step(WORK, 1.0, 6.0, 180, 30, 45),
                Step(MARKET, 0.3, 9.5, 60, 30, 20),
                Step(WORK, 0.4, 15.0, 120, 60, 30),
                *_evening(),
            ),
        ),
    ),
    ("health_worker", WORKDAY): (Variant(1.0, (Step(WORK, 1.0, 7.75, 600, 10, 30), *_evening())),),
    ("health_worker", RESTDAY): (
        Variant("weekend_duty_share", (Step(WORK, 1.0, 7.75, 600, 10, 30), *_evening())),
        Variant("weekend_duty_share", LEISURE, complement=True),
    ),
    ("elderly", WORKDAY): (
        Variant(
            1.0,
            (
                Step(MARKET, "elderly_market_rate", 7.0, 90, 45, 30),
                Step(CLINIC, "elderly_clinic_rate", 9.5, 60, 60, 20),
                Step(RESTAURANT_HOME, "elderly_teahouse_rate", 11.0, 60, 30, 20),
                Step(SHOP, "elderly_shop_rate", 16.0, 30, 60, 10),
            ),
        ),
    ),
    ("unemployed", WORKDAY): (
        Variant(
            1.0,
            (
                Step(MARKET, "market_visit_rate", 8.0, 75, 60, 20),
                Step(SHOP, "weekend_shop_rate", 10.5, 40, 60, 15),
                Step(CLINIC, "clinic_visit_rate", 11.0, 45, 30, 15),
                Step(RESTAURANT_HOME, "weekend_restaurant_rate", 12.0, 60, 30, 15),
                Step(SHOP, "evening_shop_rate", 16.0, 40, 60, 15),
                Step(RESTAURANT_HOME, "evening_restaurant_rate", 19.0, 75, 40, 25),
            ),
        ),
    ),
}
# Roles whose rest days are like their workdays (border trade and the harbour do not stop,
# children and the retired have no weekend).
for _role in ("child", "trader", "fisher", "elderly", "unemployed"):
    ROUTINES[(_role, RESTDAY)] = ROUTINES[(_role, WORKDAY)]
ROUTINES[("student", RESTDAY)] = (
    Variant(
        1.0,
        (
            Step(MARKET, "child_outing_rate", 9.0, 60, 60, 20),
            Step(SHOP, "weekend_shop_rate", 10.5, 60, 90, 20),
            Step(RESTAURANT_HOME, "weekend_restaurant_rate", 12.0, 60, 30, 15),
            Step(CLINIC, "clinic_visit_rate", 15.0, 45, 45, 15),
            Step(RESTAURANT_HOME, "evening_restaurant_rate", 18.5, 75, 40, 25),
        ),
    ),
)


@dataclass(frozen=True)
class Compiled:
    """The routines as arrays: variant v of (role, day kind) is row ``first[role, kind] + v``."""

    first: npt.NDArray[np.int64]  # (roles, 2)
    count: npt.NDArray[np.int64]  # (roles, 2)
    cum_weight: npt.NDArray[np.float64]  # (templates,) cumulative weight within its group
    source: npt.NDArray[np.int64]  # (templates, steps), -1 for no step
    prob: npt.NDArray[np.float64]
    start: npt.NDArray[np.float64]  # seconds after midnight
    start_sd: npt.NDArray[np.float64]  # seconds
    duration: npt.NDArray[np.float64]  # seconds
    duration_sd: npt.NDArray[np.float64]  # seconds


def _value(params: MovementParams, value: float | str) -> float:
    return float(getattr(params, value)) if isinstance(value, str) else float(value)


def compile_routines(params: MovementParams) -> Compiled:
    roles = schemas.ROLES
    templates: list[tuple[float, tuple[Step, ...]]] = []
    first = np.zeros((len(roles), 2), dtype=np.int64)
    count = np.zeros((len(roles), 2), dtype=np.int64)
    cum: list[float] = []
    for r, role in enumerate(roles):
        for kind in (WORKDAY, RESTDAY):
            variants = ROUTINES[(role, kind)]
            first[r, kind] = len(templates)
            count[r, kind] = len(variants)
            total = 0.0
            for variant in variants:
                weight = _value(params, variant.weight)
                total += 1.0 - weight if variant.complement else weight
                templates.append((weight, variant.steps))
                cum.append(total)
            for i in range(first[r, kind], len(templates)):
                cum[i] /= total if total > 0 else 1.0
    width = max(len(steps) for _, steps in templates)
    shape = (len(templates), width)
    source = np.full(shape, -1, dtype=np.int64)
    arrays = {name: np.zeros(shape) for name in ("prob", "start", "start_sd", "dur", "dur_sd")}
    for t, (_, steps) in enumerate(templates):
        for k, step in enumerate(steps):
            source[t, k] = step.source
            arrays["prob"][t, k] = min(1.0, max(0.0, _value(params, step.prob)))
            arrays["start"][t, k] = step.start * 3600
            arrays["start_sd"][t, k] = step.start_sd * 60
            arrays["dur"][t, k] = step.duration * 60
            arrays["dur_sd"][t, k] = step.duration_sd * 60
    return Compiled(
        first=first,
        count=count,
        cum_weight=np.asarray(cum),
        source=source,
        prob=arrays["prob"],
        start=arrays["start"],
        start_sd=arrays["start_sd"],
        duration=arrays["dur"],
        duration_sd=arrays["dur_sd"],
    )
