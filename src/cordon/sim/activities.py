"""The parts of a day that ``movement.simulate_day`` puts together: routine activities,
journeys out of the city and fixed stays, each as ``Rows`` of activities."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from cordon.lake import schemas
from cordon.sim import routines
from cordon.sim.model import DAY_SECONDS, FixedStays, day_start
from cordon.sim.places import spread
from cordon.sim.stays import Rows, overlapping

if TYPE_CHECKING:
    from cordon.sim.movement import RoutinePlan

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
SETTING = {name: i for i, name in enumerate(schemas.SETTINGS)}
KIND = {name: i for i, name in enumerate(schemas.PLACE_KINDS)}
ROLE = {name: i for i, name in enumerate(schemas.ROLES)}


def index_in(values: pa.Array | pa.ChunkedArray, universe: pa.Array) -> IntArray:
    """Position of each value in ``universe``; -1 for nulls and unknown values."""
    found = pc.index_in(values, value_set=universe)
    return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


@dataclass
class Journeys:
    person: IntArray
    depart: IntArray
    back: IntArray
    destination: npt.NDArray[np.str_]
    depart_day: IntArray


def _journeys_departing(plan: RoutinePlan, depart_day: int, start_date: date) -> Journeys:
    """The journeys starting on ``depart_day``, from that day's own random stream."""
    p = plan.params
    cycle = p.journey_max_days + 1
    jr = np.random.default_rng([plan.journey_seed, depart_day])
    candidates = np.flatnonzero(plan.journey_eligible & (plan.journey_phase == depart_day % cycle))
    go = jr.random(len(candidates)) < min(1.0, p.journey_probability * cycle)
    person = candidates[go]
    m = len(person)
    base = day_start(start_date, depart_day)
    depart = base + 60 * jr.integers(6 * 60, 14 * 60, m)
    same_day = (jr.random(m) < p.journey_same_day_share) | (p.journey_max_days == 0)
    nights = np.clip(jr.geometric(0.45, m), 1, max(p.journey_max_days, 1))
    # Asia/Shanghai has no daylight saving time, so days are 86,400 s apart.
    back_later = base + nights * DAY_SECONDS + 60 * jr.integers(9 * 60, 20 * 60, m)
    back_same = np.minimum(depart + 60 * jr.integers(180, 600, m), base + DAY_SECONDS - 1800)
    index = np.searchsorted(plan.destination_cum, jr.random(m) * plan.destination_cum[-1], "right")
    destination = plan.destinations[np.clip(index - 1, 0, len(plan.destinations) - 1)]
    return Journeys(
        person=person,
        depart=depart,
        back=np.where(same_day, back_same, back_later),
        destination=destination,
        depart_day=np.full(m, depart_day, dtype=np.int64),
    )


def concat_journeys(parts: list[Journeys]) -> Journeys:
    return Journeys(
        person=np.concatenate([j.person for j in parts]),
        depart=np.concatenate([j.depart for j in parts]),
        back=np.concatenate([j.back for j in parts]),
        destination=np.concatenate([j.destination for j in parts]),
        depart_day=np.concatenate([j.depart_day for j in parts]),
    )


def journeys_today(plan: RoutinePlan, day: int, start_date: date, ds: int, de: int) -> Journeys:
    every = concat_journeys(
        [
            _journeys_departing(plan, d, start_date)
            for d in range(max(0, day - plan.params.journey_max_days), day + 1)
        ]
    )
    return take_journeys(every, (every.depart < de) & (every.back > ds))


@dataclass(frozen=True)
class Fleet:
    """The coaches of journeys' transit legs (places of kind outside_city) and their seats."""

    coaches: IntArray
    seats: int

    def board(
        self, person: IntArray, start: IntArray, inbound: BoolArray, ds: int, slot: int
    ) -> IntArray:
        """The coach of each of a day's transit legs. Legs starting in the same slot of the day
        (``slot`` seconds, the length of a leg) in the same direction fill coaches in order of
        departure, ``seats`` each; the day's coachloads take the fleet's coaches in turn. A leg
        ends within the slot after its own, so a coach holds two coachloads at once only when
        more coachloads than the fleet has leave within two slots. Only the day's legs decide
        it, so a day simulated alone seats everyone as in the whole run."""
        n = len(person)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        bucket = 2 * ((start - ds) // slot) + inbound
        order = np.lexsort((person, start, bucket))
        bucket = bucket[order]
        first = np.r_[True, bucket[1:] != bucket[:-1]]
        rank = np.arange(n) - np.maximum.accumulate(np.where(first, np.arange(n), 0))
        load = np.cumsum(first | (rank % self.seats == 0)) - 1
        coach = np.empty(n, dtype=np.int64)
        coach[order] = self.coaches[load % len(self.coaches)]
        return coach


def journey_rows(j: Journeys, outside: int, fleet: Fleet, transit: int, ds: int, de: int) -> Rows:
    """Transit out on the departure day (in a coach), outside the city (at ``outside``, setting
    "outside": no transmission, no contacts), transit back on the return day (in another
    coach)."""
    leaves = j.depart >= ds
    returns = j.back <= de
    out_end = np.where(leaves, np.minimum(j.depart + transit, j.back), ds)
    back_start = np.where(returns, np.maximum(j.back - transit, out_end), de)
    person = np.concatenate([j.person[leaves], j.person[returns]])
    start = np.concatenate([j.depart[leaves], back_start[returns]])
    end = np.concatenate([out_end[leaves], j.back[returns]])
    inbound = np.arange(len(person)) >= int(leaves.sum())
    moving = end > start
    person, start, end, inbound = person[moving], start[moving], end[moving], inbound[moving]
    coach = fleet.board(person, start, inbound, ds, max(transit, 60))
    legs = Rows(person, coach, start, end, np.full(len(person), SETTING["transit"]))
    away = Rows(
        j.person,
        np.full(len(j.person), outside, dtype=np.int64),
        out_end,
        back_start,
        np.full(len(j.person), SETTING["outside"]),
    )
    return Rows.concat([legs, away.take(away.end > away.start)])


def fixed_rows(fixed: FixedStays, n: int, n_places: int, ds: int, de: int) -> Rows:
    """Fixed stays clipped to the day, checked."""
    start = np.asarray(fixed.start, dtype=np.int64)
    end = np.asarray(fixed.end, dtype=np.int64)
    person = np.asarray(fixed.person_id, dtype=np.int64)
    if len(person) and (person.min() < 0 or person.max() >= n):
        raise ValueError("fixed stays name a person who is not in the city")
    place = np.asarray(fixed.place_id, dtype=np.int64)
    if len(place) and (place.min() < 0 or place.max() >= n_places):
        raise ValueError(
            "fixed stays name a place that is not in the city's places (prepare the plan with "
            "the places table that includes vessels)"
        )
    if (end <= start).any():
        raise ValueError("fixed stays must end after they start")
    setting = index_in(
        pa.array(np.asarray(fixed.setting, dtype=object), pa.string()), pa.array(schemas.SETTINGS)
    )
    if (setting < 0).any():
        raise ValueError("fixed stays have a setting outside SETTINGS")
    today = (start < de) & (end > ds)
    rows = Rows(
        person[today],
        place[today],
        np.maximum(start[today], ds),
        np.minimum(end[today], de),
        setting[today],
    )
    rows = rows.take(np.lexsort((rows.start, rows.person)))
    if overlapping(rows).any():
        raise ValueError("fixed stays of one person overlap")
    return rows


def _resolve(
    plan: RoutinePlan, source: int, idx: IntArray, market_today: BoolArray, rng: np.random.Generator
) -> tuple[IntArray, IntArray]:
    """Place and setting of the steps ``idx`` (people) drawing from ``source``."""
    p = plan.params
    fav = rng.random(len(idx)) < p.favourite_share
    town = plan.town[idx]
    venue = np.full(len(idx), SETTING["venue"])
    if source == routines.WORK:
        place = plan.work[idx]
        kind = plan.place_kind[np.maximum(place, 0)]
        setting = np.where(
            plan.role[idx] == ROLE["student"],
            SETTING["class"],
            np.where(
                np.isin(kind, [KIND["hospital"], KIND["clinic"]]),
                SETTING["health"],
                SETTING["work"],
            ),
        )
        return place, setting
    if source == routines.RESTAURANT_HOME:
        return np.where(fav, plan.fav_restaurant_home[idx], plan.restaurants.pick(rng, town)), venue
    if source == routines.RESTAURANT_WORK:
        other = plan.restaurants.pick(rng, plan.work_town[idx])
        return np.where(fav, plan.fav_restaurant_work[idx], other), venue
    if source == routines.SHOP:
        return np.where(fav, plan.fav_shop[idx], plan.shops.pick(rng, town)), venue
    if source == routines.MARKET:
        daily = plan.daily_markets.pick(rng, town)
        return np.where(market_today[idx], plan.local_market[idx], daily), venue
    hospital = plan.hospitals.pick(rng, town)
    place = np.where(rng.random(len(idx)) < p.hospital_share, hospital, plan.clinic[idx])
    return place, np.full(len(idx), SETTING["health"])


def routine_rows(
    plan: RoutinePlan,
    ds: int,
    de: int,
    rest_day: bool,
    digit: int,
    busy: BoolArray,
    rng: np.random.Generator,
) -> Rows:
    """The routine activities of everybody not ``busy`` (away or with fixed stays), step by
    step; each person's steps are in time order and never overlap."""
    c, p, n = plan.routines, plan.params, plan.n_people
    kind = routines.RESTDAY if rest_day else routines.WORKDAY
    first, count = c.first[plan.role, kind], c.count[plan.role, kind]
    u = rng.random(n)
    template = first.copy()
    for v in range(1, int(count.max())):
        template += (v < count) & (
            u > c.cum_weight[np.minimum(first + v - 1, len(c.cum_weight) - 1)]
        )
    has_local = plan.local_market >= 0
    market_today = has_local & (
        (plan.market_digits[np.maximum(plan.local_market, 0)] >> digit) & 1 == 1
    )
    min_home = int(p.min_home_minutes * 60)
    previous = np.full(n, ds, dtype=np.int64)
    started = np.zeros(n, dtype=bool)
    parts: list[Rows] = []
    for k in range(c.source.shape[1]):
        source = c.source[template, k]
        prob = c.prob[template, k]
        boosted = (source == routines.MARKET) & market_today
        prob[boosted] *= p.market_day_boost
        who = np.flatnonzero((rng.random(n) < prob) & (source >= 0) & ~busy)
        t, src = template[who], source[who]
        jitter, stretch = rng.standard_normal((2, len(who)))
        anchor = c.start[t, k] + jitter * c.start_sd[t, k]
        duration = c.duration[t, k] + stretch * c.duration_sd[t, k]
        before = previous[who]
        begin = np.maximum(ds + 60 * np.ceil(anchor / 60).astype(np.int64), before)
        begin = np.where(started[who] & (begin - before < min_home), before, begin)
        finish = np.minimum(
            begin + 60 * np.maximum(10, np.rint(duration / 60)).astype(np.int64), de
        )
        place = np.full(len(who), -1, dtype=np.int64)
        setting = np.zeros(len(who), dtype=np.int64)
        for s in range(len(routines.SOURCES)):
            mine = np.flatnonzero(src == s)
            if len(mine):
                place[mine], setting[mine] = _resolve(plan, s, who[mine], market_today, rng)
                if s != routines.WORK:  # staff keep their section; a visit goes to any one
                    place[mine] = spread(plan.site, plan.sections, place[mine], rng)
        ok = (begin <= de - 600) & (place >= 0)
        who, begin, finish = who[ok], begin[ok], finish[ok]
        parts.append(Rows(who, place[ok], begin, finish, setting[ok]))
        previous[who] = finish
        started[who] = True
    return Rows.concat(parts)


def take_journeys(j: Journeys, keep: BoolArray) -> Journeys:
    return Journeys(
        j.person[keep], j.depart[keep], j.back[keep], j.destination[keep], j.depart_day[keep]
    )
