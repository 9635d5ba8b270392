"""Rule packs load, and a bad pack is refused with the rule and field named."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from cordon.codes import packs
from cordon.errors import ValidationFailed


def _pack(**rule: Any) -> dict[str, Any]:
    base = {
        "id": "close-contact",
        "title": {"zh": "密接", "en": "close contact"},
        "priority": 10,
        "fact": "contact",
        "where": {"contact_kind": "close"},
        "phases": [{"colour": "red", "label": {"zh": "隔离", "en": "quarantine"}, "days": 14}],
    }
    base.update(rule)
    return {
        "name": "draft",
        "version": 2,
        "effective_date": "2022-01-10",
        "source": "a draft",
        "protocol": "guangxi-2021-12",
        "rules": [base],
    }


def _problems(data: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as caught:
        packs.parse(data, source="draft.yaml")
    return [(p.field, p.message) for p in caught.value.problems]


def test_both_packs_load_with_version_date_and_source() -> None:
    assert packs.available() == ["e9-2022-06", "guangxi-2021-12"]
    pack = packs.load("guangxi-2021-12")
    assert (pack.version, str(pack.effective_date)) == (1, "2021-12-23")
    assert "23 Dec 2021" in pack.source
    close = pack.rule("close-contact")
    # Days and test days come from the protocol pack's E8 schedule.
    assert [(p.colour, p.days, p.tests) for p in close.phases] == [
        ("red", 14, (1, 4, 7, 14)),
        ("yellow", 7, (2, 7)),
    ]


def test_an_unknown_fact_is_named_with_its_rule() -> None:
    problems = _problems(_pack(fact="vaccination"))
    assert problems[0][0] == "rules.0.fact"
    assert "rule close-contact: unknown fact 'vaccination'" in problems[0][1]


def test_an_unknown_attribute_or_value_is_named() -> None:
    problems = _problems(_pack(where={"kind_of_contact": "close", "case_id": 3}))
    assert problems[0][0] == "rules.0.where.kind_of_contact"
    problems = _problems(_pack(where={"contact_kind": "casual"}))
    assert problems == [
        (
            "rules.0.where.contact_kind",
            "rule close-contact: contact_kind must be among close, secondary, companion; "
            "got casual",
        )
    ]


def test_null_matches_a_missing_attribute_only_where_it_may_be_missing() -> None:
    pack = packs.parse(_pack(where={"contact_kind": "close", "action": ["home", None]}), source="d")
    assert pack.rule("close-contact").where == (
        ("action", ("home", None)),
        ("contact_kind", ("close",)),
    )
    problems = _problems(_pack(where={"contact_kind": ["close", None]}))
    assert problems == [
        (
            "rules.0.where.contact_kind",
            "rule close-contact: every contact fact has contact_kind, so null matches none",
        )
    ]


def test_a_malformed_phase_is_refused() -> None:
    phase = {"colour": "purple", "label": {"zh": "x", "en": "x"}, "days": 3, "until": {"fact": "x"}}
    problems = _problems(_pack(phases=[phase]))
    fields = {f for f, _ in problems}
    assert "rules.0.phases.0.colour" in fields
    assert all(m.startswith("rule close-contact:") for _, m in problems)


def test_a_schedule_the_protocol_lacks_is_named() -> None:
    phase = {"colour": "red", "label": {"zh": "x", "en": "x"}, "schedule": "pilots.central"}
    problems = _problems(_pack(phases=[phase]))
    assert problems[0][0] == "rules.0.phases.0.schedule"


def test_not_yaml_and_not_a_pack() -> None:
    with pytest.raises(ValidationFailed, match="not valid YAML"):
        packs.parse_text("rules: [\n", source="x.yaml")
    with pytest.raises(ValidationFailed):
        packs.parse_text("just text", source="x.yaml")
    with pytest.raises(ValidationFailed, match="unknown health-code pack"):
        packs.load("nope")


def test_a_pack_round_trips_through_yaml() -> None:
    pack = packs.parse_text(yaml.safe_dump(_pack()), source="draft.yaml")
    assert pack.name == "draft" and pack.rule("close-contact").phases[0].days == 14


def test_the_catalogue_lists_facts_operators_and_schedules() -> None:
    catalogue = packs.catalogue()
    facts = catalogue["facts"]
    assert isinstance(facts, dict) and "contact_kind" in facts["contact"]["attributes"]
    assert "phases[].until" in catalogue["operators"]  # type: ignore[operator]
    assert "close_contact.central" in catalogue["schedules"]  # type: ignore[operator]
