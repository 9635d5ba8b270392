"""Every person's day: stays, venue check-ins, phone-cell records and journeys out of the city.

``prepare`` turns the city into per-person arrays once (home, work, favourite venues, nearest
markets, …); ``simulate_day`` then builds one day for everybody with numpy, without a loop per
person or stay:

1. routine activities from ``routines.py`` (by role, workday or rest day, market days);
2. people away on a journey spend the first and last hour in a coach (setting "transit"; a
   section of the coach site, of kind "outside_city": those leaving or coming back within the
   same hour fill coaches one after another) and the time in between at the "outside_city"
   place (setting "outside", which neither transmits nor makes contacts); people with fixed
   stays (crew at sea, isolated cases) get exactly those, and nothing else from the routine;
3. home fills every gap, so each person's stays cover the day without overlap; adjacent stays
   at the same place and setting are merged;
4. check-ins for a share of the stays at places with a venue code, by people with a phone;
   cell records for the stays of people with a phone, sometimes at a neighbouring tower,
   sometimes missing, none outside the city or at sea.

Journeys are decided per departure day from their own random stream (seeded once in
``prepare``), so any day can be simulated on its own and a journey spanning several days is the
same on each of them; a journey's coaches depend only on the legs of the day they are on (the
journeys leaving and coming back that day, whoever has fixed stays), so they are the same too.
A person can depart only every ``journey_max_days + 1`` days (their phase), so a person's
journeys never overlap. When a person has fixed stays on a day of their journey, the fixed stays
win for that day; a journey whose traveller has fixed stays on the departure day is not taken
(and not reported).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field

from cordon.geo.cells import cell_of, neighbours
from cordon.lake import schemas
from cordon.sim import geography, places, routines, visitors
from cordon.sim.activities import (
    KIND,
    ROLE,
    SETTING,
    Fleet,
    concat_journeys,
    fixed_rows,
    index_in,
    journey_rows,
    journeys_today,
    routine_rows,
    take_journeys,
)
from cordon.sim.model import City, DayMovement, FixedStays, day_start
from cordon.sim.sampling import cumulative, pick_in_ranges
from cordon.sim.stays import Rows, cell_records, checkins, fill_day, stays_table, times

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

NO_CHECKIN_KINDS = ("home", "vessel", "outside_city", "treatment_centre")
NO_COVERAGE_KINDS = ("vessel", "outside_city")
_CENTRE = int(cell_of(108.0, 21.6)[()])
NEIGHBOUR_OFFSETS = np.array(neighbours(_CENTRE), dtype=np.int64) - _CENTRE


class MovementParams(BaseModel):
    """How people move. Rates are per person-day unless said otherwise."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    checkin_share: float = Field(
        default=0.6,
        description="Share of stays at a place with a venue code (场所码: every place but "
        "homes, vessels, the treatment centre and outside the city) that are scanned, by "
        "people with a phone.",
    )
    checkin_delay_seconds: float = Field(
        default=90.0, description="Mean delay of the scan after arrival (exponential), seconds."
    )
    cell_noise: float = Field(
        default=0.1,
        description="Probability that a cell record's serving tower is in a neighbouring cell.",
    )
    cell_gap_probability: float = Field(
        default=0.05,
        description="Probability that a stay leaves no cell record (phone off, no signal).",
    )
    cell_delay_seconds: float = Field(
        default=60.0, description="Mean delay before the phone registers with the tower, seconds."
    )
    min_home_minutes: float = Field(
        default=20.0,
        description="Shorter breaks between activities are not spent at home: people go "
        "straight on to the next place.",
    )
    favourite_share: float = Field(
        default=0.6, description="Share of venue visits to the person's usual restaurant or shop."
    )
    holidays: list[date] = Field(
        default=[date(2022, 1, 1), date(2022, 1, 2), date(2022, 1, 3)],
        description="Public holidays (rest days for schools and offices): New Year 2022.",
    )
    market_day_boost: float = Field(
        default=2.0,
        description="Market visits are this many times as likely when the nearest periodic "
        "market (圩) is held; they then go to it.",
    )
    # Routine shares and random-visit rates (see routines.py).
    school_lunch_share: float = Field(
        default=0.35, description="Students who stay at school for lunch."
    )
    lunch_at_work_share: float = Field(default=0.3, description="Workers who lunch at work.")
    lunch_restaurant_share: float = Field(
        default=0.3, description="Workers who lunch at a restaurant."
    )
    lunch_at_home_share: float = Field(default=0.4, description="Workers who lunch at home.")
    weekend_work_share: float = Field(default=0.3, description="Workers who work on a rest day.")
    weekend_duty_share: float = Field(
        default=0.35, description="Health workers on duty on a rest day."
    )
    evening_restaurant_rate: float = Field(default=0.1, description="Evening restaurant visits.")
    evening_shop_rate: float = Field(default=0.12, description="Evening shop visits.")
    weekend_restaurant_rate: float = Field(default=0.2, description="Lunch out on a free day.")
    weekend_shop_rate: float = Field(default=0.25, description="Shop visits on a free day.")
    market_visit_rate: float = Field(
        default=0.25, description="Market visits by adults on a free day."
    )
    child_outing_rate: float = Field(
        default=0.12, description="Outings of small children (with a carer)."
    )
    clinic_visit_rate: float = Field(default=0.01, description="Clinic or hospital visits.")
    elderly_market_rate: float = Field(default=0.35, description="Market visits by the elderly.")
    elderly_clinic_rate: float = Field(default=0.03, description="Clinic visits by the elderly.")
    elderly_teahouse_rate: float = Field(default=0.1, description="Elderly at a restaurant (早茶).")
    elderly_shop_rate: float = Field(default=0.15, description="Shop visits by the elderly.")
    hospital_share: float = Field(
        default=0.3, description="Health visits to a hospital, not a clinic."
    )
    # Journeys out of the city.
    journey_probability: float = Field(
        default=0.002,
        description="Chance that an eligible person (18–75, not a child, student or fisher) "
        "leaves the city on a given day.",
    )
    journey_max_days: int = Field(default=6, ge=0, description="Longest journey, in nights away.")
    journey_same_day_share: float = Field(default=0.4, description="Journeys back the same day.")
    transit_minutes: float = Field(default=60.0, description="Travel at each end of a journey.")
    journey_destination_weights: dict[str, float] = Field(
        default={"4506": 5.0, "4501": 3.0, "4507": 2.0, "4505": 2.0},
        description="Relative weight of destinations by division-code prefix (防城港, 南宁, "
        "钦州, 北海); every other Guangxi county weighs 1.",
    )
    # Visitors (people who live elsewhere, see CityParams.visitor_share).
    visit_stay_days: dict[str, tuple[int, int]] = Field(
        default={
            "trader": (1, 3),
            "truck_driver": (1, 2),
            "business": (1, 3),
            "tourist": (2, 4),
        },
        description="Days in the city per visit (first and last day included; 1 = back the "
        "same day), by purpose, drawn once per visitor. Assumption: freight turns round in a "
        "day or two; a tourist's stay in a border town is a weekend.",
    )
    visit_every_days: dict[str, tuple[int, int]] = Field(
        default={
            "trader": (4, 10),
            "truck_driver": (3, 7),
            "business": (0, 0),
            "tourist": (0, 0),
        },
        description="Days from one arrival to the next, by purpose, drawn once per visitor; "
        "(0, 0) = comes once, within visit_horizon_days. Assumption: traders and drivers shuttle "
        "between the city and their home region.",
    )
    visit_horizon_days: int = Field(
        default=28,
        ge=1,
        description="Visitors who come once arrive within this many days of the start (the "
        "demo's run).",
    )
    visit_arrive_hours: tuple[float, float] = Field(
        default=(6.0, 11.0), description="Local hour of a visitor's arrival."
    )
    visit_leave_hours: tuple[float, float] = Field(
        default=(13.0, 20.0), description="Local hour of a visitor's departure."
    )


@dataclass
class VenuePool:
    """Places of one kind sorted by (town, village), with ranges for picking near a person."""

    ids: IntArray
    cum: FloatArray
    town_lo: IntArray
    town_hi: IntArray
    village_lo: IntArray
    village_hi: IntArray

    def pick(
        self, rng: np.random.Generator, town: IntArray, village: IntArray | None = None
    ) -> IntArray:
        """A place per draw in the village (when given and it has one), else the town, else
        anywhere; weighted by capacity. -1 when there is no such place at all."""
        if len(self.ids) == 0:
            return np.full(len(town), -1, dtype=np.int64)
        lo, hi = self.town_lo[town], self.town_hi[town]
        if village is not None:
            has = self.village_hi[village] > self.village_lo[village]
            lo = np.where(has, self.village_lo[village], lo)
            hi = np.where(has, self.village_hi[village], hi)
        empty = hi <= lo
        lo = np.where(empty, 0, lo)
        hi = np.where(empty, len(self.ids), hi)
        return self.ids[pick_in_ranges(rng, self.cum, lo, hi)]


@dataclass
class RoutinePlan:
    """Everything ``simulate_day`` needs, computed once per city."""

    params: MovementParams
    routines: routines.Compiled
    n_people: int
    role: IntArray
    home: IntArray
    work: IntArray  # -1 for none
    has_phone: BoolArray
    town: IntArray  # home town index
    village: IntArray  # home village index
    work_town: IntArray
    fav_restaurant_home: IntArray
    fav_restaurant_work: IntArray
    fav_shop: IntArray
    clinic: IntArray
    local_market: IntArray  # nearest periodic market, -1 for none
    restaurants: VenuePool
    shops: VenuePool
    daily_markets: VenuePool
    hospitals: VenuePool
    place_cell: IntArray
    place_kind: IntArray
    site: IntArray  # per place: the site it is a section of (itself when not sectioned)
    sections: IntArray  # per place: the number of sections of its site
    market_digits: IntArray  # per place: bit d set when held on days ending in d; 0 = daily
    checkin_ok: BoolArray  # per place
    coverage_ok: BoolArray  # per place
    outside_place: int  # where people away from the city are
    fleet: Fleet  # the coaches of their first and last hour
    journey_seed: int
    journey_eligible: BoolArray
    journey_phase: IntArray
    destinations: npt.NDArray[np.str_]
    destination_cum: FloatArray
    visits: visitors.Visits


def _pool(
    ids: IntArray, village: IntArray, town_of_village: IntArray, weight: FloatArray
) -> VenuePool:
    """Places ``ids`` (villages sorted by code, so each town's villages are contiguous)."""
    ids = ids[village[ids] >= 0]
    ids = ids[np.lexsort((ids, village[ids]))]
    vi = village[ids]
    t = town_of_village[vi]
    towns = np.arange(int(town_of_village.max()) + 1)
    villages = np.arange(len(town_of_village))
    return VenuePool(
        ids=ids,
        cum=cumulative(weight[ids]),
        town_lo=np.searchsorted(t, towns, side="left"),
        town_hi=np.searchsorted(t, towns, side="right"),
        village_lo=np.searchsorted(vi, villages, side="left"),
        village_hi=np.searchsorted(vi, villages, side="right"),
    )


def prepare(city: City, params: MovementParams, *, rng: np.random.Generator) -> RoutinePlan:
    """Precomputes the per-person and per-place arrays of the daily routine."""
    people, pl = city.people, city.places
    n = people.num_rows
    if n == 0:
        raise ValueError("the city has no people")
    kind = index_in(pl.column("kind"), pa.array(schemas.PLACE_KINDS))
    if (kind < 0).any():
        raise ValueError("places has a kind outside PLACE_KINDS")
    village_codes = pc.unique(
        pa.chunked_array([*pl.column("village_code").chunks, *people.column("village_code").chunks])
    ).drop_null()
    village_codes = village_codes.take(pc.sort_indices(village_codes))
    town_codes_of_village = pc.utf8_slice_codeunits(village_codes, 0, 9)
    town_codes = pc.unique(town_codes_of_village)
    town_of_village = index_in(town_codes_of_village, town_codes)
    place_village = index_in(pl.column("village_code"), village_codes)
    capacity = np.maximum(pl.column("capacity").to_numpy().astype(np.float64), 1.0)
    place_cell = pl.column("cell_id").to_numpy().astype(np.int64)
    site = pl.column("site_id").to_numpy().astype(np.int64)

    role = index_in(people.column("role"), pa.array(schemas.ROLES))
    if (role < 0).any():
        raise ValueError("people has a role outside ROLES")
    home = people.column("home_place_id").to_numpy().astype(np.int64)
    work = np.asarray(pc.fill_null(people.column("work_place_id"), -1).to_numpy(), dtype=np.int64)
    village = index_in(people.column("village_code"), village_codes)
    village = np.where(village >= 0, village, place_village[home])
    town = town_of_village[village]
    work_village = np.where(work >= 0, place_village[np.maximum(work, 0)], -1)
    work_village = np.where(work_village >= 0, work_village, village)
    work_town = town_of_village[work_village]

    def pool(name: str) -> VenuePool:
        return _pool(np.flatnonzero(kind == KIND[name]), place_village, town_of_village, capacity)

    names = pl.column("name").to_numpy(zero_copy_only=False)
    digits = np.zeros(pl.num_rows, dtype=np.int64)
    for i in np.flatnonzero(kind == KIND["market"]):
        for d in places.market_digits(str(names[i])):
            digits[i] |= 1 << d
    markets = np.flatnonzero(kind == KIND["market"])
    restaurants, shops = pool("restaurant"), pool("shop")
    daily = _pool(markets[digits[markets] == 0], place_village, town_of_village, capacity)
    periodic = markets[digits[markets] != 0]
    # Each village's nearest periodic market, from the mean position of its places.
    lon = pl.column("lon").to_numpy()
    lat = pl.column("lat").to_numpy()
    counted = place_village >= 0
    per_village = np.bincount(place_village[counted], minlength=len(village_codes))
    divisor = np.maximum(per_village, 1)
    v_lon = np.bincount(place_village[counted], lon[counted], len(village_codes)) / divisor
    v_lat = np.bincount(place_village[counted], lat[counted], len(village_codes)) / divisor
    if len(periodic):
        d = np.hypot(v_lon[:, None] - lon[periodic], v_lat[:, None] - lat[periodic])
        local_market = periodic[d.argmin(axis=1)][village]
    else:
        local_market = np.full(n, -1, dtype=np.int64)

    # Outside the city: the place of capacity 0 for time away, and coaches (capacity = seats).
    outside = np.flatnonzero(kind == KIND["outside_city"])
    seats = pl.column("capacity").to_numpy()[outside]
    if not (seats == 0).any() or not (seats > 0).any():
        raise ValueError("places needs an outside_city place of capacity 0 and coaches")
    age = people.column("age").to_numpy().astype(np.int64)
    counties = [c for c in geography.guangxi_counties() if c != geography.COUNTY_CODE]
    weight = np.array(
        [
            next(
                (w for p, w in params.journey_destination_weights.items() if c.startswith(p)),
                1.0,
            )
            for c in counties
        ]
    )
    not_travelling = [ROLE["child"], ROLE["student"], ROLE["fisher"]]
    resident = np.asarray(people.column("visitor").is_null().to_numpy())
    return RoutinePlan(
        params=params,
        routines=routines.compile_routines(params),
        n_people=n,
        role=role,
        home=home,
        work=work,
        has_phone=np.asarray(people.column("phone").is_valid().to_numpy(zero_copy_only=False)),
        town=town,
        village=village,
        work_town=work_town,
        fav_restaurant_home=restaurants.pick(rng, town, village),
        fav_restaurant_work=restaurants.pick(rng, work_town, work_village),
        fav_shop=shops.pick(rng, town, village),
        clinic=pool("clinic").pick(rng, town, village),
        local_market=local_market,
        restaurants=restaurants,
        shops=shops,
        daily_markets=daily,
        hospitals=pool("hospital"),
        place_cell=place_cell,
        place_kind=kind,
        site=site,
        sections=places.sections(site),
        market_digits=digits,
        checkin_ok=~np.isin(kind, [KIND[k] for k in NO_CHECKIN_KINDS]),
        coverage_ok=~np.isin(kind, [KIND[k] for k in NO_COVERAGE_KINDS]),
        outside_place=int(outside[seats == 0][0]),
        fleet=Fleet(outside[seats > 0], int(seats[seats > 0].min())),
        journey_seed=int(rng.integers(0, 2**62)),
        journey_eligible=(age >= 18) & (age <= 75) & ~np.isin(role, not_travelling) & resident,
        journey_phase=rng.integers(0, params.journey_max_days + 1, n),
        destinations=np.array(counties),
        destination_cum=cumulative(weight),
        visits=visitors.schedule(people, params, rng),  # drawn last: nothing else shifts
    )


def simulate_day(
    plan: RoutinePlan, *, day: int, start_date: date, rng: np.random.Generator, fixed: FixedStays
) -> DayMovement:
    """One day of everybody's movement (tables STAYS, CHECKINS, CELL_RECORDS, JOURNEYS; the
    journeys are those departing on this day)."""
    p, n = plan.params, plan.n_people
    ds, de = day_start(start_date, day), day_start(start_date, day + 1)
    today = start_date + timedelta(days=day)
    rest_day = today.weekday() >= 5 or today in set(p.holidays)

    pinned = fixed_rows(fixed, n, len(plan.place_cell), ds, de)
    is_fixed = np.zeros(n, dtype=bool)
    is_fixed[pinned.person] = True
    visiting = visitors.absences(plan.visits, day, ds)
    planned = concat_journeys([journeys_today(plan, day, start_date, ds, de), visiting.away])
    journeys = take_journeys(planned, ~is_fixed[planned.person])
    away = np.zeros(n, dtype=bool)
    away[journeys.person] = True
    away[visiting.partial] = False  # in the city for part of the day: their routine, cut
    routine = routine_rows(plan, ds, de, rest_day, today.day % 10, is_fixed | away, rng)
    routine = visitors.clip(routine, visiting, n)
    # Coaches are filled with every planned journey, so they depend on the day alone (a
    # traveller with fixed stays leaves an empty seat).
    transit = int(p.transit_minutes * 60)
    travel = journey_rows(planned, plan.outside_place, plan.fleet, transit, ds, de)
    activities = Rows.concat([routine, travel.take(~is_fixed[travel.person]), pinned])
    rows = fill_day(activities, plan.home, ds, de)

    cells = plan.place_cell[rows.place]
    moving = np.isin(rows.setting, [SETTING["transit"], SETTING["outside"]])
    phone = plan.has_phone[rows.person]
    checkin_table = checkins(
        rows,
        plan.checkin_ok[rows.place] & phone & ~moving,
        p.checkin_share,
        p.checkin_delay_seconds,
        day,
        rng,
    )
    cell_table = cell_records(
        rows,
        cells,
        plan.coverage_ok[rows.place] & phone,
        p.cell_gap_probability,
        p.cell_noise,
        NEIGHBOUR_OFFSETS,
        p.cell_delay_seconds,
        day,
        rng,
    )
    # Journeys appear on their departure day; those under way on day 0 (visitors who are not
    # yet in the city) on day 0.
    leaving = (journeys.depart_day == day) | ((day == 0) & (journeys.depart_day < 0))
    journey_table = pa.table(
        {
            "person_id": pa.array(journeys.person[leaving].astype(np.int32)),
            "depart": times(journeys.depart[leaving]),
            "return": times(journeys.back[leaving]),
            "destination_code": pa.array(journeys.destination[leaving].astype(object), pa.string()),
        },
        schema=schemas.JOURNEYS,
    )
    return DayMovement(
        stays=stays_table(rows, cells, day),
        checkins=checkin_table,
        cell_records=cell_table,
        journeys=journey_table,
    )
