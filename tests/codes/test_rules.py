"""Protocol §3 row by row: the person's facts, the moment, the expected colour and the next
conversion under guangxi-2021-12, and what the same facts give under e9-2022-06."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest

from cordon.codes import packs
from cordon.codes.rules.evaluate import decide
from tests.codes.facts import SHANGHAI, F, day, fact, negative, negatives

GX = packs.load("guangxi-2021-12")
E9 = packs.load("e9-2022-06")
CONTACT = {"case_id": 1}
ALL_TESTS = negatives(0.5, 1.5, 2.5, 3.5, 4.5, 6.5, 13.5)


@dataclass(frozen=True)
class Row:
    name: str
    facts: list[F]
    now: float
    colour: str
    # The next conversion: (colour, day it happens or None when a fact must convert it)
    conversion: tuple[str, float | None] | None
    e9_colour: str
    e9_conversion: tuple[str, float | None] | None = None


ROWS = [
    Row(
        "confirmed case in hospital",
        [fact("case", 0, status="confirmed")],
        5,
        "red",
        ("yellow", None),
        "red",
        ("yellow", None),
    ),
    Row(
        "asymptomatic infection in hospital",
        [fact("case", 0, status="asymptomatic")],
        5,
        "red",
        ("yellow", None),
        "red",
        ("yellow", None),
    ),
    Row(
        "within 14 days of health management after discharge",
        [fact("case", 0, status="confirmed"), fact("discharged", 10)],
        15,
        "red",
        ("yellow", 24),
        "yellow",
        ("green", 17),
    ),
    Row(
        "within the 14-day monitoring after discharge",
        [fact("case", 0, status="confirmed"), fact("discharged", 10)],
        30,
        "yellow",
        ("green", 38),
        "green",
    ),
    Row(
        "discharge track over",
        [fact("case", 0, status="confirmed"), fact("discharged", 10)],
        40,
        "green",
        None,
        "green",
    ),
    Row(
        "suspected case",
        [fact("case", 0, status="suspected")],
        1,
        "red",
        ("green", None),
        "red",
        ("green", None),
    ),
    Row(
        "suspected case ruled out",
        [fact("case", 0, status="suspected"), fact("case", 2, status="ruled_out")],
        3,
        "green",
        None,
        "green",
    ),
    Row(
        "close contact, central quarantine",
        [fact("contact", 0, contact_kind="close", **CONTACT), negative(0.5)],
        3,
        "red",
        ("yellow", 14),
        "red",
        ("yellow", 7),
    ),
    Row(
        "close contact, home monitoring",
        [fact("contact", 0, contact_kind="close", **CONTACT), *ALL_TESTS],
        14.05,
        "yellow",
        ("green", 21),
        "green",
    ),
    Row(
        "close contact missing the day-7 test",
        [fact("contact", 0, contact_kind="close", **CONTACT), *negatives(0.5, 3.5, 13.5)],
        14.05,
        "red",
        ("yellow", None),
        "red",
        ("yellow", None),
    ),
    Row(
        "close contact, track over",
        [fact("contact", 0, contact_kind="close", **CONTACT), *ALL_TESTS, *negatives(15.5, 20.5)],
        21.05,
        "green",
        None,
        "green",
    ),
    Row(
        "secondary contact",
        [fact("contact", 0, contact_kind="secondary", **CONTACT), negative(0.5)],
        3,
        "red",
        ("green", 7),
        "red",
        ("green", 7),
    ),
    Row(
        "secondary contact released with negative tests",
        [fact("contact", 0, contact_kind="secondary", **CONTACT), *negatives(0.5, 3.5, 6.5)],
        7.05,
        "green",
        None,
        "green",
    ),
    Row(
        "close contact pushed for central quarantine",
        [fact("contact", 0, contact_kind="close", tier=1, action="central", **CONTACT)],
        3,
        "red",
        ("yellow", 14),
        "red",
        ("yellow", 7),
    ),
    Row(
        "close contact pushed for home quarantine, same days",
        [fact("contact", 0, contact_kind="close", tier=2, action="home", **CONTACT), *ALL_TESTS],
        13.9,
        "red",
        ("yellow", 14),
        "green",
    ),
    Row(
        "secondary contact pushed for home quarantine",
        [fact("contact", 0, contact_kind="secondary", action="home", **CONTACT), negative(0.5)],
        3,
        "red",
        ("green", 7),
        "red",
        ("green", 7),
    ),
    Row(
        "contact notified for tests",
        [fact("contact", 0, contact_kind="close", tier=3, action="notify", **CONTACT)],
        1,
        "yellow",
        ("green", None),
        "yellow",
        ("green", None),
    ),
    Row(
        "notified contact, two negatives a day apart",
        [
            fact("contact", 0, contact_kind="secondary", action="notify", **CONTACT),
            *negatives(0.5, 1.6),
        ],
        2,
        "green",
        None,
        "green",
    ),
    Row(
        "staying in a sealed zone",
        [fact("zone", 0, zone_id=7, level="sealed")],
        5,
        "red",
        ("green", None),
        "red",
        ("green", None),
    ),
    Row(
        "another zone lifted",
        [fact("zone", 0, zone_id=7, level="sealed"), fact("zone_lifted", 10, zone_id=8)],
        11,
        "red",
        ("green", None),
        "red",
        ("green", None),
    ),
    Row(
        "sealed zone lifted",
        [fact("zone", 0, zone_id=7, level="sealed"), fact("zone_lifted", 10, zone_id=7)],
        11,
        "green",
        None,
        "green",
    ),
    Row(
        "port arrival, quarantine under 14 days",
        [fact("arrival", 0, origin="port")],
        5,
        "red",
        ("yellow", 14),
        "red",
        ("yellow", 7),
    ),
    Row(
        "port arrival, quarantine done",
        [fact("arrival", 0, origin="port")],
        16,
        "yellow",
        ("green", 21),
        "green",
    ),
    Row(
        "from a high-risk area, in Guangxi < 21 days",
        [fact("arrival", 0, origin="high_risk_area")],
        10,
        "red",
        ("yellow", 21),
        "red",
        ("green", None),
    ),
    Row(
        "from a medium-risk area > 21 days, monitoring not finished",
        [fact("arrival", 0, origin="medium_risk_area")],
        22,
        "yellow",
        ("green", 28),
        "yellow",
        ("green", None),
    ),
    Row(
        "from a risk area, monitoring and tests done",
        [fact("arrival", 0, origin="medium_risk_area"), *negatives(21.5, 27.5)],
        28.05,
        "green",
        None,
        "yellow",
        ("green", None),
    ),
    Row(
        "from the same county as a risk area, < 7 days",
        [fact("arrival", 0, origin="same_county_as_risk_area")],
        3,
        "red",
        ("yellow", 7),
        "green",
    ),
    Row(
        "from the same county, > 7 days, monitoring not finished",
        [fact("arrival", 0, origin="same_county_as_risk_area")],
        8,
        "yellow",
        ("green", 14),
        "green",
    ),
    Row(
        "red on the national platform",
        [fact("platform_code", 0, colour="red")],
        1,
        "red",
        ("green", None),
        "red",
        ("green", None),
    ),
    Row(
        "national platform turned green",
        [fact("platform_code", 0, colour="red"), fact("platform_code", 2, colour="green")],
        3,
        "green",
        None,
        "green",
    ),
    Row(
        "yellow on the national platform",
        [fact("platform_code", 0, colour="yellow")],
        1,
        "yellow",
        ("green", None),
        "yellow",
        ("green", None),
    ),
    Row(
        "spatio-temporal companion",
        [fact("contact", 0, contact_kind="companion", **CONTACT)],
        1,
        "yellow",
        ("green", None),
        "yellow",
        ("green", None),
    ),
    Row(
        "companion, two negatives a day apart",
        [fact("contact", 0, contact_kind="companion", **CONTACT), *negatives(0.5, 1.6)],
        2,
        "green",
        None,
        "green",
    ),
    Row(
        "companion, two negatives too close together",
        [fact("contact", 0, contact_kind="companion", **CONTACT), *negatives(0.5, 0.8)],
        2,
        "yellow",
        ("green", None),
        "yellow",
        ("green", None),
    ),
    Row(
        "out-of-province arrival within 14 days",
        [fact("arrival", 0, origin="out_of_province")],
        5,
        "yellow",
        ("green", 14),
        "green",
    ),
    Row("everyone else", [negative(0.5)], 3, "green", None, "green"),
    Row(
        "a fact dated after now has not happened",
        [fact("case", 4, status="confirmed")],
        3,
        "green",
        None,
        "green",
    ),
]


def _expect(decision_conversion: object, expected: tuple[str, float | None] | None) -> None:
    if expected is None:
        assert decision_conversion is None
        return
    colour, at_day = expected
    assert decision_conversion is not None
    assert decision_conversion.colour == colour  # type: ignore[attr-defined]
    at = decision_conversion.at  # type: ignore[attr-defined]
    assert at == (None if at_day is None else day(at_day))


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_guangxi_2021_12(row: Row) -> None:
    decision = decide(row.facts, day(row.now), GX, SHANGHAI)
    assert decision.colour == row.colour
    _expect(decision.conversion, row.conversion)
    assert decision.reasons and all(r.zh and r.en for r in decision.reasons)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_same_facts_under_e9(row: Row) -> None:
    decision = decide(row.facts, day(row.now), E9, SHANGHAI)
    assert decision.colour == row.e9_colour
    if row.e9_colour != "green":
        _expect(decision.conversion, row.e9_conversion)


def test_the_highest_priority_rule_decides_and_every_rule_is_listed() -> None:
    facts = [
        fact("contact", 0, contact_kind="close", **CONTACT),
        fact("case", 2, status="confirmed"),
        fact("arrival", 0, origin="out_of_province"),
    ]
    decision = decide(facts, day(3), GX, SHANGHAI)
    assert decision.colour == "red"
    assert decision.rules == ("confirmed-case", "close-contact", "out-of-province-arrival")


def _walk(facts: list[F], at: float) -> tuple[str, str, str]:
    d = decide(facts, day(at), GX, SHANGHAI)
    return d.colour, " ".join(r.en for r in d.reasons), " ".join(r.zh for r in d.reasons)


def test_a_close_contact_turns_yellow_then_green_without_anyone_touching_it() -> None:
    traced = fact("contact", 0, contact_kind="close", **CONTACT)
    tests = negatives(0.2, 3.2, 6.2, 13.2, 15.2, 20.2)
    assert _walk([traced], 0)[0] == "red"
    decision = decide([traced, *tests[:1]], day(1), GX, SHANGHAI)
    assert decision.conversion is not None
    assert decision.conversion.en == "yellow on 29 Dec 10:00 if negative tests on days 4, 7, 14"
    assert decision.conversion.zh == "12月29日10:00转为黄码（需第4天、第7天、第14天核酸阴性）"
    assert _walk([traced, *tests], 13.9)[0] == "red"
    assert _walk([traced, *tests], 14)[0] == "yellow"
    assert _walk([traced, *tests], 20.9)[0] == "yellow"
    assert _walk([traced, *tests], 21)[0] == "green"


def test_a_missing_test_keeps_it_red_and_says_which() -> None:
    traced = fact("contact", 0, contact_kind="close", **CONTACT)
    tests = negatives(0.2, 3.2, 13.2)  # no day-7 test
    colour, en, zh = _walk([traced, *tests], 15)
    assert colour == "red"
    assert "the negative test for day 7 is missing, so the code stays red" in en
    assert "缺少第7天的核酸阴性结果" in zh
    late = decide([traced, *tests, negative(15.5)], day(16), GX, SHANGHAI)
    assert late.colour == "yellow"  # a make-up test converts it


def test_the_next_conversion_after_discharge_counts_the_days() -> None:
    decision = decide([fact("case", 0, status="confirmed")], day(1), GX, SHANGHAI)
    assert decision.conversion is not None
    assert decision.conversion.en == "yellow 14 days after discharged"
    assert decision.conversion.zh == "待出院后14天转为黄码"


@pytest.mark.parametrize("pack", [GX, E9], ids=lambda p: p.name)
def test_a_pushed_tier_says_where_the_quarantine_is_spent(pack: object) -> None:
    """The tier's action picks the place; a fact without one is what the edition says."""
    assert isinstance(pack, type(GX))

    def held(kind: str, **attrs: object) -> tuple[str, set[str | None]]:
        d = decide([fact("contact", 0, contact_kind=kind, **attrs, **CONTACT)], day(1), pack)
        places = {pack.rule(s.rule_id).phases[s.phase].place for s in d.states}
        return " ".join(r.zh for r in d.reasons), places

    for kind in ("close", "secondary"):
        words, places = held(kind, action="central")
        assert "集中隔离医学观察" in words and places == {"central"}
        words, places = held(kind, action="home")
        assert "居家隔离医学观察" in words and places == {"home"}
        assert held(kind, action="notify")[1] == {None}
    # Before tiers, a close contact went to central quarantine under both editions; E9 sends
    # secondary contacts home.
    assert held("close")[1] == {"central"}
    assert held("secondary")[1] == ({"home"} if pack is E9 else {"central"})


def test_times_need_a_time_zone() -> None:
    with pytest.raises(ValueError, match="time zone"):
        decide([], datetime(2021, 12, 20), GX)
