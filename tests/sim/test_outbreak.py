"""The outbreak model: its ground truth is consistent with the movement it ran over, it is
reproducible, its testing has the configured sensitivity, and its reproduction number and
generation interval are the configured ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pytest

from cordon.lake import schemas
from cordon.sim.disease import DAY, sensitivity
from cordon.sim.model import day_start
from cordon.sim.outbreak import ImportSpec, Outbreak, OutbreakParams, RoutineGroup, tree_statistics
from cordon.sim.outbreak_io import ints, seconds
from tests.sim.outbreak_fixtures import (
    SyntheticCity,
    mixing_city,
    mixing_stays,
    run,
    synthetic_city,
)

START = date(2021, 12, 7)
DAYS = 14
# Hotter than the defaults so that a small town has an outbreak worth checking.
RATES = {"household": 0.02, "work": 0.02, "class": 0.01, "venue": 0.05, "health": 0.02}
IMPORTS = [
    ImportSpec(day=0, kind="border", count=3),
    ImportSpec(day=1, kind="sea", count=2),
    ImportSpec(day=2, kind="border", count=1),
]


@dataclass
class Run:
    town: SyntheticCity
    outbreak: Outbreak
    tables: dict[str, pa.Table]
    stays: pa.Table  # every day's stays, as fed to the outbreak


@pytest.fixture(scope="module")
def town() -> SyntheticCity:
    return synthetic_city(1500, seed=5)


def params(**changes: object) -> OutbreakParams:
    return OutbreakParams(rates=RATES, imports=IMPORTS).model_copy(update=changes)


@pytest.fixture(scope="module")
def result(town: SyntheticCity) -> Run:
    outbreak, stays = run(town, params(), days=DAYS, seed=11, keep_stays=True, foreign_share=1.0)
    return Run(town, outbreak, outbreak.tables(), pa.concat_tables(stays))


def column(table: pa.Table, name: str) -> np.ndarray:
    if pa.types.is_timestamp(table.schema.field(name).type):
        return seconds(table.column(name))
    if pa.types.is_integer(table.schema.field(name).type):
        return ints(table.column(name))
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False))


def test_tables_have_the_lake_schemas(result: Run) -> None:
    assert result.tables["infections"].schema == schemas.INFECTIONS
    assert result.tables["disease"].schema == schemas.DISEASE
    assert result.tables["routine_tests"].schema == schemas.ROUTINE_TESTS
    assert result.tables["infections"].num_rows > 30, "the fixture should have an outbreak"
    assert result.tables["disease"].num_rows == result.tables["infections"].num_rows


def test_every_infection_is_an_import_or_by_a_copresent_infectious_infector(result: Run) -> None:
    inf, stays = result.tables["infections"], result.stays
    infectee, infector = column(inf, "infectee"), column(inf, "infector")
    time, place, generation = (
        column(inf, "time"),
        column(inf, "place_id"),
        column(inf, "generation"),
    )
    setting = column(inf, "setting")
    infected_at = dict(zip(infectee.tolist(), time.tolist(), strict=True))
    gen_of = dict(zip(infectee.tolist(), generation.tolist(), strict=True))
    disease = result.tables["disease"]
    isolated = dict(
        zip(
            column(disease, "person_id").tolist(),
            column(disease, "isolated_at").tolist(),
            strict=True,
        )
    )
    person, where = column(stays, "person_id"), column(stays, "place_id")
    start, end, stay_setting = (
        column(stays, "start"),
        column(stays, "end"),
        column(stays, "setting"),
    )
    imported = infector < 0
    assert (setting[imported] == "import").all() and (generation[imported] == 0).all()
    assert set(column(inf, "import_kind")[imported]) == {"border", "sea"}
    assert (setting[~imported] != "import").all()
    for k in np.flatnonzero(~imported):
        who, by, t = int(infectee[k]), int(infector[k]), int(time[k])
        assert infected_at[by] < day_start(START, (t - day_start(START, 0)) // int(DAY))
        assert gen_of[who] == gen_of[by] + 1
        assert isolated[by] < 0 or isolated[by] > t, "an isolated infector transmitted"
        there = (where == place[k]) & (start <= t) & (end > t)
        assert (there & (person == by)).any(), "infector not present at the place and time"
        own = there & (person == who)
        assert own.any(), "infectee not present at the place and time"
        assert stay_setting[own][0] == setting[k]


def test_disease_courses_are_consistent(result: Run) -> None:
    disease = result.tables["disease"]
    infected, onset = column(disease, "infected_at"), column(disease, "onset")
    detected, how = column(disease, "detected_at"), column(disease, "detection")
    symptomatic = column(disease, "symptomatic")
    assert ((onset >= 0) == symptomatic).all()
    assert (onset[symptomatic] > infected[symptomatic]).all()
    assert 0.6 < symptomatic.mean() < 0.95  # 20% asymptomatic
    assert ((detected >= 0) == (how != None)).all()  # noqa: E711 (elementwise)
    by_symptoms = how == "symptoms"
    assert by_symptoms.any() and (detected[by_symptoms] > onset[by_symptoms]).all()
    assert (detected[detected >= 0] > infected[detected >= 0]).all()


def test_nobody_is_infected_twice(result: Run) -> None:
    infectee = column(result.tables["infections"], "infectee")
    assert len(np.unique(infectee)) == len(infectee)


def test_imports_are_traders_at_the_border_and_fishers_who_met_a_foreign_boat(result: Run) -> None:
    inf, town = result.tables["infections"], result.town
    kind, who = column(inf, "import_kind"), column(inf, "infectee")
    place = column(inf, "place_id")
    border = kind == "border"
    assert border.sum() == 4 and (kind == "sea").sum() == 2
    assert (town.role[who[border]] == schemas.ROLES.index("trader")).all()
    assert set(place[border]) == set(town.kinds["border_crossing"].tolist())
    sea = kind == "sea"
    assert (town.role[who[sea]] == schemas.ROLES.index("fisher")).all()
    assert np.isin(place[sea], town.vessel_place[town.crew_vessel[who[sea]]]).all()
    at = column(inf, "time")[sea] - day_start(START, 0)
    assert (at % int(DAY) == 11 * 3600).all(), "infected at the rendezvous (11:00 in the fixture)"


def test_isolated_people_spend_their_days_at_the_treatment_centre(result: Run) -> None:
    disease, stays = result.tables["disease"], result.stays
    detected = column(disease, "detected_at")
    isolated = column(disease, "isolated_at")
    found = isolated >= 0
    assert found.sum() >= 5
    assert (isolated[found] > detected[found]).all()
    assert ((isolated[found] - day_start(START, 0)) % int(DAY) == 0).all()
    person, start = column(stays, "person_id"), column(stays, "start")
    since = dict(
        zip(column(disease, "person_id")[found].tolist(), isolated[found].tolist(), strict=True)
    )
    later = np.array([start[i] >= since.get(int(p), 2**62) for i, p in enumerate(person)])
    assert later.any()
    assert (column(stays, "place_id")[later] == result.town.treatment).all()
    assert (column(stays, "setting")[later] == "health").all()


def test_confined_stays_cover_exactly_the_day(result: Run) -> None:
    day = DAYS - 1
    confined = result.outbreak.confined(day, result.town.treatment)
    assert len(confined.person_id) > 0
    assert (confined.start == day_start(START, day)).all()
    assert (confined.end == day_start(START, day + 1)).all()
    assert (confined.place_id == result.town.treatment).all()
    assert set(confined.setting) == {"health"}


def test_the_first_case_is_found_by_routine_testing(result: Run) -> None:
    summary = result.outbreak.summary()
    first = summary["first_detection"]
    assert isinstance(first, dict) and first["how"] == "routine_test"
    assert first["group"] in {"border", "port", "fisher", "health_worker"}
    assert summary["infections"] == result.tables["infections"].num_rows
    tests = result.tables["routine_tests"]
    positive = column(tests, "positive")
    assert positive.sum() == summary["detected_by"]["routine_test"]  # type: ignore[index]


def test_routine_tests_sample_the_groups_at_their_places(result: Run) -> None:
    tests, stays, town = result.tables["routine_tests"], result.stays, result.town
    group, who, at = column(tests, "group"), column(tests, "person_id"), column(tests, "sampled_at")
    assert set(group) == {"border", "port", "fisher", "health_worker"}
    assert (town.role[who[group == "fisher"]] == schemas.ROLES.index("fisher")).all()
    border = np.flatnonzero(group == "border")
    person, place = column(stays, "person_id"), column(stays, "place_id")
    start, end = column(stays, "start"), column(stays, "end")
    crossing = town.kinds["border_crossing"][0]
    for k in border[:200]:
        assert ((person == who[k]) & (place == crossing) & (start <= at[k]) & (end > at[k])).any()
    turnaround = column(tests, "result_at") - at
    assert (turnaround == 12 * 3600).all()


def test_same_seed_same_truth_and_another_seed_another(town: SyntheticCity) -> None:
    def truth(seed: int) -> dict[str, pa.Table]:
        return run(town, params(), days=8, seed=seed)[0].tables()

    first, again, other = truth(3), truth(3), truth(4)
    for name in first:
        assert first[name].equals(again[name]), name
    assert not first["infections"].equals(other["infections"])


def test_routine_tests_are_positive_with_the_configured_sensitivity(town: SyntheticCity) -> None:
    traders = int((town.role == schemas.ROLES.index("trader")).sum())
    p = params(
        rates={},
        imports=[ImportSpec(day=0, kind="border", count=traders)],
        routine_groups=[RoutineGroup(name="border", roles=["trader"], every_days=1)],
        care_seeking_probability=0.0,
    )
    outbreak, _ = run(town, p, days=DAYS, seed=2)
    tables = outbreak.tables()
    tests = tables["routine_tests"]
    infected_at = np.full(len(town.role), -1, dtype=np.int64)
    infected_at[column(tables["infections"], "infectee")] = column(tables["infections"], "time")
    since = column(tests, "sampled_at") - infected_at[column(tests, "person_id")]
    positive = column(tests, "positive")
    expected = sensitivity(p.test_sensitivity, since / DAY)
    assert len(tests) > 150
    spread = np.sqrt((expected * (1 - expected)).sum())
    assert abs(positive.sum() - expected.sum()) < 3 * spread
    early = since < DAY  # within a day of infection: sensitivity under 10%
    assert positive[early].mean() < 0.2
    assert positive[(since > 3 * DAY) & (since < 6 * DAY)].mean() > 0.5


def test_reproduction_number_and_generation_interval_are_the_configured_ones() -> None:
    """Everyone spends 09:00-17:00 in a room with 9 others drawn anew each day. With the
    infectiousness profile w (1 at its peak), the configured R is 9 contacts × 8 h × rate ×
    Σ_days w(τ) × mean relative infectiousness, i.e. rate × 72 h × effective_days × ρ, and
    the generation interval is the profile's (gamma, mean 4.7 d). Measured on the offspring of
    400 imports in 100,000 people (depletion < 3% while they transmit)."""
    n, rooms, days = 100_000, 10_000, 22
    base = OutbreakParams()
    target = 2.0
    rate = target / (
        9 * 8 * base.infectiousness().effective_days * base.mean_relative_infectiousness()
    )
    p = base.model_copy(
        update={
            "rates": {"work": rate},
            "crowding_caps": {},
            "routine_groups": [],
            "care_seeking_probability": 0.0,
            "imports": [ImportSpec(day=0, kind="border", count=400)],
        }
    )
    outbreak = Outbreak(mixing_city(n, rooms), p, start_date=START, days=days, seed=1)
    for day in range(days):
        stays = mixing_stays(n, rooms, START, day, seed=1, hours=(9, 17))
        outbreak.step(day, stays, schemas.SEA_TRIPS.empty_table())
    measured = tree_statistics(
        outbreak.tables()["infections"],
        cohort_from=day_start(START, 0),
        cohort_until=day_start(START, 1),
        follow_days=21,
    )
    assert measured["cohort"] == 400
    assert measured["reproduction_number"] == pytest.approx(target, rel=0.15)
    assert measured["generation_interval_days"] == pytest.approx(p.generation_mean_days, rel=0.10)


def test_days_are_stepped_in_order_and_parameters_are_checked(town: SyntheticCity) -> None:
    outbreak = Outbreak(town.city, params(), start_date=START, days=3, seed=1)
    with pytest.raises(ValueError, match="in order"):
        outbreak.step(1, schemas.STAYS.empty_table(), schemas.SEA_TRIPS.empty_table())
    with pytest.raises(ValueError, match="unknown settings"):
        OutbreakParams(rates={"disco": 1.0}).rate_array()
    with pytest.raises(ValueError, match="unknown role"):
        Outbreak(
            town.city,
            params(routine_groups=[RoutineGroup(name="x", roles=["pilot"], every_days=1)]),
            start_date=START,
            days=3,
            seed=1,
        )
