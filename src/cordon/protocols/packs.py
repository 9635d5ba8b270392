"""Loading and validating protocol packs (``packs/<name>.yaml``).

A pack names its edition and source and gives the parameters the tracing and control slices
apply: the look-back window, which settings make a close or secondary contact and after how
much overlap, the spatio-temporal companion rule, and the quarantine and test schedules. An
invalid pack is refused at load time with the path of every wrong field.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cordon.errors import Problem, ValidationFailed

# The lake's transmission settings (cordon.lake.schemas.SETTINGS) a rule may name.
Setting = Literal["household", "work", "class", "venue", "health", "transit", "vessel", "outside"]
DEFAULT_PACK = "guangxi-2021-12"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# What "together" means in a setting, as the tracing engine decides it from the stays: the same
# home; the same section of a site (a stall row, workshop, ward, lane: the lake's place, which
# is the whole place when it is not split); the same section and both working there (a
# co-worker, not a customer or a visitor: the other person's work place is that section); the
# same class at school (staff without a class meet every class); the same vessel.
Together = Literal["home", "section", "team", "class", "vessel"]
# Which of them a setting's stays can be judged by: a household stays at a home, a pupil in a
# class, a crew on a vessel; "team" needs people who work there.
TOGETHER_FOR: dict[str, tuple[str, ...]] = {
    "household": ("home",),
    "work": ("section", "team"),
    "class": ("class", "section"),
    "venue": ("section",),
    "health": ("section", "team"),
    "transit": ("section",),
    "vessel": ("vessel",),
    "outside": ("section",),
}


class ContactRule(Strict):
    """Who counts as a contact of someone: in which settings, what being together there means,
    and after how much time together."""

    settings: list[Setting] = Field(min_length=1, description="Settings that make a contact.")
    min_overlap_minutes: dict[Setting, int] = Field(
        description="Minimum time together per setting (0: any overlap)."
    )
    within: dict[Setting, Together] = Field(
        description="What being together means per setting (same home, section, class...)."
    )

    @model_validator(mode="after")
    def _every_setting_has_a_minimum_and_a_meaning(self) -> ContactRule:
        for name, given in (
            ("min_overlap_minutes", self.min_overlap_minutes),
            ("within", self.within),
        ):
            missing = [s for s in self.settings if s not in given]
            if missing:
                raise ValueError(f"no {name} for {', '.join(missing)}")
        if any(m < 0 for m in self.min_overlap_minutes.values()):
            raise ValueError("min_overlap_minutes must not be negative")
        wrong = [f"{s}: {t}" for s, t in self.within.items() if t not in TOGETHER_FOR[s]]
        if wrong:
            raise ValueError(f"within does not fit the setting: {', '.join(wrong)}")
        return self


class LookBack(Strict):
    days_before_onset: int = Field(ge=0, le=14, description="Before symptom onset.")
    days_before_sampling: int = Field(
        ge=0, le=14, description="Asymptomatic cases: before the positive sample."
    )


class ResidencyFilter(Strict):
    """Drops phones that live in the cell (a local variant of the companion rule)."""

    min_hours: float = Field(gt=0)
    within_days: int = Field(gt=0)


class CompanionRule(Strict):
    cell_metres: int = Field(gt=0, description="Side of the grid cell.")
    min_minutes: int = Field(ge=0, description="Time in the same cell must exceed this.")
    residency_filter: ResidencyFilter | None = None
    tests: int = Field(ge=0, description="Negative tests required.")
    tests_within_days: int = Field(ge=0)
    tests_min_hours_apart: int = Field(ge=0)


class Quarantine(Strict):
    """A schedule: central days then home days, with the test days of each (day 1 = first)."""

    central_days: int = Field(ge=0)
    central_test_days: list[int] = Field(default_factory=list)
    home_days: int = Field(ge=0)
    home_test_days: list[int] = Field(default_factory=list)
    counted_from: Literal["last_exposure", "start"] = "last_exposure"
    note: str = ""

    @model_validator(mode="after")
    def _test_days_fall_inside(self) -> Quarantine:
        for name, days, limit in (
            ("central_test_days", self.central_test_days, self.central_days),
            ("home_test_days", self.home_test_days, self.home_days),
        ):
            outside = [d for d in days if not 1 <= d <= limit]
            if outside:
                raise ValueError(f"{name} {outside} fall outside 1..{limit}")
        return self


class Infectiousness(Strict):
    """A published infectiousness profile relative to symptom onset: a gamma density shifted
    ``shift_days`` before onset (infectiousness starts then), read relative to its peak."""

    shift_days: float = Field(ge=0, description="Infectiousness starts this long before onset.")
    shape: float = Field(gt=1, description="Gamma shape (> 1: the profile has a peak).")
    rate: float = Field(gt=0, description="Gamma rate, per day.")
    source: str = Field(min_length=1)


class ExposureScore(Strict):
    """How a contact's evidence becomes a score: each exposure adds weight[setting] × hours ×
    the index's relative infectiousness at the time, and score = 1 - exp(-sum). A secondary
    exposure's weight is also multiplied by the close contact's own score, and that close
    contact's onset is estimated as its first exposure plus ``incubation_days``."""

    infectiousness: Infectiousness
    weight_per_hour: dict[Setting | Literal["cell"], float] = Field(
        description="Per hour at peak infectiousness, by setting; 'cell' for a phone cell."
    )
    incubation_days: float = Field(gt=0, description="Exposure to onset, for secondary contacts.")
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _weights_are_not_negative(self) -> ExposureScore:
        if any(w < 0 for w in self.weight_per_hour.values()):
            raise ValueError("weight_per_hour must not be negative")
        return self


class Tier(Strict):
    """Contacts scoring at least ``min_score`` (and below the tier above) and what is done."""

    tier: int = Field(ge=1, le=9)
    min_score: float = Field(ge=0, le=1)
    action: Literal["central", "home", "notify"] = Field(
        description="central quarantine now; home quarantine and tests; notify and test."
    )


class Costs(Strict):
    """What a pushed list takes, until the control slice counts real rooms and staff: rooms
    per person in central quarantine (single rooms) and staff per 100 people under each kind
    of quarantine; and the infections each tier is expected to hold per person listed, from
    the calibration on the twin (``bench/trace_quality.py``)."""

    rooms_per_central: float = Field(ge=0)
    staff_per_100_central: float = Field(ge=0)
    staff_per_100_home: float = Field(ge=0)
    infections_per_contact: dict[Literal["1", "2", "3", "4", "5", "companion"], float] = Field(
        description="Per tier (and companions): true infections per person listed."
    )
    source: str = Field(min_length=1)


class Pack(Strict):
    name: str
    edition: str = Field(description="Protocol edition tags, e.g. E8 + GX21.")
    effective_date: date
    source: str = Field(min_length=1, description="Where the rules come from.")
    look_back: LookBack
    close_contact: ContactRule
    secondary_contact: ContactRule | None = Field(
        description="None where the edition no longer traces secondary contacts."
    )
    companion: CompanionRule
    exposure_score: ExposureScore
    tiers: list[Tier] = Field(min_length=1, description="Highest tier first.")
    secondary_from_score: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Secondary contacts are traced from the close contacts whose exposure score "
        "reaches this (none: from every close contact).",
    )
    costs: Costs
    quarantine: dict[
        Literal[
            "close_contact",
            "secondary_contact",
            "sealed_zone",
            "high_risk_area",
            "medium_risk_area",
            "inbound_traveller",
        ],
        Quarantine,
    ]

    @model_validator(mode="after")
    def _contacts_have_schedules(self) -> Pack:
        if "close_contact" not in self.quarantine:
            raise ValueError("quarantine.close_contact is required")
        if self.secondary_contact is not None and "secondary_contact" not in self.quarantine:
            raise ValueError("quarantine.secondary_contact is required when they are traced")
        numbers = [t.tier for t in self.tiers]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError("tiers are numbered 1, 2, ... from the highest")
        minimums = [t.min_score for t in self.tiers]
        if minimums != sorted(minimums, reverse=True) or len(set(minimums)) < len(minimums):
            raise ValueError("each tier's min_score is below the one above it")
        if minimums[-1] != 0:
            raise ValueError("the last tier takes every score (min_score 0)")
        return self


def available() -> list[str]:
    folder = resources.files("cordon.protocols") / "packs"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def parse(data: Any, *, source: str) -> Pack:
    try:
        return Pack.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(".".join(str(p) for p in e["loc"]) or "pack", e["msg"]) for e in exc.errors()
        ]
        raise ValidationFailed(
            "protocol pack %(source)s is not valid", params=dict(source=source), problems=problems
        ) from exc


def load(name: str = DEFAULT_PACK) -> Pack:
    known = available()
    if name not in known:
        message = f"unknown protocol pack {name!r}; known: {', '.join(known)}"
        raise ValidationFailed(message, problems=[Problem("pack", message)])
    text = (resources.files("cordon.protocols") / "packs" / f"{name}.yaml").read_text("utf-8")
    pack = parse(yaml.safe_load(text), source=f"{name}.yaml")
    if pack.name != name:
        message = f"pack file {name}.yaml names itself {pack.name!r}"
        raise ValidationFailed(message, problems=[Problem("name", message)])
    return pack
