"""Every place besides homes, and who works or studies where.

Landmarks (border crossing, trade market, port, hospitals, treatment centre) and harbours are
fixed; markets, clinics and schools follow the villages and towns; workplaces, restaurants and
shops are sized to the population and placed by village weight (more in town). Workers mostly
work in their own town; students go to their village's primary school (or the town's central
school), their town's junior middle school and a senior high school, in classes of ~45.
Outside the city there is one place for the time away and a fleet of coaches (sized to the
population) for the first and last hour of journeys.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import shapely

from cordon.geo.cells import cell_of
from cordon.lake import schemas
from cordon.sim import geography
from cordon.sim.places import (
    BUSINESS_STEMS,
    DIGIT_SETS,
    FOODS,
    SHOP_KINDS,
    TOWN_MARKETS,
    WORK_SUFFIXES,
    WORK_TRADES,
    Built,
    Homes,
    Parts,
    _join,
)
from cordon.sim.sampling import cumulative, pick_in_ranges, ranks_within

if TYPE_CHECKING:
    from cordon.sim.city import CityParams

# Residents of Dongxing (7th census, 2020: about 210,000), for whom the landmarks' and markets'
# capacities are set; a simulated city of another size sends proportionally more or fewer
# people there, in as many sections.
REAL_POPULATION = 210_000
# At least a coach each way in each of two consecutive hours (see activities.Fleet.board).
MIN_COACHES = 4
COACHES = "出入城客车"

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
ROLE = {name: i for i, name in enumerate(schemas.ROLES)}


def _f(*values: float) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def _i(*values: int) -> IntArray:
    return np.asarray(values, dtype=np.int64)


def _pick_names(rng: np.random.Generator, n: int, *pools: tuple[str, ...] | list[str]) -> pa.Array:
    columns = [pa.array(list(p)).take(pa.array(rng.integers(0, len(p), n))) for p in pools]
    return _join(*columns)


def _in_range_or_all(
    rng: np.random.Generator,
    cum: FloatArray,
    group_of_item: IntArray,
    group_of_draw: IntArray,
    groups: int,
    local: npt.NDArray[np.bool_],
) -> IntArray:
    """Weighted picks among items sorted by group: within the draw's own group when ``local``
    and that group has items, else among all items."""
    count = np.bincount(group_of_item, minlength=groups)
    lo_g = np.cumsum(count) - count
    lo = np.where(local & (count[group_of_draw] > 0), lo_g[group_of_draw], 0)
    hi = np.where(
        local & (count[group_of_draw] > 0),
        lo_g[group_of_draw] + count[group_of_draw],
        len(group_of_item),
    )
    return pick_in_ranges(rng, cum, lo, hi)


def build_places(
    params: CityParams,
    v: geography.Villages,
    homes: Homes,
    size: IntArray,
    village: IntArray,
    role: IntArray,
    age: IntArray,
    rng: np.random.Generator,
) -> Built:
    n_people = len(role)
    n_villages = len(v.code)
    t = geography.towns()
    n_towns = len(t.code)
    town = v.town_index[village]  # per person
    pop_v = np.bincount(village, minlength=n_villages).astype(np.float64)
    village_index = {c: i for i, c in enumerate(v.code.tolist())}
    # The town's "centre" village: its community nearest to the seat.
    seat_village = np.array(
        [
            int(
                np.argmin(
                    np.where(
                        v.town_index == ti, np.hypot(v.lon - t.lon[ti], v.lat - t.lat[ti]), np.inf
                    )
                )
            )
            for ti in range(n_towns)
        ]
    )

    parts = Parts()
    hh_village = homes.grid_village[homes.grid]
    parts.add("home", homes.name, homes.lon, homes.lat, hh_village, size)

    crowd_scale = n_people / REAL_POPULATION
    landmark: dict[str, int] = {}
    hospital_ids, hospital_town = [], []
    for lm in geography.LANDMARKS:
        vi = village_index[lm.village_code]
        capacity = {"border_crossing": 5000, "market": 3000, "port": 300, "hospital": 400}.get(
            lm.kind, 300
        )
        pid = int(
            parts.add(
                lm.kind,
                [lm.name],
                _f(lm.lon),
                _f(lm.lat),
                _i(vi),
                _i(capacity),
                # The treatment centre stays one place: isolation, not a crowd.
                section_size=0 if lm.kind == "treatment_centre" else params.section_size,
                crowd_scale=crowd_scale,
            )[0]
        )
        landmark[lm.name] = pid
        if lm.kind == "hospital":
            hospital_ids.append(pid)
            hospital_town.append(int(v.town_index[vi]))
    crossing = landmark["东兴口岸"]
    trade_market = landmark["东兴边民互市贸易区"]
    port = landmark["东兴港潭吉港区"]

    # Harbours: at the coast just south of their village.
    harbour_villages = np.flatnonzero(v.harbour != "")
    h_lat = v.lat[harbour_villages] - 0.004
    ok = shapely.contains_xy(geography.inner(), v.lon[harbour_villages], h_lat)
    h_lat = np.where(ok, h_lat, v.lat[harbour_villages])
    harbour_ids = parts.add(
        "harbour",
        v.harbour[harbour_villages].tolist(),
        v.lon[harbour_villages],
        h_lat,
        harbour_villages,
        np.full(len(harbour_villages), 200),
    )

    # Markets: a daily one at each town seat; periodic ones (圩) in some rural villages.
    m_lon, m_lat = geography.scatter(t.lon, t.lat, 0.002, rng)
    parts.add(
        "market",
        list(TOWN_MARKETS[:n_towns]),
        m_lon,
        m_lat,
        seat_village,
        np.full(n_towns, 2000),
        section_size=params.section_size,
        crowd_scale=crowd_scale,
    )
    rural = np.flatnonzero(~v.urban)
    rural_rank = ranks_within(v.town_index[rural], rural.astype(np.float64))
    with_market = rural[rural_rank % params.rural_market_every == 0]
    market_names = [
        f"{v.short[i].removesuffix('村')}圩（逢{'、'.join(str(d) for d in DIGIT_SETS[k % 3])}日）"
        for k, i in enumerate(with_market)
    ]
    r_lon, r_lat = geography.scatter(v.lon[with_market], v.lat[with_market], 0.002, rng)
    parts.add(
        "market",
        market_names,
        r_lon,
        r_lat,
        with_market,
        np.full(len(with_market), 800),
        section_size=params.section_size,
        crowd_scale=crowd_scale,
    )

    # Clinics: one per village (community health station or village clinic).
    c_lon, c_lat = geography.scatter(v.lon, v.lat, 0.3 * v.radius, rng)
    clinic_names = [
        s + ("卫生服务站" if u else "卫生室") for s, u in zip(v.short, v.urban, strict=True)
    ]
    clinic_ids = parts.add(
        "clinic", clinic_names, c_lon, c_lat, np.arange(n_villages), np.full(n_villages, 30)
    )

    work_place = np.full(n_people, -1, dtype=np.int64)
    class_id = np.full(n_people, -1, dtype=np.int64)
    _schools(params, v, t, seat_village, village, town, age, role, parts, work_place, class_id, rng)

    # Workplaces, sorted by town so each town's are contiguous.
    workers = np.flatnonzero(role == ROLE["worker"])
    n_work = max(1, round(len(workers) / params.workplace_mean_size))
    w_weight = pop_v * np.where(v.urban, 2.0, 1.0)
    w_village = np.sort(rng.choice(n_villages, n_work, p=w_weight / w_weight.sum()))
    w_village = w_village[np.argsort(v.town_index[w_village], kind="stable")]
    w_size = np.maximum(
        1, np.round(np.exp(rng.normal(np.log(params.workplace_mean_size) - 0.5, 1.0, n_work)))
    )
    w_lon, w_lat = geography.scatter(
        v.lon[w_village], v.lat[w_village], 0.7 * v.radius[w_village], rng
    )
    names = _pick_names(rng, n_work, BUSINESS_STEMS, WORK_TRADES, WORK_SUFFIXES)
    w_ids = parts.add(
        "workplace",
        names,
        w_lon,
        w_lat,
        w_village,
        w_size.astype(np.int64),
        section_size=params.section_size,
    )
    to_port = rng.random(len(workers)) < params.port_worker_share
    local = rng.random(len(workers)) < params.local_work_share
    picked = _in_range_or_all(
        rng, cumulative(w_size), v.town_index[w_village], town[workers], n_towns, local
    )
    work_place[workers] = np.where(to_port, port, w_ids[picked])

    traders = np.flatnonzero(role == ROLE["trader"])
    at_crossing = rng.random(len(traders)) < params.trader_at_crossing_share
    work_place[traders] = np.where(at_crossing, crossing, trade_market)

    fishers = np.flatnonzero(role == ROLE["fisher"])
    dist = np.hypot(
        v.lon[:, None] - v.lon[harbour_villages][None, :],
        v.lat[:, None] - v.lat[harbour_villages][None, :],
    )
    work_place[fishers] = harbour_ids[dist.argmin(axis=1)[village[fishers]]]

    health = np.flatnonzero(role == ROLE["health_worker"])
    at_hospital = rng.random(len(health)) < 0.6
    h_order = np.argsort(hospital_town, kind="stable")
    h_ids = np.asarray(hospital_ids, dtype=np.int64)[h_order]
    h_town = np.asarray(hospital_town, dtype=np.int64)[h_order]
    pick = _in_range_or_all(
        rng,
        cumulative(np.ones(len(h_ids))),
        h_town,
        town[health],
        n_towns,
        np.ones(len(health), bool),
    )
    work_place[health] = np.where(at_hospital, h_ids[pick], clinic_ids[village[health]])

    # Restaurants and shops, mostly in town.
    venue_weight = pop_v * np.where(v.urban, 3.0, 1.0)
    for kind, per_1000, pool, cap in (
        ("restaurant", params.restaurants_per_1000, FOODS, 40.0),
        ("shop", params.shops_per_1000, SHOP_KINDS, 15.0),
    ):
        count = max(1, round(n_people * per_1000 / 1000))
        where = np.sort(rng.choice(n_villages, count, p=venue_weight / venue_weight.sum()))
        lon, lat = geography.scatter(v.lon[where], v.lat[where], 0.7 * v.radius[where], rng)
        sizes = np.maximum(5, np.round(rng.gamma(2.0, cap / 2.0, count))).astype(np.int64)
        parts.add(
            kind,
            _pick_names(rng, count, BUSINESS_STEMS, pool),
            lon,
            lat,
            where,
            sizes,
            section_size=params.section_size,
        )

    # Outside the city: one place (capacity 0) for the time away, and the coaches of the first
    # and last hour of journeys, a site of one section per coach (capacity: its seats).
    out = geography.OUTSIDE_CITY
    parts.add("outside_city", [out.name], _f(out.lon), _f(out.lat), _i(-1), _i(0))
    coaches = max(MIN_COACHES, math.ceil(n_people * params.coaches_per_10000 / 10_000))
    parts.add(
        "outside_city",
        [COACHES],
        _f(out.lon),
        _f(out.lat),
        _i(-1),
        _i(coaches * params.coach_seats),
        section_size=params.coach_seats,
        section_label="号车",
    )
    # Everyone working on a sectioned site keeps one section (their stall, lane, workshop).
    staff = class_id < 0
    work_place[staff] = parts.spread(work_place[staff], rng)
    return Built(table=_table(parts, homes, v), work_place=work_place, class_id=class_id)


def _schools(
    params: CityParams,
    v: geography.Villages,
    t: geography.Towns,
    seat_village: IntArray,
    village: IntArray,
    town: IntArray,
    age: IntArray,
    role: IntArray,
    parts: Parts,
    work_place: IntArray,
    class_id: IntArray,
    rng: np.random.Generator,
) -> None:
    """Creates the schools and assigns every student a school (work place) and a class."""
    n_villages, n_towns = len(v.code), len(t.code)
    students = np.flatnonzero(role == ROLE["student"])
    grade = age[students] - params.school_ages[0]
    s_village, s_town = village[students], town[students]
    primary_count = np.bincount(s_village[grade < 6], minlength=n_villages)
    has_school = primary_count >= params.village_school_min_pupils
    host_towns = [int(np.searchsorted(t.code, c)) for c in params.high_school_towns]
    high_host = np.array([ti if ti in host_towns else host_towns[0] for ti in range(n_towns)])
    # Groups: primary in a village | primary central in a town | middle | high.
    group = np.select(
        [grade < 6, grade < 9],
        [
            np.where(has_school[s_village], s_village, n_villages + s_town),
            n_villages + n_towns + s_town,
        ],
        n_villages + 2 * n_towns + high_host[s_town],
    )
    n_groups = n_villages + 3 * n_towns
    pupils = np.bincount(group, minlength=n_groups)
    first_school = np.zeros(n_groups, dtype=np.int64)
    n_schools = np.zeros(n_groups, dtype=np.int64)
    for g in np.flatnonzero(pupils):
        if g < n_villages:
            per, vi, base = params.primary_school_size, int(g), f"{v.short[g]}小学"
        else:
            kind, ti = divmod(int(g - n_villages), n_towns)
            vi = int(seat_village[ti])
            town_name = str(t.name[ti])
            per, base = [
                (params.primary_school_size, f"{town_name}中心小学"),
                (params.middle_school_size, f"{town_name}初级中学"),
                (params.high_school_size, f"{town_name.removesuffix('镇')}高级中学"),
            ][kind]
        count = -(-int(pupils[g]) // per)
        names = [base if k == 0 else f"{base}第{k + 1}校区" for k in range(count)]
        spread = 0.4 * v.radius[vi] if g < n_villages else 0.008
        lon, lat = geography.scatter(
            np.full(count, v.lon[vi]), np.full(count, v.lat[vi]), spread, rng
        )
        ids = parts.add(
            "school",
            names,
            lon,
            lat,
            np.full(count, vi),
            np.full(count, -(-int(pupils[g]) // count)),
        )
        first_school[g], n_schools[g] = ids[0], count
    school = first_school[group] + (rng.random(len(students)) * n_schools[group]).astype(np.int64)
    key = school * 16 + grade
    keys, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    n_classes = -(-counts // params.class_size)
    index = ranks_within(key, rng.random(len(students))) % n_classes[inverse]
    _, klass = np.unique(key * 1000 + index, return_inverse=True)
    work_place[students] = school
    class_id[students] = klass
    del keys


def _table(parts: Parts, homes: Homes, v: geography.Villages) -> pa.Table:
    lon = np.concatenate(parts.lon)
    lat = np.concatenate(parts.lat)
    village = np.concatenate(parts.village)
    n_homes = len(homes.lon)
    n = len(lon)
    # Non-home places belong to the nearest grid of their village.
    grid = np.full(n, -1, dtype=np.int64)
    grid[:n_homes] = homes.grid
    grids_lon = homes.grids.column("lon").to_numpy()
    grids_lat = homes.grids.column("lat").to_numpy()
    for vi in np.unique(village[n_homes:]):
        if vi < 0:
            continue
        mine = n_homes + np.flatnonzero(village[n_homes:] == vi)
        candidates = np.flatnonzero(homes.grid_village == vi)
        if len(candidates) == 0:
            continue
        d = np.hypot(
            lon[mine, None] - grids_lon[candidates], lat[mine, None] - grids_lat[candidates]
        )
        grid[mine] = candidates[d.argmin(axis=1)]
    grid_codes = homes.grids.column("grid_code").combine_chunks()
    compound = np.full(n, -1, dtype=np.int64)
    compound[:n_homes] = homes.compound
    return pa.table(
        {
            "place_id": pa.array(np.arange(n, dtype=np.int32)),
            "kind": pa.concat_arrays(parts.kind),
            "name": pa.concat_arrays(parts.name),
            "lon": pa.array(lon),
            "lat": pa.array(lat),
            "cell_id": pa.array(cell_of(lon, lat)),
            "village_code": pa.array(v.code).take(pa.array(village, mask=village < 0)),
            "grid_code": grid_codes.take(pa.array(grid, mask=grid < 0)),
            "compound_id": pa.array(compound.astype(np.int32), mask=compound < 0),
            "capacity": pa.array(np.concatenate(parts.capacity).astype(np.int32)),
            "site_id": pa.array(np.concatenate(parts.site).astype(np.int32)),
        },
        schema=schemas.PLACES,
    )
