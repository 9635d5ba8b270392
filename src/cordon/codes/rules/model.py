"""The shape of a health-code rule pack, once loaded and its schedules resolved.

A rule is anchored on one kind of fact (a contact, a case, an arrival...) whose attributes
match ``where``. From the fact's time the person passes through the rule's phases in order,
each with a colour. A phase ends after a number of days (then its required negative tests
must be on record, or the person stays in it), when a later fact arrives (a discharge, the
zone being lifted), or when two negative tests a day or more apart are on record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Colour = Literal["red", "yellow", "green"]
COLOURS: tuple[Colour, ...] = ("green", "yellow", "red")
SEVERITY: dict[str, int] = {"green": 0, "yellow": 1, "red": 2}
DAY = 86_400  # seconds: quarantine days are counted in 24-hour steps from the anchor fact
PhaseKind = Literal["days", "until", "two_negatives"]
Place = Literal["central", "home"]
# An attribute condition: the allowed values; None among them also matches a fact without the
# attribute (a contact fact written before tiers existed means what the edition says).
Where = tuple[tuple[str, tuple[str | None, ...]], ...]


@dataclass(frozen=True)
class Text:
    zh: str
    en: str


@dataclass(frozen=True)
class Until:
    """The phase lasts until the first fact of ``fact`` (matching ``where``; sharing the
    anchor's values of ``same``) dated after the phase start."""

    fact: str
    where: Where = ()
    same: tuple[str, ...] = ()


@dataclass(frozen=True)
class Phase:
    colour: Colour
    label: Text
    kind: PhaseKind
    days: int = 0
    # Quarantine days (1 = the first 24 hours) that need a negative test sampled on or after
    # that day; a missed day is made up by a later test (see evaluate.missing_tests).
    tests: tuple[int, ...] = ()
    until: Until | None = None
    ends_when: Text | None = None
    min_hours_apart: int = 24
    within_hours: int = 72
    # Where the phase holds the person, when it is a quarantine: central or home (the cost
    # preview of a contact list counts rooms and staff from it).
    place: Place | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    title: Text
    priority: int
    fact: str
    where: Where
    phases: tuple[Phase, ...]
    note: str = ""


@dataclass(frozen=True)
class Pack:
    name: str
    version: int
    effective_date: date
    source: str
    protocol: str
    rules: tuple[Rule, ...]
    rule_index: dict[str, int] = field(default_factory=dict, compare=False)

    def rule(self, rule_id: str) -> Rule:
        return self.rules[self.rule_index[rule_id]]

    def attributes_used(self) -> dict[str, set[str]]:
        """Fact attributes each kind must expose for this pack (for the batch evaluator)."""
        used: dict[str, set[str]] = {}
        for rule in self.rules:
            used.setdefault(rule.fact, set()).update(name for name, _ in rule.where)
            for phase in rule.phases:
                if phase.until is not None:
                    used.setdefault(phase.until.fact, set()).update(
                        name for name, _ in phase.until.where
                    )
                    used[phase.until.fact].update(phase.until.same)
                    used[rule.fact].update(phase.until.same)
        used.setdefault("test", set()).add("result")
        return used


def make_pack(
    *, name: str, version: int, effective_date: date, source: str, protocol: str, rules: list[Rule]
) -> Pack:
    return Pack(
        name=name,
        version=version,
        effective_date=effective_date,
        source=source,
        protocol=protocol,
        rules=tuple(rules),
        rule_index={r.id: i for i, r in enumerate(rules)},
    )
