"""Daily movement: Cordon's vectorised ``simulate_day`` against the peer a first version would
be, a per-person Python loop with pandas output, on the same 5,000-person city and the same
routine model (templates, favourite venues, check-ins, cell records; the peer leaves out
journeys and fixed stays, which only flatters it). Reports the speed-up on that sample, then
Cordon alone at 200,000 people × 1 day (``build_city`` and one weekday), the size the
whole-run target is set for. BENCH_SIM_MOVEMENT_PEOPLE overrides the large size."""

from __future__ import annotations

import os
import random
import resource
import time
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from cordon.lake import schemas
from cordon.sim import routines
from cordon.sim.city import CityParams, build_city
from cordon.sim.model import City, FixedStays, day_start, rng_for
from cordon.sim.movement import MovementParams, RoutinePlan, VenuePool, prepare, simulate_day

SAMPLE = 5_000
LARGE = int(os.environ.get("BENCH_SIM_MOVEMENT_PEOPLE", "200000"))
START = date(2021, 12, 20)  # a Monday
SETTINGS = schemas.SETTINGS


def _city(population: int) -> tuple[City, RoutinePlan, float]:
    started = time.perf_counter()
    city = build_city(CityParams(), population=population, start_date=START, rng=rng_for(7, "city"))
    built = time.perf_counter() - started
    return city, prepare(city, MovementParams(), rng=rng_for(7, "routine")), built


def _ours(plan: RoutinePlan) -> tuple[float, int]:
    started = time.perf_counter()
    day = simulate_day(
        plan, day=0, start_date=START, rng=rng_for(7, "movement", 0), fixed=FixedStays.empty()
    )
    return time.perf_counter() - started, day.stays.num_rows


def _loop_day(plan: RoutinePlan) -> tuple[float, int]:
    """The peer: one person at a time, one step at a time, Python's random, rows as dicts."""
    started = time.perf_counter()
    c, p = plan.routines, plan.params
    r = random.Random(7)
    ds = day_start(START, 0)
    de = ds + 86_400
    restaurants = _by_town(plan.restaurants)
    shops = _by_town(plan.shops)
    markets = _by_town(plan.daily_markets)
    hospitals = _by_town(plan.hospitals)
    stays: list[dict[str, Any]] = []
    scans: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    for person in range(plan.n_people):
        role, town = int(plan.role[person]), int(plan.town[person])
        first, count = c.first[role, 0], c.count[role, 0]
        u, template = r.random(), first
        while template < first + count - 1 and u > c.cum_weight[template]:
            template += 1
        previous, day_rows = ds, []
        for k in range(c.source.shape[1]):
            source = int(c.source[template, k])
            if source < 0 or r.random() >= c.prob[template, k]:
                continue
            anchor = ds + 60 * int(
                np.ceil((c.start[template, k] + r.gauss(0, 1) * c.start_sd[template, k]) / 60)
            )
            begin = max(anchor, previous)
            if day_rows and begin - previous < p.min_home_minutes * 60:
                begin = previous
            minutes = max(
                10,
                round((c.duration[template, k] + r.gauss(0, 1) * c.duration_sd[template, k]) / 60),
            )
            end = min(begin + 60 * minutes, de)
            if begin > de - 600:
                continue
            fav = r.random() < p.favourite_share
            if source == routines.WORK:
                place, setting = int(plan.work[person]), "work"
            elif source in (routines.RESTAURANT_HOME, routines.RESTAURANT_WORK):
                place = (
                    int(plan.fav_restaurant_home[person]) if fav else r.choice(restaurants[town])
                )
                setting = "venue"
            elif source == routines.SHOP:
                place, setting = (
                    (int(plan.fav_shop[person]) if fav else r.choice(shops[town])),
                    "venue",
                )
            elif source == routines.MARKET:
                place, setting = r.choice(markets[town]), "venue"
            else:
                place = (
                    r.choice(hospitals[town])
                    if r.random() < p.hospital_share
                    else int(plan.clinic[person])
                )
                setting = "health"
            if place < 0:
                continue
            day_rows.append((begin, end, place, setting))
            previous = end
        at, home = ds, int(plan.home[person])
        for begin, end, place, setting in [*day_rows, (de, de, -1, "")]:
            if begin > at:
                stays.append(_row(person, home, at, begin, "household", plan))
            if place >= 0:
                stays.append(_row(person, place, begin, end, setting, plan))
            at = end
    for stay in stays:
        phone = plan.has_phone[stay["person_id"]]
        if phone and plan.checkin_ok[stay["place_id"]] and r.random() < p.checkin_share:
            delay = min(
                round(r.expovariate(1 / p.checkin_delay_seconds)), stay["end"] - stay["start"] - 1
            )
            scans.append(
                {
                    "day": 0,
                    "person_id": stay["person_id"],
                    "place_id": stay["place_id"],
                    "time": stay["start"] + delay,
                }
            )
        if phone and plan.coverage_ok[stay["place_id"]] and r.random() >= p.cell_gap_probability:
            cell = stay["cell_id"]
            if r.random() < p.cell_noise:
                cell += r.choice((-100001, -100000, -99999, -1, 1, 99999, 100000, 100001))
            records.append(
                {
                    "day": 0,
                    "person_id": stay["person_id"],
                    "cell_id": cell,
                    "start": stay["start"],
                    "end": stay["end"],
                }
            )
    tables = []
    for rows, schema in (
        (stays, schemas.STAYS),
        (scans, schemas.CHECKINS),
        (records, schemas.CELL_RECORDS),
    ):
        frame = pd.DataFrame(rows, columns=schema.names)
        for name in schema.names:
            if pa.types.is_timestamp(schema.field(name).type):
                frame[name] = pd.to_datetime(frame[name], unit="s", utc=True)
        tables.append(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))
    return time.perf_counter() - started, tables[0].num_rows


def _row(
    person: int, place: int, start: int, end: int, setting: str, plan: RoutinePlan
) -> dict[str, Any]:
    return {"day": 0, "person_id": person, "place_id": place, "start": start, "end": end,
            "setting": setting, "cell_id": int(plan.place_cell[place])}  # fmt: skip


def _by_town(pool: VenuePool) -> dict[int, list[int]]:
    everything = pool.ids.tolist()
    return {
        t: pool.ids[lo:hi].tolist() or everything
        for t, (lo, hi) in enumerate(zip(pool.town_lo, pool.town_hi, strict=True))
    }


def run() -> dict[str, object]:
    _, sample_plan, _ = _city(SAMPLE)
    _ours(sample_plan)  # warm up
    ours, our_rows = _ours(sample_plan)
    peer, peer_rows = _loop_day(sample_plan)
    _, plan, built = _city(LARGE)
    day, rows = _ours(plan)
    return {
        "sample_people": SAMPLE,
        "cordon_day_s": round(ours, 4),
        "cordon_stays": our_rows,
        "python_loop_pandas_day_s": round(peer, 3),
        "python_loop_stays": peer_rows,
        "speedup_vs_loop": round(peer / ours, 1),
        "large_people": LARGE,
        "build_city_s": round(built, 2),
        "simulate_day_s": round(day, 3),
        "stays_per_day": rows,
        "people_per_s": round(LARGE / day),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }
