"""A synthetic city and its daily stays, for testing and benchmarking the outbreak model on its own
(with the lake schemas, independent of the city and movement generators).

Homes by household; workplaces of ~15; schools with classes of 45; markets, restaurants, shops,
clinics, a hospital; the border crossing (traders), the port, harbours and vessels (fishers),
the treatment centre. Every person's day is a few activities by role with home in between; people
confined by the outbreak spend the day at the treatment centre. Vectorised: 200,000 people make
~700,000 stays a day in well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from cordon.lake import schemas
from cordon.sim.model import City, FixedStays, day_start, rng_for
from cordon.sim.outbreak import Outbreak, OutbreakParams

I64 = npt.NDArray[np.int64]
HOUR = 3600
ROLE = {name: i for i, name in enumerate(schemas.ROLES)}


@dataclass
class SyntheticCity:
    city: City
    vessels: pa.Table  # VESSELS
    role: npt.NDArray[np.int16]
    age: I64
    home: I64
    work: I64  # -1 if none
    crew_vessel: I64  # vessel index of a fisher, -1 otherwise
    vessel_place: I64
    kinds: dict[str, I64]  # place ids by kind

    @property
    def treatment(self) -> int:
        return int(self.kinds["treatment_centre"][0])


def synthetic_city(n: int, *, seed: int = 1) -> SyntheticCity:
    rng = np.random.default_rng([seed, 99])
    age = rng.choice(np.arange(90), size=n, p=_pyramid())
    role = np.full(n, ROLE["worker"], dtype=np.int16)
    role[age < 6] = ROLE["child"]
    role[(age >= 6) & (age < 19)] = ROLE["student"]
    role[age >= 60] = ROLE["elderly"]
    adult = np.flatnonzero((age >= 19) & (age < 60))
    draw = rng.random(len(adult))
    cuts = np.cumsum([0.07, 0.06, 0.03, 0.12])  # trader, fisher, health worker, unemployed
    role[adult[draw < cuts[0]]] = ROLE["trader"]
    role[adult[(draw >= cuts[0]) & (draw < cuts[1])]] = ROLE["fisher"]
    role[adult[(draw >= cuts[1]) & (draw < cuts[2])]] = ROLE["health_worker"]
    role[adult[(draw >= cuts[2]) & (draw < cuts[3])]] = ROLE["unemployed"]

    sizes = rng.choice([1, 2, 3, 4, 5, 6], size=n, p=[0.15, 0.25, 0.25, 0.2, 0.1, 0.05])
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), n)) + 1]
    sizes[-1] -= int(sizes.sum()) - n
    household = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    n_homes = len(sizes)

    counts = {
        "home": n_homes,
        "workplace": max(1, int((role == ROLE["worker"]).sum()) // 15),
        "school": max(1, int((role == ROLE["student"]).sum()) // 900 + 1),
        "market": max(1, n // 20_000),
        "restaurant": max(1, n // 300),
        "shop": max(1, n // 250),
        "clinic": max(1, n // 10_000),
        "hospital": max(1, n // 100_000),
        "border_crossing": 1,
        "port": 1,
        "harbour": 3,
        "treatment_centre": 1,
    }
    kinds: dict[str, I64] = {}
    first = 0
    for kind, count in counts.items():
        kinds[kind] = np.arange(first, first + count, dtype=np.int64)
        first += count

    work = np.full(n, -1, dtype=np.int64)
    worker = np.flatnonzero(role == ROLE["worker"])
    at_port = rng.random(len(worker)) < 0.05
    work[worker] = rng.choice(kinds["workplace"], size=len(worker))
    work[worker[at_port]] = kinds["port"][0]
    health = np.flatnonzero(role == ROLE["health_worker"])
    work[health] = rng.choice(np.r_[kinds["hospital"], kinds["clinic"]], size=len(health))
    work[role == ROLE["trader"]] = kinds["border_crossing"][0]
    fishers = np.flatnonzero(role == ROLE["fisher"])
    work[fishers] = rng.choice(kinds["harbour"], size=len(fishers))
    students = np.flatnonzero(role == ROLE["student"])
    class_id = np.full(n, -1, dtype=np.int64)
    class_id[students] = np.arange(len(students)) // 45
    school_of_class = rng.choice(kinds["school"], size=int(class_id.max(initial=0)) + 1)
    work[students] = school_of_class[class_id[students]]

    # Vessels: crews of 4 fishers of the same harbour.
    fishers = fishers[np.argsort(work[fishers], kind="stable")]
    crew_vessel = np.full(n, -1, dtype=np.int64)
    crew_vessel[fishers] = np.arange(len(fishers)) // 4
    n_vessels = int(crew_vessel.max(initial=-1)) + 1
    vessel_place = np.arange(first, first + n_vessels, dtype=np.int64)
    kinds["vessel"] = vessel_place
    first += n_vessels

    place_kind = np.concatenate(
        [np.full(len(ids), kind, dtype=object) for kind, ids in kinds.items()]
    )
    n_places = len(place_kind)
    people = pa.table(
        {
            "person_id": pa.array(np.arange(n), pa.int32()),
            "household_id": pa.array(household, pa.int32()),
            "name": pa.array([f"P{i}" for i in range(n)]),
            "id_number": pa.array([f"4506811990{i:08d}" for i in range(n)]),
            "phone": pa.nulls(n, pa.string()),
            "sex": pa.array(np.where(rng.random(n) < 0.5, "M", "F")),
            "birth_date": pa.array(
                (np.datetime64("2021-01-01") - age * 365).astype("datetime64[D]"), pa.date32()
            ),
            "age": pa.array(age, pa.int16()),
            "role": pa.array(np.array(schemas.ROLES, dtype=object)[role], pa.string()),
            "home_place_id": pa.array(household, pa.int32()),
            "work_place_id": pa.array(work, pa.int32(), mask=work < 0),
            "class_id": pa.array(class_id, pa.int32(), mask=class_id < 0),
            "village_code": pa.array(["450681100001"] * n),
            "grid_code": pa.array(["450681100001001"] * n),
            "residence_code": pa.array(["450681100001"] * n),
            "residence_address": pa.nulls(n, pa.string()),
            "visitor": pa.nulls(n, pa.string()),
        },
        schema=schemas.PEOPLE,
    )
    places = pa.table(
        {
            "place_id": pa.array(np.arange(n_places), pa.int32()),
            "kind": pa.array(place_kind, pa.string()),
            "name": pa.array([f"{k}-{i}" for i, k in enumerate(place_kind)]),
            "lon": pa.array(108.0 + rng.random(n_places) * 0.2),
            "lat": pa.array(21.5 + rng.random(n_places) * 0.1),
            "cell_id": pa.array(np.zeros(n_places, np.int64)),
            "village_code": pa.array(["450681100001"] * n_places),
            "grid_code": pa.nulls(n_places, pa.string()),
            "compound_id": pa.nulls(n_places, pa.int32()),
            "capacity": pa.array(np.full(n_places, 100), pa.int32()),
            "site_id": pa.array(np.arange(n_places, dtype=np.int32)),
        },
        schema=schemas.PLACES,
    )
    households = pa.table(
        {
            "household_id": pa.array(np.arange(n_homes), pa.int32()),
            "home_place_id": pa.array(np.arange(n_homes), pa.int32()),
            "size": pa.array(sizes, pa.int16()),
            "village_code": pa.array(["450681100001"] * n_homes),
            "grid_code": pa.array(["450681100001001"] * n_homes),
        },
        schema=schemas.HOUSEHOLDS,
    )
    grids = schemas.GRIDS.empty_table()
    vessels = pa.table(
        {
            "vessel_id": pa.array(np.arange(n_vessels), pa.int32()),
            "place_id": pa.array(vessel_place, pa.int32()),
            "name": pa.array([f"V{i}" for i in range(n_vessels)]),
            "registration": pa.array([f"R{i}" for i in range(n_vessels)]),
            "owner_person_id": pa.array(
                fishers[::4][:n_vessels] if n_vessels else np.empty(0, np.int64), pa.int32()
            ),
            "home_harbour_place_id": pa.array(
                work[fishers[::4][:n_vessels]] if n_vessels else np.empty(0, np.int64),
                pa.int32(),
            ),
            "beidou": pa.array(np.ones(n_vessels, bool)),
            "three_no": pa.array(np.zeros(n_vessels, bool)),
            "crew_size": pa.array(
                np.bincount(crew_vessel[fishers], minlength=n_vessels), pa.int16()
            ),
        },
        schema=schemas.VESSELS,
    )
    return SyntheticCity(
        City(people, households, places, grids),
        vessels,
        role,
        age.astype(np.int64),
        household.astype(np.int64),
        work,
        crew_vessel,
        vessel_place,
        kinds,
    )


def _pyramid() -> npt.NDArray[np.float64]:
    ages = np.arange(90)
    weight = np.where(ages < 60, 1.0, np.maximum(0.05, 1.0 - (ages - 60) / 30))
    return weight / weight.sum()


@dataclass
class _Acts:
    person: list[I64]
    place: list[I64]
    start: list[I64]
    end: list[I64]
    setting: list[npt.NDArray[np.object_]]

    def add(self, who: I64, place: I64, start: I64, end: I64, setting: str) -> None:
        self.person.append(who)
        self.place.append(place)
        self.start.append(start)
        self.end.append(end)
        self.setting.append(np.full(len(who), setting, dtype=object))


def day_movement(
    town: SyntheticCity,
    start_date: date,
    day: int,
    *,
    seed: int,
    confined: FixedStays | None = None,
    trip_share: float = 0.4,
    foreign_share: float = 0.1,
) -> tuple[pa.Table, pa.Table]:
    """(STAYS, SEA_TRIPS) of one day. People in ``confined`` spend it at their fixed stays."""
    rng = rng_for(seed, "fixture", day)
    n = len(town.role)
    base = day_start(start_date, day)
    weekday = (start_date.toordinal() + day) % 7 not in (5, 6)  # 0001-01-01 was a Monday
    away = np.zeros(n, dtype=bool)
    if confined is not None and len(confined.person_id):
        away[confined.person_id] = True
    role = town.role

    def jitter(size: int, minutes: int) -> I64:
        return rng.integers(-minutes, minutes + 1, size).astype(np.int64) * 60

    acts = _Acts([], [], [], [], [])

    # Fishers: crews at sea together, or a morning at the harbour.
    n_vessels = len(town.vessel_place)
    sails = rng.random(n_vessels) < trip_share
    fishers = np.flatnonzero((role == ROLE["fisher"]) & ~away)
    at_sea = fishers[sails[town.crew_vessel[fishers]]]
    ashore = fishers[~sails[town.crew_vessel[fishers]]]
    acts.add(
        at_sea,
        town.vessel_place[town.crew_vessel[at_sea]],
        np.full(len(at_sea), 5 * HOUR),
        np.full(len(at_sea), 17 * HOUR),
        "vessel",
    )
    j = jitter(len(ashore), 30)
    acts.add(ashore, town.work[ashore], 7 * HOUR + j, 11 * HOUR + j, "work")
    sailing = np.flatnonzero(sails & np.isin(np.arange(n_vessels), town.crew_vessel[at_sea]))
    meets = rng.random(len(sailing)) < foreign_share

    def main(which: str, begin: int, finish: int, setting: str, every_day: bool) -> I64:
        who = np.flatnonzero((role == ROLE[which]) & ~away)
        if not (weekday or every_day):
            return who[:0]
        j = jitter(len(who), 15)
        acts.add(who, town.work[who], begin + j, finish + j, setting)
        return who

    main("student", 8 * HOUR, 16 * HOUR + 1800, "class", False)
    main("worker", 8 * HOUR + 1800, 17 * HOUR + 1800, "work", False)
    main("health_worker", 8 * HOUR, 17 * HOUR + 1800, "health", True)
    traders = main("trader", 8 * HOUR, 15 * HOUR, "work", True)
    shop = traders[rng.random(len(traders)) < 0.5]
    j = jitter(len(shop), 10)
    begin = 15 * HOUR + 1800 + j
    acts.add(shop, rng.choice(town.kinds["market"], len(shop)), begin, begin + 1800, "venue")

    # People at home by day: a morning errand, now and then a clinic.
    home_day = np.isin(role, [ROLE["child"], ROLE["elderly"], ROLE["unemployed"]]) & ~away
    if not weekday:
        home_day |= np.isin(role, [ROLE["student"], ROLE["worker"]]) & ~away
    errand = np.flatnonzero(home_day & (rng.random(n) < 0.5))
    market = rng.random(len(errand)) < 0.3
    where = np.where(
        market,
        rng.choice(town.kinds["market"], len(errand)),
        rng.choice(town.kinds["shop"], len(errand)),
    )
    begin = 9 * HOUR + rng.integers(0, 3600, len(errand))
    acts.add(errand, where, begin, begin + rng.integers(1800, 5400, len(errand)), "venue")
    clinic = np.flatnonzero(home_day & (rng.random(n) < 0.003))
    acts.add(
        clinic,
        rng.choice(town.kinds["clinic"], len(clinic)),
        np.full(len(clinic), 13 * HOUR),
        np.full(len(clinic), 14 * HOUR),
        "health",
    )
    # Evenings out.
    out = np.flatnonzero((town.age >= 18) & ~away & (rng.random(n) < 0.25))
    begin = 18 * HOUR + 1800 + rng.integers(0, 3600, len(out))
    acts.add(
        out,
        rng.choice(town.kinds["restaurant"], len(out)),
        begin,
        begin + rng.integers(2700, 5400, len(out)),
        "venue",
    )

    person = np.concatenate(acts.person)
    place = np.concatenate(acts.place)
    start = np.concatenate(acts.start)
    end = np.concatenate(acts.end)
    setting = np.concatenate(acts.setting)
    order = np.lexsort((start, person))
    person, place, start, end, setting = (
        person[order],
        place[order],
        start[order],
        end[order],
        setting[order],
    )
    # Home fills the gaps.
    first = np.r_[True, person[1:] != person[:-1]] if len(person) else np.zeros(0, bool)
    previous_end = np.where(first, 0, np.r_[0, end[:-1]])
    gap = start > previous_end
    last = np.r_[person[1:] != person[:-1], True] if len(person) else np.zeros(0, bool)
    tail = last & (end < 24 * HOUR)
    idle = np.setdiff1d(np.flatnonzero(~away), person)
    home_person = np.concatenate([person[gap], person[tail], idle])
    home_start = np.concatenate([previous_end[gap], end[tail], np.zeros(len(idle), np.int64)])
    home_end = np.concatenate(
        [start[gap], np.full(tail.sum(), 24 * HOUR), np.full(len(idle), 24 * HOUR)]
    )
    persons = np.concatenate([person, home_person])
    places = np.concatenate([place, town.home[home_person]])
    starts = np.concatenate([start, home_start]) + base
    ends = np.concatenate([end, home_end]) + base
    settings = np.concatenate([setting, np.full(len(home_person), "household", dtype=object)])
    if confined is not None and len(confined.person_id):
        persons = np.concatenate([persons, confined.person_id])
        places = np.concatenate([places, confined.place_id])
        starts = np.concatenate([starts, confined.start])
        ends = np.concatenate([ends, confined.end])
        settings = np.concatenate([settings, confined.setting])
    order = np.lexsort((starts, persons))
    stays = pa.table(
        {
            "day": pa.array(np.full(len(order), day), pa.int16()),
            "person_id": pa.array(persons[order], pa.int32()),
            "place_id": pa.array(places[order], pa.int32()),
            "start": pa.array(starts[order], pa.int64()).cast(schemas.TIME),
            "end": pa.array(ends[order], pa.int64()).cast(schemas.TIME),
            "setting": pa.array(settings[order], pa.string()),
            "cell_id": pa.array(np.zeros(len(order), np.int64)),
        },
        schema=schemas.STAYS,
    )
    rendezvous = base + 11 * HOUR
    trips = pa.table(
        {
            "trip_id": pa.array(day * 10_000 + np.arange(len(sailing)), pa.int32()),
            "vessel_id": pa.array(sailing, pa.int32()),
            "depart": pa.array(np.full(len(sailing), base + 5 * HOUR), pa.int64()).cast(
                schemas.TIME
            ),
            "return": pa.array(np.full(len(sailing), base + 17 * HOUR), pa.int64()).cast(
                schemas.TIME
            ),
            "met_foreign_vessel": pa.array(meets),
            "rendezvous_time": pa.array(
                np.full(len(sailing), rendezvous), pa.int64(), mask=~meets
            ).cast(schemas.TIME),
            "rendezvous_lon": pa.array(np.where(meets, 107.9, np.nan), mask=~meets),
            "rendezvous_lat": pa.array(np.where(meets, 21.3, np.nan), mask=~meets),
        },
        schema=schemas.SEA_TRIPS,
    )
    return stays, trips


def run(
    town: SyntheticCity,
    params: OutbreakParams,
    *,
    days: int,
    seed: int,
    start_date: date = date(2021, 12, 7),
    keep_stays: bool = False,
    trip_share: float = 0.4,
    foreign_share: float = 0.1,
) -> tuple[Outbreak, list[pa.Table]]:
    """Run the outbreak over the synthetic city as the orchestration does: confined people are
    fed to movement, then the day is stepped. Returns the outbreak and (optionally) the stays."""
    outbreak = Outbreak(
        town.city, params, start_date=start_date, days=days, seed=seed, vessels=town.vessels
    )
    kept = []
    for day in range(days):
        confined = outbreak.confined(day, town.treatment)
        stays, trips = day_movement(
            town,
            start_date,
            day,
            seed=seed,
            confined=confined,
            trip_share=trip_share,
            foreign_share=foreign_share,
        )
        outbreak.step(day, stays, trips)
        if keep_stays:
            kept.append(stays)
    return outbreak, kept


def mixing_city(n: int, groups: int) -> City:
    """``n`` adults and ``groups`` meeting rooms (plus a treatment centre): the population of
    the reproduction-number check, where the contacts are known exactly."""
    people = pa.table(
        {
            "person_id": pa.array(np.arange(n), pa.int32()),
            "household_id": pa.array(np.arange(n), pa.int32()),
            "name": pa.array([f"P{i}" for i in range(n)]),
            "id_number": pa.array([f"4506811990{i:08d}" for i in range(n)]),
            "phone": pa.nulls(n, pa.string()),
            "sex": pa.array(["F"] * n),
            "birth_date": pa.array(np.full(n, np.datetime64("1990-01-01", "D")), pa.date32()),
            "age": pa.array(np.full(n, 31), pa.int16()),
            "role": pa.array(["unemployed"] * n),
            "home_place_id": pa.array(np.zeros(n), pa.int32()),
            "work_place_id": pa.nulls(n, pa.int32()),
            "class_id": pa.nulls(n, pa.int32()),
            "village_code": pa.array(["450681100001"] * n),
            "grid_code": pa.array(["450681100001001"] * n),
            "residence_code": pa.array(["450681100001"] * n),
            "residence_address": pa.nulls(n, pa.string()),
            "visitor": pa.nulls(n, pa.string()),
        },
        schema=schemas.PEOPLE,
    )
    m = groups + 1
    kinds = ["workplace"] * groups + ["treatment_centre"]
    places = pa.table(
        {
            "place_id": pa.array(np.arange(m), pa.int32()),
            "kind": pa.array(kinds),
            "name": pa.array([f"room-{i}" for i in range(m)]),
            "lon": pa.array(np.full(m, 108.0)),
            "lat": pa.array(np.full(m, 21.5)),
            "cell_id": pa.array(np.zeros(m, np.int64)),
            "village_code": pa.array(["450681100001"] * m),
            "grid_code": pa.nulls(m, pa.string()),
            "compound_id": pa.nulls(m, pa.int32()),
            "capacity": pa.array(np.full(m, 10), pa.int32()),
            "site_id": pa.array(np.arange(m, dtype=np.int32)),
        },
        schema=schemas.PLACES,
    )
    return City(people, schemas.HOUSEHOLDS.empty_table(), places, schemas.GRIDS.empty_table())


def mixing_stays(
    n: int, groups: int, start_date: date, day: int, *, seed: int, hours: tuple[int, int]
) -> pa.Table:
    """Everyone spends ``hours`` (local, from-to) in a room with the same number of others,
    drawn anew each day (so no one meets the same people twice, nearly)."""
    rng = rng_for(seed, "mixing", day)
    room = rng.permutation(np.arange(n) % groups)
    begin = day_start(start_date, day)
    return pa.table(
        {
            "day": pa.array(np.full(n, day), pa.int16()),
            "person_id": pa.array(np.arange(n), pa.int32()),
            "place_id": pa.array(room, pa.int32()),
            "start": pa.array(np.full(n, begin + hours[0] * HOUR), pa.int64()).cast(schemas.TIME),
            "end": pa.array(np.full(n, begin + hours[1] * HOUR), pa.int64()).cast(schemas.TIME),
            "setting": pa.array(["work"] * n),
            "cell_id": pa.array(np.zeros(n, np.int64)),
        },
        schema=schemas.STAYS,
    )
