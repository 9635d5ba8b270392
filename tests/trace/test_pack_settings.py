"""Each pack's contact settings on a hand-made lake (acceptance 1 of issue 14): what being
together means per setting, which settings make a secondary contact (protocol §1: lives, eats,
works or studies, or plays with a close contact), and the companions' residency filter."""

from __future__ import annotations

from pathlib import Path

import pytest

from cordon.protocols import packs
from cordon.protocols.packs import Pack, ResidencyFilter
from cordon.trace.duckdb_store import DuckDBStore
from cordon.trace.engine import trace
from cordon.trace.rules import Contact, IndexCase
from cordon.web import i18n
from cordon.web.messages import rule_text
from tests.trace.test_rules_on_a_small_lake import Record, Stay, at, write_lake

PACKS = ("guangxi-2021-12", "e9-2022-06")
DAYS = 7
# The companions first: their ids are the numbers a store might give its own sources.
(
    PASSER_BY,
    NEWCOMER,
    CASE,
    CLOSE,
    CO_WORKER,
    OTHER_SECTION,
    STRANGER,
    STALL_KEEPER,
    STALL_MATE,
    CUSTOMER,
    LIVES_THERE,
    NIGHT_NEIGHBOUR,
) = range(12)
# Sections of two sites: an office building (sections A and B) and a market (a food hall and
# a row of stalls); each section is a place of its own, with the site it belongs to.
OFFICE_A, OFFICE_B, FOOD_HALL, STALLS = 10, 11, 20, 21
SITES = {
    OFFICE_A: ("workplace", OFFICE_A),
    OFFICE_B: ("workplace", OFFICE_A),
    FOOD_HALL: ("market", FOOD_HALL),
    STALLS: ("market", FOOD_HALL),
}
WORKS_AT = {
    CASE: OFFICE_A,
    CLOSE: OFFICE_A,
    CO_WORKER: OFFICE_A,
    OTHER_SECTION: OFFICE_B,
    STALL_KEEPER: STALLS,
    STALL_MATE: STALLS,
}
HOME_CELL, MARKET_CELL = 500, 501
DAY = 5  # inside both packs' windows (onset on day 6 at 08:00; E8 looks back 2 days, E9 4)

STAYS: list[Stay] = [
    (DAY, CASE, OFFICE_A, 9, 12, "work"),
    (DAY, CLOSE, OFFICE_A, 9, 17, "work"),  # 3 h with the case: close
    (DAY, CO_WORKER, OFFICE_A, 13, 17, "work"),  # after the case left, with the close contact
    (DAY, OTHER_SECTION, OFFICE_B, 9, 17, "work"),  # same building, another section
    (DAY, CLOSE, FOOD_HALL, 18, 19, "venue"),  # the close contact's dinner at the market
    (DAY, STRANGER, FOOD_HALL, 18, 19, "venue"),  # a stranger at the next table
    (DAY, CASE, STALLS, 12.5, 13.5, "venue"),  # the case shops at a stall
    (DAY, STALL_KEEPER, STALLS, 8, 18, "work"),  # 1 h with the case at work: close
    (DAY, STALL_MATE, STALLS, 14, 18, "work"),  # works at the stalls after the case left
    (DAY, CUSTOMER, STALLS, 15, 16, "venue"),  # buys from the stall keeper later that day
]
# The case's phone at home every night (it lives in that cell: 14 h a day) and two hours at
# the market; a phone living in the market's cell (10 h a day), a passer-by's, a neighbour in
# the case's home cell for an hour one evening, and a newcomer to the market's cell, 11 h a day
# from day 4 (22 h before the case's window closes, 33 h before the stall keeper's does).
CELLS: list[Record] = [
    *((d, CASE, HOME_CELL, 0, 8) for d in range(DAYS)),
    *((d, CASE, HOME_CELL, 18, 24) for d in range(DAYS)),
    (DAY, CASE, MARKET_CELL, 12, 14),
    *((d, LIVES_THERE, MARKET_CELL, 8, 18) for d in range(DAYS)),
    (DAY, PASSER_BY, MARKET_CELL, 12.5, 13),
    (DAY, NIGHT_NEIGHBOUR, HOME_CELL, 20, 21),
    *((d, NEWCOMER, MARKET_CELL, 8, 19) for d in (4, 5, 6)),
    (DAY, STALL_KEEPER, MARKET_CELL, 8, 18),
]
CASE_SEEN = IndexCase(CASE, onset=at(6, 8), sampled=None, isolated=at(6, 0))


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("settings") / "lake"
    return write_lake(out, DAYS, STAYS, CELLS, classes={}, works_at=WORKS_AT, sites=SITES)


@pytest.fixture(scope="module", params=["indexed", "scan"])
def store(lake: Path, request: pytest.FixtureRequest) -> DuckDBStore:
    """Both ways of reading the lake (tracing's index, and the scan it is held equal to)."""
    return DuckDBStore(lake, scan=request.param == "scan")


def traced(store: DuckDBStore, pack: Pack, *, every_close: bool = True) -> dict[int, Contact]:
    """Contacts under the pack; with ``every_close``, secondary contacts of every close contact
    (the settings' meaning, apart from the packs' floor on which close contacts are traced
    further: see the tests of ``secondary_from_score`` below)."""
    if every_close:
        pack = pack.model_copy(update={"secondary_from_score": None})
    return {c.person_id: c for c in trace([CASE_SEEN], pack, store)}


@pytest.mark.parametrize("name", PACKS)
def test_a_co_worker_of_a_close_contact_in_the_same_section_is_a_secondary_contact(
    store: DuckDBStore, name: str
) -> None:
    found = traced(store, packs.load(name))
    assert found[CLOSE].kind == "close" and found[STALL_KEEPER].kind == "close"
    assert found[CO_WORKER].kind == "secondary"
    assert found[STALL_MATE].kind == "secondary"  # works at the same stalls as the stall keeper
    [evidence] = found[CO_WORKER].evidence
    assert (evidence.index_id, evidence.place_id) == (CLOSE, OFFICE_A)
    assert evidence.rule == "secondary: work, same team >= 30 min"


@pytest.mark.parametrize("name", PACKS)
def test_a_stranger_in_the_same_market_section_as_a_close_contact_is_not(
    store: DuckDBStore, name: str
) -> None:
    """Neither the stranger at the close contact's dinner (a venue is no secondary setting)
    nor the stall keeper's customer (in the same section, not a co-worker)."""
    found = traced(store, packs.load(name))
    assert STRANGER not in found and CUSTOMER not in found


@pytest.mark.parametrize("name", PACKS)
def test_a_co_worker_in_another_section_of_the_same_site_is_not(
    store: DuckDBStore, name: str
) -> None:
    assert OTHER_SECTION not in traced(store, packs.load(name))


@pytest.mark.parametrize("name", PACKS)
def test_the_meaning_of_together_changes_the_result(store: DuckDBStore, name: str) -> None:
    """The same lake under a rule where the stall keeper's section counts whoever was there:
    the customer becomes a secondary contact (so the tests above can fail)."""
    pack = packs.load(name)
    rule = pack.secondary_contact
    assert rule is not None
    anyone = rule.model_copy(update={"within": rule.within | {"work": "section"}})
    found = traced(store, pack.model_copy(update={"secondary_contact": anyone}))
    assert found[CUSTOMER].kind == "secondary"
    assert STRANGER not in found


@pytest.mark.parametrize("name", PACKS)
def test_the_residency_filter_drops_a_companion_who_lives_in_the_cell(
    store: DuckDBStore, name: str
) -> None:
    """Chengdu's variant in both packs: the phone living in the market's cell is dropped, the
    passer-by and the newcomer kept; the neighbour met in the case's own home cell is dropped
    too (the case lives there). Without the filter all of them are companions."""
    pack = packs.load(name)
    assert pack.companion.residency_filter is not None
    companions = {p for p, c in traced(store, pack).items() if c.kind == "companion"}
    assert companions == {PASSER_BY, NEWCOMER}
    unfiltered = pack.model_copy(
        update={"companion": pack.companion.model_copy(update={"residency_filter": None})}
    )
    found = traced(store, unfiltered)
    assert {p for p, c in found.items() if c.kind == "companion"} == {
        PASSER_BY,
        LIVES_THERE,
        NIGHT_NEIGHBOUR,
        NEWCOMER,
    }


@pytest.mark.parametrize("name", PACKS)
def test_the_filter_counts_only_its_days(store: DuckDBStore, name: str) -> None:
    """More than 12 h in the last day before the window closes: the phone living in the
    market's cell spent 10 h there that day (60 h in the lake) and is kept; the case spent
    14 h at home, so its home cell still counts as its own."""
    pack = packs.load(name)
    one_day = ResidencyFilter(min_hours=12, within_days=1)
    rule = pack.companion.model_copy(update={"residency_filter": one_day})
    found = traced(store, pack.model_copy(update={"companion": rule}))
    assert {p for p, c in found.items() if c.kind == "companion"} == {
        PASSER_BY,
        LIVES_THERE,
        NEWCOMER,
    }


@pytest.mark.parametrize("name", PACKS)
def test_a_batch_applies_the_filter_as_each_case_alone(store: DuckDBStore, name: str) -> None:
    """A second case, the stall keeper, whose window closes a day later: each case's filter
    looks back from its own window (the newcomer lives in the market's cell by the stall
    keeper's, not by the first case's), and the batch finds what each case alone finds."""
    pack = packs.load(name)
    other = IndexCase(STALL_KEEPER, onset=at(6, 8), sampled=None, isolated=at(7, 0))
    cases = [CASE_SEEN, other]
    alone: dict[int, set[int]] = {}
    for case in cases:
        for contact in trace([case], pack, store, kinds={"companion"}):
            alone.setdefault(contact.person_id, set()).add(case.person_id)
    batch = trace(cases, pack, store, kinds={"companion"})
    assert {c.person_id: c.case_ids for c in batch} == {
        p: met for p, met in alone.items() if p not in (CASE, STALL_KEEPER)
    }
    assert alone[NEWCOMER] == {CASE} and alone[PASSER_BY] == {CASE, STALL_KEEPER}


@pytest.mark.parametrize("name", PACKS)
def test_the_rules_are_worded_in_chinese(store: DuckDBStore, name: str) -> None:
    words = i18n.translations("zh_CN").gettext
    labels = {"close": "密接", "secondary": "次密接", "companion": "时空伴随"}
    rules = {e.rule for c in traced(store, packs.load(name)).values() for e in c.evidence}
    assert "companion: same 800 m cell > 10 min, neither phone > 30 h there in 14 d" in rules
    for rule in rules:
        shown = rule_text(words, rule, labels, {"work": "工作", "venue": "场所"})
        assert shown != rule and not any("a" <= ch <= "z" for ch in shown), shown


@pytest.mark.parametrize("name", PACKS)
def test_secondary_contacts_are_traced_from_close_contacts_scoring_the_pack_s_floor(
    store: DuckDBStore, name: str
) -> None:
    """Three hours beside the case in the office (score about 0.02) and an hour at its stall
    are real close contacts, but below the packs' floor for tracing their own contacts: their
    co-workers are listed once the floor is lowered under their scores, not before."""
    pack = packs.load(name)
    assert pack.secondary_from_score is not None
    found = traced(store, pack, every_close=False)
    assert found[CLOSE].kind == "close" and found[STALL_KEEPER].kind == "close"
    assert CO_WORKER not in found and STALL_MATE not in found
    lowered = traced(
        store, pack.model_copy(update={"secondary_from_score": 0.001}), every_close=False
    )
    assert lowered[CO_WORKER].kind == "secondary" and lowered[STALL_MATE].kind == "secondary"
