"""The synthetic Dongxing: its people, households, places and grids."""

from __future__ import annotations

import math
import re
from datetime import date

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pytest
import shapely
from pydantic import ValidationError
from shapely.geometry import shape

from cordon.geo.cells import cell_of
from cordon.geo.service import boundary_geojson, packaged_divisions
from cordon.lake import schemas
from cordon.people.rules import normalise_phone, parse_id_number
from cordon.sim.city import CityParams, build_city
from cordon.sim.facilities import REAL_POPULATION
from cordon.sim.model import City, rng_for

START = date(2021, 12, 13)
PEOPLE = 3000


def make(seed: int = 7, population: int = PEOPLE) -> City:
    return build_city(
        CityParams(), population=population, start_date=START, rng=rng_for(seed, "city")
    )


@pytest.fixture(scope="module")
def city() -> City:
    return make()


@pytest.fixture(scope="module")
def people(city: City) -> pd.DataFrame:
    return city.people.to_pandas()


@pytest.fixture(scope="module")
def places(city: City) -> pd.DataFrame:
    return city.places.to_pandas()


def test_tables_have_the_lake_schemas_and_dense_ids(city: City) -> None:
    assert city.people.schema == schemas.PEOPLE
    assert city.households.schema == schemas.HOUSEHOLDS
    assert city.places.schema == schemas.PLACES
    assert city.grids.schema == schemas.GRIDS
    assert city.people.num_rows == PEOPLE
    for table, column in (
        (city.people, "person_id"),
        (city.households, "household_id"),
        (city.places, "place_id"),
    ):
        ids = table.column(column).to_numpy()
        assert (ids == np.arange(table.num_rows)).all()
    assert set(city.places.column("kind").to_pylist()) <= set(schemas.PLACE_KINDS)
    assert set(city.people.column("role").to_pylist()) == set(schemas.ROLES)


def test_every_place_lies_inside_dongxing_except_the_outside_pseudo_places(
    places: pd.DataFrame,
) -> None:
    polygon = shapely.make_valid(
        shape(boundary_geojson("dongxing.geojson")["features"][0]["geometry"])
    )
    inside = shapely.contains_xy(polygon, places.lon.to_numpy(), places.lat.to_numpy())
    outside = places.kind == "outside_city"
    # One place for the time away, and coaches for the first and last hour of journeys.
    away, coaches = (
        places[outside & (places.capacity == 0)],
        places[outside & (places.capacity > 0)],
    )
    assert away.name.tolist() == ["东兴市外"]
    params = CityParams()
    assert len(coaches) == max(4, math.ceil(PEOPLE * params.coaches_per_10000 / 10_000))
    assert (coaches.capacity == params.coach_seats).all()
    assert (coaches.site_id == coaches.place_id.min()).all()
    assert coaches.name.tolist()[:2] == ["出入城客车·1号车", "出入城客车·2号车"]
    assert len(away) + len(coaches) == outside.sum()
    assert inside[~outside].all()
    assert not inside[outside].any()
    assert (places.cell_id.to_numpy() == cell_of(places.lon, places.lat)).all()


def test_landmarks_of_the_reference_scenario(places: pd.DataFrame) -> None:
    sites = places[places.site_id == places.place_id]
    counts = sites.kind.value_counts()
    assert counts["treatment_centre"] == 1
    assert counts["border_crossing"] == 1
    assert counts["port"] == 1
    assert counts["harbour"] >= 3
    assert counts["hospital"] >= 3
    crossing = places[places.kind == "border_crossing"]
    # 5,000 people at once in the real city, in lanes of the configured section size.
    lanes = math.ceil(5000 * PEOPLE / REAL_POPULATION / CityParams().section_size)
    assert lanes > 1 and len(crossing) == lanes
    assert crossing.name.tolist()[:2] == ["东兴口岸·1区", "东兴口岸·2区"]
    assert (crossing.site_id == crossing.place_id.min()).all()
    crossing = crossing.iloc[0]
    # Near the Beilun River bridge to Móng Cái (≈ 107.97 E, 21.545 N), within 1 km.
    assert abs(crossing.lon - 107.97) < 0.01 and abs(crossing.lat - 21.545) < 0.01
    harbours = places[places.kind == "harbour"]
    assert harbours.lat.max() < 21.57  # on the southern coast


def test_villages_and_grids_are_real_and_consistent(city: City, places: pd.DataFrame) -> None:
    villages = {
        r["code"]: r["parent_code"]
        for r in packaged_divisions()
        if r["level"] == "village" and r["code"].startswith("450681")
    }
    grids = city.grids.to_pandas()
    assert grids.grid_code.is_unique
    assert all(re.fullmatch(r"\d{15}", g) for g in grids.grid_code)
    assert set(grids.village_code) <= set(villages)
    assert (grids.grid_code.str[:12] == grids.village_code).all()
    assert all(re.fullmatch(r".+(社区|村)第\d+网格", name) for name in grids.name)
    assert grids.name.iloc[0].startswith("东郊社区第1网格")
    inside = shapely.contains_xy(
        shapely.make_valid(shape(boundary_geojson("dongxing.geojson")["features"][0]["geometry"])),
        grids.lon.to_numpy(),
        grids.lat.to_numpy(),
    )
    assert inside.all()
    # Every town has residents, 东兴镇 the most.
    people_towns = pc.utf8_slice_codeunits(city.people.column("village_code"), 0, 9)
    towns = pd.Series(people_towns.to_pylist()).value_counts()
    assert list(towns.index) == ["450681100", "450681101", "450681102"]
    located = places[places.kind != "outside_city"]
    assert set(located.village_code) <= set(villages)
    homes = places[places.kind == "home"]
    assert homes.grid_code.notna().all() and homes.compound_id.notna().all()
    assert (homes.grid_code.str[:12] == homes.village_code).all()
    # A compound lies in one grid.
    assert (homes.groupby("compound_id").grid_code.nunique() == 1).all()
    known = set(grids.grid_code)
    assert set(places.grid_code.dropna()) <= known


def test_households_live_together_in_their_home(city: City, people: pd.DataFrame) -> None:
    households = city.households.to_pandas()
    sizes = people.groupby("household_id").size()
    assert (households["size"].to_numpy() == sizes.to_numpy()).all()
    assert 2.6 <= households["size"].mean() <= 3.4
    assert (households.home_place_id == households.household_id).all()
    assert (people.home_place_id == people.household_id).all()
    merged = people.merge(households, on="household_id", suffixes=("", "_hh"))
    assert (merged.grid_code == merged.grid_code_hh).all()
    assert (merged.village_code == merged.village_code_hh).all()
    ages = people.groupby("household_id").age.agg(["min", "max"])
    # Some households span three generations; a child never lives without an adult.
    three_generations = ((ages["min"] < 18) & (ages["max"] >= 65)).mean()
    assert three_generations > 0.01
    child_households = ages[ages["min"] < 18]
    assert (child_households["max"] >= 18).all()
    # Parents are old enough to be parents: the oldest adult is ≥ 16 years older.
    assert ((child_households["max"] - child_households["min"]) >= 16).mean() > 0.97


def test_age_and_sex_follow_the_2020_pyramid(people: pd.DataFrame) -> None:
    share = people.age.lt(15).mean()
    assert 0.14 < share < 0.22  # census 2020: 17.95 %
    assert 0.10 < people.age.ge(65).mean() < 0.17  # census 2020: 13.50 %
    assert 0.95 < (people.sex == "M").sum() / (people.sex == "F").sum() < 1.16  # 105.07
    assert people.age.max() < 100


def test_roles_follow_age_and_have_their_places(people: pd.DataFrame, places: pd.DataFrame) -> None:
    kind = places.set_index("place_id").kind
    assert (people.role == "child").eq(people.age < 6).all()
    assert (people.role == "elderly").eq(people.age >= 65).all()
    students = people[people.role == "student"]
    assert students.age.between(6, 18).all() and len(students) == people.age.between(6, 18).sum()
    assert (kind[students.work_place_id].to_numpy() == "school").all()
    classes = students.groupby("class_id")
    assert classes.size().max() <= 45
    assert (classes.work_place_id.nunique() == 1).all()  # a class belongs to one school
    assert (classes.age.max() - classes.age.min() <= 1).all()  # and to one year
    assert people.class_id[people.role != "student"].isna().all()
    expect = {
        "fisher": {"harbour"},
        "trader": {"border_crossing", "market"},
        "health_worker": {"hospital", "clinic"},
        "worker": {"workplace", "port", "border_crossing"},  # crossing: visiting drivers
    }
    for role, kinds in expect.items():
        group = people[people.role == role]
        assert len(group) > 0, role
        assert set(kind[group.work_place_id.astype(int)]) <= kinds, role
    for role in ("child", "elderly", "unemployed"):
        assert people.work_place_id[people.role == role].isna().all()
    shares = people.role.value_counts(normalize=True)
    assert 0.14 < shares["student"] < 0.22
    assert 0.3 < shares["worker"] < 0.55
    # Fishers live in the villages with a fishing harbour.
    harbour_villages = set(places.village_code[places.kind == "harbour"])
    assert people[people.role == "fisher"].village_code.isin(harbour_villages).mean() > 0.6


def test_identity_numbers_and_phones_are_valid_and_unique(people: pd.DataFrame) -> None:
    assert people.id_number.is_unique
    for number, birth, sex in zip(people.id_number, people.birth_date, people.sex, strict=True):
        parsed = parse_id_number(number, today=START)  # format, region, date and check digit
        assert parsed.birth_date == birth and parsed.sex == sex
    phones = people.phone.dropna()
    assert phones.is_unique
    assert all(normalise_phone(p) == p and len(p) == 11 for p in phones)
    assert people.phone[people.age < 12].isna().all()
    assert people.phone[people.age.between(18, 64)].notna().mean() > 0.9
    born = pd.to_datetime(people.birth_date)
    start = pd.Timestamp(START)
    age = (
        start.year
        - born.dt.year
        - (
            (born.dt.month > start.month)
            | ((born.dt.month == start.month) & (born.dt.day > start.day))
        )
    )
    assert (age == people.age).all()
    assert people.name.str.len().between(2, 3).all()


def test_some_people_live_elsewhere_with_numbers_from_their_home(people: pd.DataFrame) -> None:
    import phonenumbers
    from phonenumbers import geocoder

    from cordon.sim import visitors

    visitor = people[people.visitor.notna()]
    residents = people[people.visitor.isna()]
    assert 0.02 < len(visitor) / len(people) < 0.05  # visitor_share 4 %
    assert set(visitor.visitor) == set(schemas.VISIT_PURPOSES)
    assert visitor.age.between(18, 64).all()
    assert (visitor.role != "fisher").all() and (visitor.role != "student").all()
    # Resident: lives in the village of the home; visitor: in a county elsewhere, whose code
    # their identity number carries (valid check digit, checked above for everybody).
    assert (residents.residence_code == residents.village_code).all()
    assert residents.residence_address.isna().all()
    codes = {r["code"]: r for r in packaged_divisions()}
    assert visitor.residence_code.map(lambda c: codes[c]["level"]).eq("county").all()
    assert (visitor.residence_code != "450681").all()
    assert (visitor.id_number.str[:6] == visitor.residence_code).all()
    assert visitor.residence_code.str.startswith("44").any()  # some from Guangdong
    assert visitor.residence_code.str.startswith("4506").any()  # and from nearby
    for code, address in zip(visitor.residence_code, visitor.residence_address, strict=True):
        assert address.startswith(visitors.full_name(code)) and address.endswith("号")
    # A visitor's mobile is in a number block of their home city (libphonenumber's geocoding).
    with_phone = visitor[visitor.phone.notna()]
    for code, phone in zip(with_phone.residence_code, with_phone.phone, strict=True):
        number = phonenumbers.parse(phone, "CN")
        assert phonenumbers.is_valid_number(number)
        city = codes[code[:4]]["name"]
        assert geocoder.description_for_number(number, "zh").endswith(city), (phone, code)
    # Parties live together at their lodging and share their home elsewhere.
    assert visitor.groupby("household_id").residence_code.nunique().eq(1).all()
    assert not residents.household_id.isin(visitor.household_id).any()
    drivers = visitor[visitor.visitor == "truck_driver"]
    assert (drivers.role == "worker").all() and drivers.work_place_id.notna().all()


def test_without_visitors_the_city_is_the_same_but_for_their_particulars(city: City) -> None:
    none = build_city(
        CityParams(visitor_share=0.0),
        population=PEOPLE,
        start_date=START,
        rng=rng_for(7, "city"),
    )
    assert none.people.column("visitor").null_count == PEOPLE
    assert none.places.equals(city.places) and none.households.equals(city.households)
    for column in ("name", "sex", "birth_date", "role", "home_place_id", "class_id"):
        assert none.people.column(column).equals(city.people.column(column)), column


def test_same_seed_same_city_other_seed_other_city(city: City) -> None:
    again = make()
    for name in ("people", "households", "places", "grids"):
        assert getattr(again, name).equals(getattr(city, name)), name
    other = make(seed=8)
    assert not other.people.equals(city.people)
    assert not other.places.equals(city.places)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="population"):
        make(population=0)
    with pytest.raises(ValidationError):
        CityParams(class_size="many")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        CityParams(unknown=1)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="unknown towns"):
        build_city(
            CityParams(town_shares={"450681999": 1.0}),
            population=10,
            start_date=START,
            rng=rng_for(1, "city"),
        )


def test_a_tiny_city_still_works() -> None:
    tiny = make(population=5)
    assert tiny.people.num_rows == 5
    assert tiny.households.column("size").to_numpy().sum() == 5
