"""Loading health-code rule packs (``packs/<name>.yaml``) and the catalogue rules may use.

A pack has a name, a version, an effective date and a source note, names the protocol pack
whose quarantine schedules its phases reuse, and lists its rules. Everything is checked at
load: an unknown fact kind or attribute, a value outside an attribute's choices, a schedule
the protocol lacks — the error names the rule and the field, and the pack is refused.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cordon.codes.rules import model
from cordon.codes.rules.model import Pack, Phase, Rule, Text, Until, make_pack
from cordon.errors import N_, Problem, ValidationFailed, pydantic_key
from cordon.facts.rules import CATALOGUE, catalogue_document
from cordon.protocols import packs as protocol_packs

DEFAULT_PACK = "guangxi-2021-12"
_SCHEDULE_PARTS = ("central", "home")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TextIn(_Strict):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


# A value or a list of allowed values; null in a list also matches a fact without the attribute.
Where = dict[str, str | int | list[str | int | None]]


class UntilIn(_Strict):
    fact: str = Field(description="Fact kind that ends the phase.")
    where: Where = Field(default_factory=dict)
    same: list[str] = Field(default_factory=list, description="Attributes shared with the anchor.")


class TwoNegativesIn(_Strict):
    min_hours_apart: int = Field(default=24, ge=0, le=240)
    within_hours: int = Field(default=72, ge=1, le=720)


class PhaseIn(_Strict):
    colour: Literal["red", "yellow", "green"]
    label: TextIn
    days: int | None = Field(default=None, ge=1, le=366)
    tests: list[int] = Field(default_factory=list)
    schedule: str | None = Field(default=None, description="e.g. close_contact.central")
    until: UntilIn | None = None
    until_two_negatives: TwoNegativesIn | None = None
    ends_when: TextIn | None = Field(
        default=None, description="What ends an `until` phase, in words (e.g. discharged)."
    )
    place: Literal["central", "home"] | None = Field(
        default=None, description="Where a quarantine phase holds the person."
    )

    @model_validator(mode="after")
    def _one_way_to_end(self) -> PhaseIn:
        ways = [self.days, self.schedule, self.until, self.until_two_negatives]
        if sum(w is not None for w in ways) != 1:
            raise ValueError("give exactly one of days, schedule, until, until_two_negatives")
        if self.tests and self.days is None:
            raise ValueError("tests belong to a phase of fixed days")
        if self.days is not None and any(not 1 <= d <= self.days for d in self.tests):
            raise ValueError(f"tests must be days within 1..{self.days}")
        if (self.until is None) != (self.ends_when is None):
            raise ValueError(
                "an `until` phase, and only such a phase, says what ends it in ends_when"
            )
        return self


class RuleIn(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$")
    title: TextIn
    priority: int = Field(ge=0, le=1000)
    fact: str
    where: Where = Field(default_factory=dict)
    phases: list[PhaseIn] = Field(min_length=1)
    note: str = ""


class PackIn(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    version: int = Field(ge=1)
    effective_date: date
    source: str = Field(min_length=1)
    protocol: str
    rules: list[RuleIn] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> PackIn:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} appears twice")
            seen.add(rule.id)
        return self


def _where(
    kind: str, where: Where, field: str, rule_id: str, problems: list[Problem]
) -> model.Where:
    spec = CATALOGUE.get(kind)
    if spec is None:
        return ()
    attributes = {a.name: a for a in spec.attributes}
    out = []
    for name, value in where.items():
        values = tuple(
            None if v is None else str(v) for v in (value if isinstance(value, list) else [value])
        )
        attribute = attributes.get(name)
        if attribute is None:
            known = ", ".join(attributes)
            problems.append(
                Problem(
                    f"{field}.{name}",
                    "rule %(rule)s: a %(kind)s fact has no %(name)s (known: %(known)s)",
                    params=dict(rule=rule_id, kind=kind, name=repr(name), known=known),
                )
            )
            continue
        if None in values and attribute.required:
            problems.append(
                Problem(
                    f"{field}.{name}",
                    "rule %(rule)s: every %(kind)s fact has %(name)s, so null matches none",
                    params=dict(rule=rule_id, kind=kind, name=name),
                )
            )
            continue
        wrong = [
            v for v in values if v is not None and attribute.choices and v not in attribute.choices
        ]
        if wrong or not values:
            problems.append(
                Problem(
                    f"{field}.{name}",
                    "rule %(rule)s: %(name)s must be among %(choices)s; got %(got)s",
                    params=dict(
                        rule=rule_id,
                        name=name,
                        choices=", ".join(attribute.choices),
                        got=", ".join(wrong) or "—",
                    ),
                )
            )
            continue
        out.append((name, values))
    return tuple(sorted(out, key=lambda condition: condition[0]))


def _fact_kind(kind: str, field: str, rule_id: str, problems: list[Problem]) -> None:
    if kind not in CATALOGUE:
        problems.append(
            Problem(
                field,
                "rule %(rule)s: unknown fact %(kind)s; known: %(known)s",
                params=dict(rule=rule_id, kind=repr(kind), known=", ".join(CATALOGUE)),
            )
        )


def _phase(
    phase: PhaseIn,
    rule: RuleIn,
    field: str,
    protocol: protocol_packs.Pack | None,
    problems: list[Problem],
) -> Phase | None:
    label = Text(phase.label.zh, phase.label.en)
    if phase.days is not None:
        return Phase(
            phase.colour,
            label,
            "days",
            days=phase.days,
            tests=tuple(sorted(phase.tests)),
            place=phase.place,
        )
    if phase.schedule is not None:
        who, _, part = phase.schedule.partition(".")
        schedule = protocol.quarantine.get(who) if protocol else None  # type: ignore[call-overload]
        if schedule is None or part not in _SCHEDULE_PARTS:
            known = ", ".join(
                f"{k}.{p}"
                for k in (protocol.quarantine if protocol else {})
                for p in _SCHEDULE_PARTS
            )
            problems.append(
                Problem(
                    f"{field}.schedule",
                    "rule %(rule)s: no schedule %(schedule)s in the protocol pack"
                    " (known: %(known)s)",
                    params=dict(rule=rule.id, schedule=repr(phase.schedule), known=known),
                )
            )
            return None
        days = schedule.central_days if part == "central" else schedule.home_days
        tests = schedule.central_test_days if part == "central" else schedule.home_test_days
        if days == 0:
            return None  # this edition has no such part (e.g. no central days): skip the phase
        return Phase(
            phase.colour, label, "days", days=days, tests=tuple(sorted(tests)), place=phase.place
        )
    if phase.until is not None:
        _fact_kind(phase.until.fact, f"{field}.until.fact", rule.id, problems)
        where = _where(
            phase.until.fact, phase.until.where, f"{field}.until.where", rule.id, problems
        )
        for name in phase.until.same:
            for kind in (rule.fact, phase.until.fact):
                spec = CATALOGUE.get(kind)
                if spec is not None and name not in {a.name for a in spec.attributes}:
                    problems.append(
                        Problem(
                            f"{field}.until.same",
                            "rule %(rule)s: a %(kind)s fact has no %(name)s",
                            params=dict(rule=rule.id, kind=kind, name=repr(name)),
                        )
                    )
        ends = phase.ends_when or phase.label
        return Phase(
            phase.colour,
            label,
            "until",
            until=Until(phase.until.fact, where, tuple(phase.until.same)),
            ends_when=Text(ends.zh, ends.en),
            place=phase.place,
        )
    pair = phase.until_two_negatives or TwoNegativesIn()
    if pair.min_hours_apart > pair.within_hours:
        problems.append(
            Problem(
                f"{field}.until_two_negatives",
                "rule %(rule)s: min_hours_apart exceeds within_hours",
                params=dict(rule=rule.id),
            )
        )
    return Phase(
        phase.colour,
        label,
        "two_negatives",
        min_hours_apart=pair.min_hours_apart,
        within_hours=pair.within_hours,
        place=phase.place,
    )


def parse(data: Any, *, source: str) -> Pack:
    """A validated pack from parsed YAML; ValidationFailed names every wrong rule and field."""
    try:
        raw = PackIn.model_validate(data)
    except ValidationError as exc:
        shape = []
        for error in exc.errors():
            loc = ".".join(str(p) for p in error["loc"]) or "pack"
            rule_id = _rule_id_at(data, error["loc"])
            template, params = pydantic_key(error)
            plain = Problem(loc, error["msg"], params=params, template=template)
            shape.append(
                Problem(loc, "rule %(rule)s: %(problem)s", params=dict(rule=rule_id, problem=plain))
                if rule_id
                else plain
            )
        raise ValidationFailed(
            "health-code pack %(source)s is not valid", params=dict(source=source), problems=shape
        ) from exc
    problems: list[Problem] = []
    protocol = None
    try:
        protocol = protocol_packs.load(raw.protocol)
    except ValidationFailed as exc:
        problems.append(exc.as_problem("protocol"))
    rules = []
    for i, rule in enumerate(raw.rules):
        field = f"rules.{i}"
        _fact_kind(rule.fact, f"{field}.fact", rule.id, problems)
        where = _where(rule.fact, rule.where, f"{field}.where", rule.id, problems)
        phases = [
            _phase(phase, rule, f"{field}.phases.{j}", protocol, problems)
            for j, phase in enumerate(rule.phases)
        ]
        kept = tuple(p for p in phases if p is not None)
        if not kept and not problems:
            problems.append(
                Problem(
                    f"{field}.phases",
                    "rule %(rule)s: every phase has zero days under %(protocol)s",
                    params=dict(rule=rule.id, protocol=raw.protocol),
                )
            )
        rules.append(
            Rule(
                rule.id,
                Text(rule.title.zh, rule.title.en),
                rule.priority,
                rule.fact,
                where,
                kept,
                rule.note,
            )
        )
    if problems:
        raise ValidationFailed(
            "health-code pack %(source)s is not valid",
            params=dict(source=source),
            problems=problems,
        )
    return make_pack(
        name=raw.name,
        version=raw.version,
        effective_date=raw.effective_date,
        source=raw.source,
        protocol=raw.protocol,
        rules=rules,
    )


def _rule_id_at(data: Any, loc: tuple[int | str, ...]) -> str | None:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int) and isinstance(data, dict):
        rules = data.get("rules")
        if isinstance(rules, list) and loc[1] < len(rules) and isinstance(rules[loc[1]], dict):
            found = rules[loc[1]].get("id")
            return str(found) if found is not None else f"#{loc[1] + 1}"
    return None


def parse_text(text: str, *, source: str) -> Pack:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = (
            Problem(
                "pack",
                "YAML syntax error at line %(line)s, column %(column)s",
                params=dict(line=mark.line + 1, column=mark.column + 1),
            )
            if mark is not None
            else Problem("pack", str(exc).splitlines()[0])
        )
        raise ValidationFailed(
            "health-code pack %(source)s is not valid YAML",
            params=dict(source=source),
            problems=[where],
        ) from exc
    return parse(data, source=source)


def available() -> list[str]:
    folder = resources.files("cordon.codes") / "packs"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def pack_text(name: str) -> str:
    known = available()
    if name not in known:
        params = dict(name=repr(name), known=", ".join(known))
        message = N_("unknown health-code pack %(name)s; known: %(known)s")
        raise ValidationFailed(
            message, params=params, problems=[Problem("pack", message, params=params)]
        )
    return (resources.files("cordon.codes") / "packs" / f"{name}.yaml").read_text("utf-8")


@lru_cache(maxsize=16)
def load(name: str = DEFAULT_PACK) -> Pack:
    """A packaged pack, parsed once per process (packaged files do not change while it runs)."""
    pack = parse_text(pack_text(name), source=f"{name}.yaml")
    if pack.name != name:
        message = f"pack file {name}.yaml names itself {pack.name!r}"
        raise ValidationFailed(message, problems=[Problem("name", message)])
    return pack


def load_path(path: Path) -> Pack:
    """A draft pack from a file (what-if), or a packaged pack by name."""
    if not path.suffix and path.name in available():
        return load(path.name)
    if not path.is_file():
        message = f"no pack file {path}"
        raise ValidationFailed(message, problems=[Problem("pack", message)])
    return parse_text(path.read_text("utf-8"), source=path.name)


OPERATORS: dict[str, str] = {
    "fact": "The fact kind anchoring the rule: each such fact starts the rule's phases.",
    "where": (
        "Attribute conditions on the anchoring fact: a value, or a list of allowed values;"
        " null in the list also matches a fact without the attribute."
    ),
    "phases[].place": "Where a quarantine phase holds the person: central or home.",
    "phases[].days": "The phase lasts this many 24-hour days from its start.",
    "phases[].tests": "Days needing a negative test; without them the phase does not end.",
    "phases[].schedule": "Days and test days from the protocol pack: <who>.central or <who>.home.",
    "phases[].until": (
        "The phase lasts until a later fact of this kind (where; same attributes as the anchor)."
    ),
    "phases[].until_two_negatives": (
        "The phase lasts until two negative tests min_hours_apart within within_hours."
    ),
    "priority": "The highest-priority rule holding a person decides the colour.",
}


def catalogue() -> dict[str, object]:
    """Facts, attributes and operators a rule may use (for a rule-editor page)."""
    return {
        "facts": catalogue_document(),
        "operators": OPERATORS,
        "colours": ["red", "yellow", "green"],
        "schedules": sorted(
            f"{who}.{part}"
            for name in protocol_packs.available()
            for who in protocol_packs.load(name).quarantine
            for part in _SCHEDULE_PARTS
        ),
    }
