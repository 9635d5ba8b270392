"""The batch evaluator gives everyone the decision the pure evaluator gives them one by one."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cordon.codes import batch, packs
from cordon.codes.rules.evaluate import decide
from cordon.facts.service import FACT_TABLE_SCHEMA
from tests.codes.facts import SHANGHAI, T0, F, day, fact, negatives

PACKS = [packs.load(name) for name in packs.available()]
HOUR = timedelta(hours=1)

# Random facts over five weeks, with the attribute values rules look at.
KIND_ATTRS = {
    "case": {"status": ["confirmed", "asymptomatic", "suspected", "ruled_out"]},
    "discharged": {},
    "contact": {
        "contact_kind": ["close", "secondary", "companion"],
        "case_id": [1, 2],
        # A pushed tier's action, or none (a fact written before tiers): rules match a
        # missing attribute where they allow null.
        "action": ["central", "home", "notify", None],
    },
    "test": {"result": ["negative", "negative", "negative", "positive"], "method": ["single"]},
    "zone": {"zone_id": [1, 2], "level": ["sealed", "high", "medium", "controlled"]},
    "zone_lifted": {"zone_id": [1, 2]},
    "arrival": {
        "origin": [
            "high_risk_area",
            "medium_risk_area",
            "same_county_as_risk_area",
            "out_of_province",
            "port",
        ]
    },
    "platform_code": {"colour": ["red", "yellow", "green"]},
}


@st.composite
def a_fact(draw: st.DrawFn) -> F:
    kind = draw(st.sampled_from(sorted(KIND_ATTRS)))
    attrs = {name: draw(st.sampled_from(values)) for name, values in KIND_ATTRS[kind].items()}
    if kind in ("zone", "zone_lifted") and draw(st.booleans()):
        attrs["zone_id"] = 1  # make lifting the right zone likely
    # Whole hours, with some odd seconds, so boundaries are hit exactly and not.
    hours = draw(st.integers(min_value=0, max_value=35 * 24))
    odd = draw(st.sampled_from([0, 0, 0, 1, 1799]))
    return F(kind, T0 + hours * HOUR + timedelta(seconds=odd), attrs)


def _table(people: dict[int, list[F]]) -> pa.Table:
    rows = [
        (pid, "450681100001", f.kind, f.at, json.dumps(f.attrs), f"src:{i}")
        for pid, facts in people.items()
        for i, f in enumerate(facts)
    ]
    columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[]] * 6
    return pa.table(columns, schema=FACT_TABLE_SCHEMA)


def _check(people: dict[int, list[F]], now_hours: int) -> None:
    now = T0 + now_hours * HOUR
    table = _table(people)
    for pack in PACKS:
        found = batch.decisions(table, now, pack, SHANGHAI)
        for pid, facts in people.items():
            expected = decide(facts, now, pack, SHANGHAI)
            got = found.get(pid)
            if got is None:
                assert expected.colour == "green" and not expected.rules, (pid, pack.name)
            else:
                assert got == expected, (pid, pack.name)
        colours = batch.colours(batch.match_states(table, now, pack), pack)
        for pid, code in zip(colours.person.tolist(), colours.colour.tolist(), strict=True):
            assert batch.COLOUR_NAMES[code] == found[pid].colour


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    people=st.dictionaries(
        st.integers(min_value=1, max_value=2_000_000_000),
        st.lists(a_fact(), min_size=0, max_size=12),
        min_size=1,
        max_size=8,
    ),
    now_hours=st.integers(min_value=0, max_value=40 * 24),
)
def test_batch_equals_pure_on_random_facts(people: dict[int, list[F]], now_hours: int) -> None:
    _check(people, now_hours)


def test_batch_on_the_protocol_walk() -> None:
    people: dict[int, list[F]] = defaultdict(list)
    people[1] = [fact("contact", 0, contact_kind="close", case_id=1), *negatives(0.2, 3.2, 13.2)]
    people[2] = [fact("zone", 0, zone_id=7, level="sealed"), fact("zone_lifted", 3, zone_id=7)]
    people[3] = [fact("contact", 0, contact_kind="companion", case_id=1), *negatives(0.5, 1.6)]
    people[4] = [fact("case", 0, status="confirmed"), fact("discharged", 9)]
    for hours in (0, 24, 100, 14 * 24, 15 * 24 + 5, 30 * 24):
        _check(dict(people), hours)


def test_an_empty_ledger_is_everyone_green() -> None:
    assert batch.decisions(_table({}), day(1), PACKS[0], SHANGHAI) == {}
