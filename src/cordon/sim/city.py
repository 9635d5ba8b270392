"""The synthetic city: people, households, places and grids of Dongxing.

``build_city`` is vectorised (numpy/pyarrow, no loop per person) and deterministic for its
``rng``. The geography (village centres, landmarks) is fixed, see ``geography.py``; homes,
compounds, grids, workplaces, venues and people vary with the seed. Households and ages follow
``households.py``; places ``places.py``; names and numbers ``names.py``.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field

from cordon.lake import schemas
from cordon.sim import facilities, geography, names, places, visitors
from cordon.sim.households import draw_people, form_households
from cordon.sim.model import City

IntArray = npt.NDArray[np.int64]

# China, 7th National Population Census (2020), population by 5-year age group and sex
# (millions, rounded; groups 0–4 … 95–99, the few centenarians folded into 95–99).
CENSUS_2020_MALE = [
    40.97, 48.26, 45.61, 38.98, 39.68, 47.99, 63.64, 50.85, 48.16, 58.02,
    61.28, 50.87, 36.70, 36.40, 22.98, 14.90, 9.25, 4.57, 1.44, 0.30,
]  # fmt: skip
CENSUS_2020_FEMALE = [
    36.91, 41.98, 39.65, 33.70, 35.26, 43.85, 60.51, 48.16, 45.79, 56.20,
    59.88, 50.53, 36.68, 37.61, 24.10, 16.35, 11.13, 6.33, 2.52, 0.70,
]  # fmt: skip
ROLE_CODES = {name: i for i, name in enumerate(schemas.ROLES)}


class CityParams(BaseModel):
    """How the synthetic Dongxing is made. Every default reproduces the reference city."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # --- people -------------------------------------------------------------------------
    age_groups_male: list[float] = Field(
        default=CENSUS_2020_MALE,
        description="Men by 5-year age group (0–4 … 95–99), relative weights. Source: China "
        "7th National Population Census 2020, population by age and sex (millions). Guangxi "
        "is somewhat younger than the national pyramid (0–14: 23.6 % vs 18.0 %).",
    )
    age_groups_female: list[float] = Field(
        default=CENSUS_2020_FEMALE,
        description="Women by 5-year age group, as age_groups_male. Source: China 7th National "
        "Population Census 2020 (national sex ratio 105.07).",
    )
    adult_age: int = Field(default=18, description="Age from which a person may head a household.")
    elderly_age: int = Field(default=65, description="Age from which a person's role is elderly.")
    school_ages: tuple[int, int] = Field(
        default=(6, 18),
        description="Youngest and oldest age of students (primary 6–11, junior middle 12–14, "
        "senior high 15–18: China's 6-3-3 system).",
    )
    marriage_age_edges: list[int] = Field(
        default=[0, 20, 25, 30, 35, 60, 70, 80],
        description="Lower edges of the age bands of the married shares below.",
    )
    married_share_male: list[float] = Field(
        default=[0.0, 0.10, 0.45, 0.78, 0.88, 0.86, 0.78, 0.60],
        description="Share of men living with a spouse, by age band. Approximates the 2020 "
        "census marital-status tables (first marriage ≈ 29 for men; widowhood after 70).",
    )
    married_share_female: list[float] = Field(
        default=[0.0, 0.22, 0.60, 0.85, 0.90, 0.85, 0.66, 0.35],
        description="Share of women living with a spouse, by age band (first marriage ≈ 27; "
        "women outlive their husbands). Approximates the 2020 census marital-status tables.",
    )
    husband_age_gap: float = Field(
        default=2.0, description="Husbands are this many years older, mean."
    )
    mother_age_at_birth_mean: float = Field(
        default=27.5,
        description="Mean age of mothers at birth (China, 2020 census fertility tables ≈ 27–29).",
    )
    mother_age_at_birth_sd: float = Field(
        default=4.5, description="Spread of the mother's age at birth."
    )
    single_mother_share: float = Field(
        default=0.15,
        description="Chance that a single woman of child-bearing age may have children.",
    )
    young_with_parents_share: float = Field(
        default=0.75, description="Share of unmarried young adults still living with their parents."
    )
    young_with_parents_max_age: int = Field(default=30, description="Up to this age (exclusive).")
    single_with_family_share: float = Field(
        default=0.4,
        description="Share of older unmarried (never married, divorced) adults below the "
        "elderly age living with their parents' household.",
    )
    elderly_with_children_share: float = Field(
        default=0.4,
        description="Share of elderly units living with a child's family (multi-generation "
        "households). Assumption, common in rural Guangxi; the 2020 census counts most older "
        "people in households without younger members, so less than half.",
    )
    match_window: int = Field(
        default=6,
        description="Randomness of the parent match, in neighbours on the sorted age list.",
    )
    phone_share_adult: float = Field(
        default=0.97,
        description="Share of people 18–74 with a mobile phone (CNNIC 2021: 99.6 % of "
        "netizens use a mobile; a few adults have none).",
    )
    phone_share_teen: float = Field(default=0.5, description="Share of people 12–17 with a phone.")
    phone_share_old: float = Field(default=0.75, description="Share of people 75+ with a phone.")
    migrant_share: float = Field(
        default=0.12,
        description="Share of residents whose identity number was issued elsewhere in Guangxi "
        "(region code of another county); the others carry 450681.",
    )
    visitor_share: float = Field(
        default=0.04,
        ge=0,
        le=0.5,
        description="Share of the people in the city who live elsewhere and come and go "
        "(cross-border traders, truck drivers, business visitors, tourists; whole households "
        "of 1-3 adults of working age). Assumption: in December 2021 the land border was "
        "closed to passengers, so visitors were mostly freight and trade, not tourism; about "
        "8,000 people for 200,000 residents, a fifth of them in the city on a given day. "
        "Their identity numbers carry their home county's code, their mobiles a number block "
        "of their home city (libphonenumber's geocoding data).",
    )
    visitor_driver_share: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Share of working visitors who drive freight trucks (to the port or the "
        "border crossing); the others come on business. Assumption.",
    )
    visitor_origins: dict[str, float] = Field(
        default={
            "4506": 0.20,
            "4501": 0.20,
            "4507": 0.12,
            "4505": 0.06,
            "45": 0.12,
            "4408": 0.08,
            "4401": 0.06,
            "4403": 0.04,
            "4406": 0.03,
            "44": 0.09,
        },
        description="Where visitors live, by division-code prefix (the longest matching "
        "prefix's weight is shared evenly by its counties): 防城港's other districts, 南宁, "
        "钦州, 北海, the rest of Guangxi; 湛江, 广州, 深圳, 佛山, the rest of Guangdong. "
        "Assumption: about 30 % from another province, near the national share of migrants "
        "who crossed a provincial border (124.8 of 375.8 million, 7th National Population "
        "Census 2020, communiqué no. 7), and those mostly from neighbouring Guangdong.",
    )

    # --- where people live ---------------------------------------------------------------
    town_shares: dict[str, float] = Field(
        default={"450681100": 0.58, "450681101": 0.28, "450681102": 0.14},
        description="Share of residents per town. Assumption: 东兴镇 holds the urban area and "
        "most of the ~200,000 residents; 江平镇 (with the Jing islands) next; 马路镇 least.",
    )
    community_weight: float = Field(
        default=3.0,
        description="Residents of a community (社区) relative to a rural village, per unit.",
    )
    households_per_grid: tuple[int, int] = Field(
        default=(300, 150),
        description="Households per grid (网格), urban and rural: city grids cover ~300 "
        "households, rural ones fewer.",
    )
    households_per_compound: tuple[int, int] = Field(
        default=(60, 25),
        description="Households per residential compound (小区 / 村民小组), urban and rural.",
    )

    # --- work --------------------------------------------------------------------------
    labour_share_male: float = Field(default=0.85, description="Men 19–59 in work.")
    labour_share_female: float = Field(default=0.72, description="Women 19–54 in work.")
    labour_share_older: float = Field(
        default=0.45,
        description="People in work above the usual retirement age (men 60–64, women 55–64).",
    )
    trader_share: float = Field(
        default=0.09, description="Share of the working who are cross-border traders (边民互市)."
    )
    trader_at_crossing_share: float = Field(
        default=0.6,
        description="Traders working at the border crossing; the rest at the trade market.",
    )
    fisher_share_harbour_village: float = Field(
        default=0.45, description="Working men of a village with a fishing harbour who fish."
    )
    fisher_share_elsewhere: float = Field(
        default=0.01, description="Working men elsewhere who fish."
    )
    fisher_female_factor: float = Field(
        default=0.1, description="Women fish at this fraction of men."
    )
    health_worker_share: float = Field(
        default=0.012,
        description="Share of the working in health care (China 2020: ≈ 7.6 health workers per "
        "1,000 people).",
    )
    port_worker_share: float = Field(
        default=0.02, description="Share of other workers at the port."
    )
    local_work_share: float = Field(default=0.75, description="Workers employed in their own town.")
    workplace_mean_size: float = Field(default=15.0, description="Mean employees per workplace.")

    # --- schools and venues ----------------------------------------------------------------
    class_size: int = Field(
        default=45, description="Pupils per class (China's standard class ≤ 45)."
    )
    primary_school_size: int = Field(
        default=1200, description="Pupils per primary school, at most."
    )
    village_school_min_pupils: int = Field(
        default=60, description="Villages with fewer primary pupils send them to the town's school."
    )
    middle_school_size: int = Field(default=1500, description="Pupils per junior middle school.")
    high_school_size: int = Field(default=2500, description="Pupils per senior high school.")
    high_school_towns: list[str] = Field(
        default=["450681100", "450681101"],
        description="Towns with a senior high school; others' pupils go to the first one.",
    )
    restaurants_per_1000: float = Field(default=4.0, description="Restaurants per 1,000 residents.")
    shops_per_1000: float = Field(default=6.0, description="Shops per 1,000 residents.")
    rural_market_every: int = Field(
        default=3, description="One periodic market (圩) for every this many rural villages."
    )
    section_size: int = Field(
        default=50,
        ge=0,
        description="People a section of a large place holds: a market, the border crossing, "
        "the port, a hospital, a workplace, restaurant or shop for more people is "
        "split into sections (stall rows, lanes, workshops, wards, halls), each a place of its "
        "own with its own venue code; staff keep their section, a visit goes to one section. "
        "0 keeps every place whole.",
    )
    coach_seats: int = Field(
        default=45,
        ge=1,
        description="Seats of a coach (客车): travellers leaving or coming back within the same "
        "hour fill coaches of this many seats one after another, and in transit they are with "
        "the people of their coach only (protocol: an enclosed coach makes everyone aboard a "
        "contact).",
    )
    coaches_per_10000: float = Field(
        default=5.0,
        ge=0,
        description="Coaches (at least 4) per 10,000 people in the city, taken in turn by the "
        "day's coachloads: enough while fewer coachloads leave within two hours (else two share "
        "a coach). 200,000 people make about 2,100 journey legs, 62 coachloads a day and at "
        "most 12 within two hours, for 100 coaches.",
    )


def _village_weights(params: CityParams, v: geography.Villages) -> npt.NDArray[np.float64]:
    t = geography.towns()
    unknown = set(params.town_shares) - set(t.code.tolist())
    if unknown:
        raise ValueError(f"town_shares names unknown towns: {sorted(unknown)}")
    share = np.array([params.town_shares.get(c, 0.0) for c in t.code.tolist()])
    unit = np.where(v.urban, params.community_weight, 1.0)
    per_town = np.bincount(v.town_index, weights=unit, minlength=len(t.code))
    weight: npt.NDArray[np.float64] = share[v.town_index] * unit / per_town[v.town_index]
    normalised: npt.NDArray[np.float64] = weight / weight.sum()
    return normalised


def build_city(
    params: CityParams, *, population: int, start_date: date, rng: np.random.Generator
) -> City:
    """A city of ``population`` people on ``start_date`` (tables PEOPLE, HOUSEHOLDS, PLACES,
    GRIDS with dense ids from 0)."""
    if population <= 0:
        raise ValueError(f"population must be positive, got {population}")
    v = geography.villages()
    age, sex = draw_people(params, population, rng)
    birth, age = names.birth_dates(age, start_date, rng)
    household = form_households(params, age, sex, rng)
    n_households = int(household.max()) + 1

    # Households → villages, then ordered by (village, random) so that the numbering of
    # households, homes and people follows compounds and grids.
    hh_village = rng.choice(len(v.code), size=n_households, p=_village_weights(params, v))
    order = np.lexsort((rng.random(n_households), hh_village))
    renumber = np.empty(n_households, dtype=np.int64)
    renumber[order] = np.arange(n_households)
    household = renumber[household]
    hh_village = hh_village[order]
    person_order = np.lexsort((-age, household))
    age, sex, birth, household = (
        age[person_order],
        sex[person_order],
        birth[person_order],
        household[person_order],
    )
    size = np.bincount(household, minlength=n_households)

    homes = places.lay_out_homes(params, v, hh_village, rng)
    village = hh_village[household]
    role = _roles(params, age, sex, village, v, rng)
    built = facilities.build_places(params, v, homes, size, village, role, age, rng)
    # Visitors come from a stream of their own: the city is the same with or without them.
    visitor_rng = rng.spawn(1)[0]
    purpose, residence = visitors.choose(params, age, role, household, n_households, visitor_rng)
    work_place = visitors.drivers_to_freight(built.work_place, purpose, built.table, visitor_rng)

    surnames = names.draw_surnames(population, rng)
    # Children carry the surname of the household's first man (or first member).
    first_member = np.searchsorted(household, np.arange(n_households))
    first_man = _first_in_household(household, sex == 1, n_households)
    head = np.where(first_man >= 0, first_man, first_member)
    child = age < params.adult_age
    surnames[child] = surnames[head[household[child]]]
    region = visitors.regions(_regions(params, population, rng), residence)
    phone_p = np.select(
        [age < 12, age < 18, age < 75],
        [0.0, params.phone_share_teen, params.phone_share_adult],
        params.phone_share_old,
    )
    has_phone = rng.random(population) < phone_p
    phones = names.mobiles(population, rng)
    phones = pc.if_else(pa.array(has_phone), phones, pa.nulls(population, pa.string()))
    phones = visitors.mobiles(phones, residence, visitor_rng)

    village_code = pa.array(v.code).take(pa.array(village))
    is_visitor = purpose >= 0
    people = pa.table(
        {
            "person_id": pa.array(np.arange(population, dtype=np.int32)),
            "household_id": pa.array(household.astype(np.int32)),
            "name": names.person_names(sex, surnames, rng),
            "id_number": names.id_numbers(region, birth, sex, rng),
            "phone": phones,
            "sex": pa.array(np.where(sex == 1, "M", "F")),
            "birth_date": pa.array(birth.astype("datetime64[D]"), pa.date32()),
            "age": pa.array(age.astype(np.int16)),
            "role": pa.array(np.array(schemas.ROLES)[role]),
            "home_place_id": pa.array(household.astype(np.int32)),
            "work_place_id": _nullable_int(work_place),
            "class_id": _nullable_int(built.class_id),
            "village_code": village_code,
            "grid_code": homes.grid_code.take(pa.array(household)),
            "residence_code": pc.if_else(
                pa.array(is_visitor), pa.array(residence.astype(str)), village_code
            ),
            "residence_address": visitors.addresses(residence, household, visitor_rng),
            "visitor": pa.array(
                np.array((*schemas.VISIT_PURPOSES, ""), dtype=object)[purpose],
                pa.string(),
                mask=~is_visitor,
            ),
        },
        schema=schemas.PEOPLE,
    )
    households = pa.table(
        {
            "household_id": pa.array(np.arange(n_households, dtype=np.int32)),
            "home_place_id": pa.array(np.arange(n_households, dtype=np.int32)),
            "size": pa.array(size.astype(np.int16)),
            "village_code": pa.array(v.code).take(pa.array(hh_village)),
            "grid_code": homes.grid_code,
        },
        schema=schemas.HOUSEHOLDS,
    )
    return City(people=people, households=households, places=built.table, grids=homes.grids)


def _nullable_int(values: IntArray) -> pa.Array:
    return pa.array(values.astype(np.int32), mask=values < 0)


def _first_in_household(household: IntArray, which: npt.NDArray[np.bool_], count: int) -> IntArray:
    """Index of the first person with ``which`` in each household, or -1."""
    first = np.full(count, -1, dtype=np.int64)
    idx = np.flatnonzero(which)[::-1]  # reversed, so the first one is written last
    first[household[idx]] = idx
    return first


def _regions(params: CityParams, n: int, rng: np.random.Generator) -> IntArray:
    """Region code of each identity number: 450681, or another Guangxi county for migrants."""
    counties = np.array(
        [int(c) for c in geography.guangxi_counties() if c != geography.COUNTY_CODE], dtype=np.int64
    )
    region = np.full(n, int(geography.COUNTY_CODE), dtype=np.int64)
    migrant = rng.random(n) < params.migrant_share
    region[migrant] = counties[rng.integers(0, len(counties), int(migrant.sum()))]
    return region


def _roles(
    params: CityParams,
    age: IntArray,
    sex: npt.NDArray[np.int8],
    village: IntArray,
    v: geography.Villages,
    rng: np.random.Generator,
) -> IntArray:
    n = len(age)
    youngest, oldest = params.school_ages
    role = np.full(n, ROLE_CODES["unemployed"], dtype=np.int64)
    role[age < youngest] = ROLE_CODES["child"]
    role[(age >= youngest) & (age <= oldest)] = ROLE_CODES["student"]
    role[age >= params.elderly_age] = ROLE_CODES["elderly"]
    working_age = (age > oldest) & (age < params.elderly_age)
    retired_from = np.where(sex == 1, 60, 55)
    share = np.where(
        age < retired_from,
        np.where(sex == 1, params.labour_share_male, params.labour_share_female),
        params.labour_share_older,
    )
    working = working_age & (rng.random(n) < share)
    role[working] = ROLE_CODES["worker"]

    harbour_village = v.harbour[village] != ""
    fisher_p = np.where(
        harbour_village, params.fisher_share_harbour_village, params.fisher_share_elsewhere
    ) * np.where(sex == 1, 1.0, params.fisher_female_factor)
    u = rng.random(n)
    fisher = working & (u < fisher_p)
    trader = working & ~fisher & (u < fisher_p + params.trader_share)
    health = (
        working
        & ~fisher
        & ~trader
        & (u < fisher_p + params.trader_share + params.health_worker_share)
    )
    role[fisher] = ROLE_CODES["fisher"]
    role[trader] = ROLE_CODES["trader"]
    role[health] = ROLE_CODES["health_worker"]
    return role
