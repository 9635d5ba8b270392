"""Daily movement: stays cover each person's day, check-ins and cell records agree with them,
journeys and fixed stays are honoured, routines follow role and weekday."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from cordon.geo.cells import ROW_SPAN
from cordon.geo.service import packaged_divisions
from cordon.lake import schemas
from cordon.sim.activities import Fleet
from cordon.sim.city import CityParams, build_city
from cordon.sim.model import City, DayMovement, FixedStays, day_start, rng_for
from cordon.sim.movement import MovementParams, RoutinePlan, prepare, simulate_day
from cordon.sim.places import market_digits

START = date(2021, 12, 17)  # a Friday: days 0, 1, 2 are Friday, Saturday, Sunday
DAYS = 3
PARAMS = MovementParams(journey_probability=0.01)  # enough journeys in a small city


@dataclass
class Run:
    city: City
    plan: RoutinePlan
    fixed: FixedStays
    days: list[DayMovement]


def column(table: pa.Table, name: str) -> npt.NDArray[np.int64]:
    values = table.column(name)
    if pa.types.is_timestamp(values.type):
        values = pc.cast(values, pa.int64())
    return np.asarray(values.to_numpy(), dtype=np.int64)


def people_with(city: City, role: str) -> npt.NDArray[np.int64]:
    return np.flatnonzero(np.asarray(city.people.column("role").to_pylist()) == role)


def places_of(city: City, kind: str) -> npt.NDArray[np.int64]:
    return np.flatnonzero(np.asarray(city.places.column("kind").to_pylist()) == kind)


def fixed_stays(city: City) -> FixedStays:
    """An isolated case in the treatment centre from day 0, 14:00 to day 2, 10:00, and a
    fisher at sea on days 0 and 1 (the harbour stands in for the vessel)."""
    isolated = int(people_with(city, "worker")[0])
    fisher = int(people_with(city, "fisher")[0])
    centre = int(places_of(city, "treatment_centre")[0])
    boat = int(places_of(city, "harbour")[0])
    d0, d1, d2 = (day_start(START, d) for d in range(3))
    return FixedStays(
        person_id=np.array([isolated, fisher, fisher], np.int32),
        place_id=np.array([centre, boat, boat], np.int32),
        start=np.array([d0 + 14 * 3600, d0 + 4 * 3600, d1 + 3 * 3600], np.int64),
        end=np.array([d2 + 10 * 3600, d0 + 18 * 3600, d1 + 15 * 3600], np.int64),
        setting=np.array(["health", "vessel", "vessel"], object),
    )


def simulate(plan: RoutinePlan, day: int, fixed: FixedStays, seed: int = 7) -> DayMovement:
    return simulate_day(
        plan, day=day, start_date=START, rng=rng_for(seed, "movement", day), fixed=fixed
    )


@pytest.fixture(scope="module")
def run() -> Run:
    city = build_city(CityParams(), population=3000, start_date=START, rng=rng_for(7, "city"))
    plan = prepare(city, PARAMS, rng=rng_for(7, "routine"))
    fixed = fixed_stays(city)
    return Run(city, plan, fixed, [simulate(plan, d, fixed) for d in range(DAYS)])


def sorted_stays(m: DayMovement) -> dict[str, npt.NDArray[np.int64]]:
    s = m.stays
    person, start = column(s, "person_id"), column(s, "start")
    order = np.lexsort((start, person))
    return {
        "person": person[order],
        "place": column(s, "place_id")[order],
        "start": start[order],
        "end": column(s, "end")[order],
        "cell": column(s, "cell_id")[order],
        "setting": np.asarray(s.column("setting").to_pylist(), dtype=object)[order],
    }


def stay_of(
    stays: dict[str, npt.NDArray[np.int64]],
    person: npt.NDArray[np.int64],
    at: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Index of the stay of ``person`` that contains instant ``at`` (stays cover the day)."""
    key = stays["person"] * 10**10 + stays["start"]
    index = np.searchsorted(key, person * 10**10 + at, side="right") - 1
    assert (stays["person"][index] == person).all()
    assert (stays["start"][index] <= at).all() and (at < stays["end"][index]).all()
    return index


def test_tables_have_the_lake_schemas(run: Run) -> None:
    for m in run.days:
        assert m.stays.schema == schemas.STAYS
        assert m.checkins.schema == schemas.CHECKINS
        assert m.cell_records.schema == schemas.CELL_RECORDS
        assert m.journeys.schema == schemas.JOURNEYS
        assert set(m.stays.column("setting").to_pylist()) <= set(schemas.SETTINGS)


def test_stays_cover_every_persons_day_without_gap_or_overlap(run: Run) -> None:
    n = run.city.people.num_rows
    cells = run.city.places.column("cell_id").to_numpy()
    homes = run.city.people.column("home_place_id").to_numpy()
    for day, m in enumerate(run.days):
        ds, de = day_start(START, day), day_start(START, day + 1)
        s = sorted_stays(m)
        assert (column(m.stays, "day") == day).all()
        assert np.array_equal(np.unique(s["person"]), np.arange(n))
        first = np.r_[True, s["person"][1:] != s["person"][:-1]]
        last = np.r_[s["person"][1:] != s["person"][:-1], True]
        assert (s["start"][first] == ds).all() and (s["end"][last] == de).all()
        assert (s["start"][~first] == s["end"][np.flatnonzero(~first) - 1]).all()
        assert (s["start"] < s["end"]).all()
        assert (s["start"] >= ds).all() and (s["end"] <= de).all()
        assert (s["cell"] == cells[s["place"]]).all()
        at_home = s["setting"] == "household"
        assert (s["place"][at_home] == homes[s["person"][at_home]]).all()
        # Everyone spends the night at home, unless away or held elsewhere.
        assert (s["setting"][first] == "household").mean() > 0.95


def test_checkins_match_a_stay_at_that_place_and_time(run: Run) -> None:
    kinds = np.asarray(run.city.places.column("kind").to_pylist())
    phones = run.city.people.column("phone").is_valid().to_numpy(zero_copy_only=False)
    for m in run.days:
        s = sorted_stays(m)
        person, at = column(m.checkins, "person_id"), column(m.checkins, "time")
        index = stay_of(s, person, at)
        assert (s["place"][index] == column(m.checkins, "place_id")).all()
        assert (at - s["start"][index] < 3600).all()  # scanned on arrival
        assert phones[person].all()
        assert not set(kinds[s["place"][index]]) & {"home", "vessel", "outside_city"}
        eligible = ~np.isin(kinds[s["place"]], ["home", "outside_city", "treatment_centre"])
        eligible &= phones[s["person"]] & (s["setting"] != "vessel")
        assert 0.5 < len(person) / eligible.sum() < 0.7  # checkin_share 0.6


def test_cell_records_follow_stays_with_tower_noise_and_gaps(run: Run) -> None:
    kinds = np.asarray(run.city.places.column("kind").to_pylist())
    phones = run.city.people.column("phone").is_valid().to_numpy(zero_copy_only=False)
    for m in run.days:
        s = sorted_stays(m)
        c = m.cell_records
        person, start, end = column(c, "person_id"), column(c, "start"), column(c, "end")
        index = stay_of(s, person, start)
        assert (end <= s["end"][index]).all() and (start < end).all()
        assert phones[person].all()
        assert not set(kinds[s["place"][index]]) & {"outside_city"}
        cell, stay_cell = column(c, "cell_id"), s["cell"][index]
        d_col = np.abs(cell // ROW_SPAN - stay_cell // ROW_SPAN)
        d_row = np.abs(cell % ROW_SPAN - stay_cell % ROW_SPAN)
        assert (np.maximum(d_col, d_row) <= 1).all()
        assert 0.05 < (cell != stay_cell).mean() < 0.15  # cell_noise 0.1
        covered = phones[s["person"]] & (kinds[s["place"]] != "outside_city")
        assert 0.9 < len(person) / covered.sum() < 0.99  # gaps: 5 %


def test_journeys_are_spent_in_coaches_and_outside_the_city(run: Run) -> None:
    outside, coaches = run.plan.outside_place, run.plan.fleet.coaches
    assert set(places_of(run.city, "outside_city")) == {outside, *coaches}
    counties = {r["code"] for r in packaged_divisions() if r["level"] == "county"}
    journeys = pa.concat_tables([m.journeys for m in run.days])
    assert journeys.num_rows >= 5
    destinations = set(journeys.column("destination_code").to_pylist())
    assert destinations <= counties - {"450681"}
    for day, m in enumerate(run.days):
        s = sorted_stays(m)
        ds, de = day_start(START, day), day_start(START, day + 1)
        person = column(journeys, "person_id")
        depart, back = column(journeys, "depart"), column(journeys, "return")
        assert (depart < back).all()
        here = (depart < de) & (back > ds)
        covered = np.zeros(len(s["person"]), dtype=bool)  # inside one of the person's journeys
        for who, leaves, returns in zip(person[here], depart[here], back[here], strict=True):
            mine = s["person"] == who
            during = mine & (s["end"] > leaves) & (s["start"] < returns)
            place, setting = s["place"][during], s["setting"][during]
            assert set(setting) <= {"transit", "outside"}
            assert (place[setting == "outside"] == outside).all()
            assert np.isin(place[setting == "transit"], coaches).all()
            # The first and last hour, each in one coach.
            assert (setting == "transit").sum() == int(leaves >= ds) + int(returns <= de)
            covered |= during
        away = np.isin(s["place"], [outside, *coaches])
        assert not (away & ~covered).any()  # nobody is outside the city but on a journey
        assert set(s["person"][away]) <= set(person[here])
        assert set(s["setting"][s["place"] == outside]) == {"outside"}
        assert set(s["setting"][np.isin(s["place"], coaches)]) == {"transit"}


def test_coaches_fill_in_order_of_departure_and_take_the_fleet_in_turn() -> None:
    fleet = Fleet(coaches=np.arange(100, 106), seats=3)
    ds, hour = day_start(START, 0), 3600
    # Seven leave in the first hour, two come back in it, two leave in the next and one in the
    # hour after; one leaves three hours in.
    minutes = [50, 10, 40, 20, 30, 0, 55]
    start = ds + 60 * np.array([*minutes, 5, 6, 70, 80, 130, 190])
    inbound = np.array([False] * 7 + [True, True] + [False] * 4)
    coach = fleet.board(np.arange(13), start, inbound, ds, hour)
    by_time = np.argsort(minutes)
    assert coach[by_time].tolist() == [100, 100, 100, 101, 101, 101, 102]
    assert coach[7:].tolist() == [103, 103, 104, 104, 105, 100]  # the fleet again, 3 h later
    # More travellers in an hour, more coaches; never more than their seats.
    for n in (1, 3, 4, 9, 10):
        boarded = fleet.board(np.arange(n), np.full(n, ds), np.zeros(n, bool), ds, hour)
        assert len(set(boarded)) == -(-n // 3)
        assert np.bincount(boarded).max() <= 3
    nobody = np.empty(0, np.int64)
    assert len(fleet.board(nobody, nobody, nobody.astype(bool), ds, hour)) == 0


def _most_aboard(start: npt.NDArray[np.int64], end: npt.NDArray[np.int64]) -> int:
    return max(int(((start <= t) & (end > t)).sum()) for t in start)


def test_travellers_of_an_hour_fill_coaches_of_their_seats_the_same_whatever_else_happens() -> None:
    params = CityParams(coach_seats=3, coaches_per_10000=100)
    city = build_city(params, population=3000, start_date=START, rng=rng_for(7, "city"))
    plan = prepare(city, PARAMS, rng=rng_for(7, "routine"))
    assert len(plan.fleet.coaches) == 30 and plan.fleet.seats == 3
    days = [simulate(plan, day, FixedStays.empty()) for day in range(DAYS)]
    journeys = pa.concat_tables([m.journeys for m in days])
    back = set(zip(column(journeys, "person_id"), column(journeys, "return"), strict=True))
    fuller = 0
    for day, m in enumerate(days):
        s = sorted_stays(m)
        ds = day_start(START, day)
        legs = np.flatnonzero(s["setting"] == "transit")
        assert np.isin(s["place"][legs], plan.fleet.coaches).all()
        for coach in np.unique(s["place"][legs]):
            aboard = legs[s["place"][legs] == coach]
            assert _most_aboard(s["start"][aboard], s["end"][aboard]) <= 3
        # Travellers leaving (or coming back) in the same hour: a coach per three of them.
        inbound = np.array(
            [(p, e) in back for p, e in zip(s["person"][legs], s["end"][legs], strict=True)]
        )
        bucket = 2 * ((s["start"][legs] - ds) // 3600) + inbound
        for b in np.unique(bucket):
            mine = bucket == b
            assert len(set(s["place"][legs][mine])) == -(-mine.sum() // 3)
            fuller += mine.sum() > 3
        # The coaches depend on the day's journeys only: the day simulated alone with another
        # draw of routines, and some travellers kept at home by fixed stays, seats everyone else
        # in the same coach.
        kept = np.unique(s["person"][legs])[::4]
        pinned = FixedStays(
            person_id=kept.astype(np.int32),
            place_id=plan.home[kept].astype(np.int32),
            start=np.full(len(kept), ds, np.int64),
            end=np.full(len(kept), ds + 86_400, np.int64),
            setting=np.full(len(kept), "household", object),
        )
        other = sorted_stays(simulate(plan, day, pinned, seed=8))
        transit = other["setting"] == "transit"
        mine = legs[~np.isin(s["person"][legs], kept)]
        for key in ("person", "place", "start", "end"):
            assert (other[key][transit] == s[key][mine]).all()
    assert fuller > 0  # some hours have more travellers than a coach has seats


def test_fixed_stays_are_honoured_and_the_day_filled_around_them(run: Run) -> None:
    f = run.fixed
    checked = 0
    homes = run.city.people.column("home_place_id").to_numpy()
    for day, m in enumerate(run.days):
        ds, de = day_start(START, day), day_start(START, day + 1)
        s = sorted_stays(m)
        for who in np.unique(f.person_id):
            mine = np.flatnonzero(s["person"] == who)
            wanted = (f.person_id == who) & (f.start < de) & (f.end > ds)
            if not wanted.any():
                continue  # an ordinary day for them
            expect = sorted(
                (max(int(a), ds), min(int(b), de), int(p), str(t))
                for a, b, p, t in zip(
                    f.start[wanted],
                    f.end[wanted],
                    f.place_id[wanted],
                    f.setting[wanted],
                    strict=True,
                )
            )
            got = [
                (int(s["start"][i]), int(s["end"][i]), int(s["place"][i]), str(s["setting"][i]))
                for i in mine
            ]
            rest = [g for g in got if g not in expect]
            assert [g for g in got if g in expect] == expect
            assert all(
                place == homes[who] and setting == "household" for _, _, place, setting in rest
            )
            checked += 1
    assert checked == 5  # the isolated case on days 0, 1 and 2, the fisher on days 0 and 1


def test_routines_follow_role_and_weekday(run: Run) -> None:
    roles = np.asarray(run.city.people.column("role").to_pylist())
    work = np.asarray(
        pc.fill_null(run.city.people.column("work_place_id"), -1).to_numpy(), dtype=np.int64
    )
    friday, saturday = sorted_stays(run.days[0]), sorted_stays(run.days[1])

    def share_at_work(s: dict[str, npt.NDArray[np.int64]], role: str, setting: str) -> float:
        who = np.flatnonzero(roles == role)
        there = s["place"] == work[s["person"]]
        hit = np.unique(s["person"][there & (s["setting"] == setting)])
        return float(np.isin(who, hit).mean())

    assert share_at_work(friday, "student", "class") > 0.95
    assert share_at_work(saturday, "student", "class") == 0
    assert share_at_work(friday, "worker", "work") > 0.85
    assert share_at_work(saturday, "worker", "work") < 0.45
    assert share_at_work(saturday, "trader", "work") > 0.85  # border trade goes on
    assert share_at_work(friday, "health_worker", "health") > 0.85
    for s in (friday, saturday):
        assert set(roles[s["person"][s["setting"] == "class"]]) <= {"student"}
        hours = (s["start"] - day_start(START, 0)) % 86400 / 3600
        school = s["setting"] == "class"
        assert (hours[school] >= 6).all() and (hours[school] < 16).all()


def test_periodic_markets_are_visited_only_on_their_days(run: Run) -> None:
    names = run.city.places.column("name").to_pylist()
    kinds = run.city.places.column("kind").to_pylist()
    digits = {i: market_digits(n) for i, (n, k) in enumerate(zip(names, kinds, strict=True))}
    periodic = {i for i, d in digits.items() if d and kinds[i] == "market"}
    assert periodic
    visited_on_day = 0
    for day, m in enumerate(run.days):
        last_digit = (START.day + day) % 10
        places = set(column(m.stays, "place_id").tolist()) & periodic
        assert all(last_digit in digits[p] for p in places)
        visited_on_day += len(places)
    assert visited_on_day > 0


def test_same_seed_same_day_other_seed_other_day(run: Run) -> None:
    again = simulate(run.plan, 1, run.fixed)
    for name in ("stays", "checkins", "cell_records", "journeys"):
        assert getattr(again, name).equals(getattr(run.days[1], name)), name
    other = simulate(run.plan, 1, run.fixed, seed=8)
    assert not other.stays.equals(run.days[1].stays)
    assert not other.cell_records.equals(run.days[1].cell_records)
    plan = prepare(run.city, PARAMS, rng=rng_for(8, "routine"))
    assert not simulate(plan, 1, run.fixed).journeys.equals(run.days[1].journeys)


def test_bad_fixed_stays_are_refused(run: Run) -> None:
    ds = day_start(START, 0)

    def fixed(place: int, starts: list[int], ends: list[int]) -> FixedStays:
        k = len(starts)
        return FixedStays(
            np.zeros(k, np.int32),
            np.full(k, place, np.int32),
            np.array(starts, np.int64),
            np.array(ends, np.int64),
            np.array(["health"] * k, object),
        )

    with pytest.raises(ValueError, match="overlap"):
        simulate(run.plan, 0, fixed(0, [ds, ds + 100], [ds + 200, ds + 300]))
    with pytest.raises(ValueError, match="place"):
        simulate(run.plan, 0, fixed(10**6, [ds], [ds + 100]))
    with pytest.raises(ValueError, match="end after"):
        simulate(run.plan, 0, fixed(0, [ds + 100], [ds]))
