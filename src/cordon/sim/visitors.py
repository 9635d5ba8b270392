"""People present in the city who live elsewhere: cross-border traders, truck drivers, business
visitors and tourists from the rest of Guangxi and from Guangdong.

City side (``choose``, ``particulars``): whole small households of adults become visitor
parties. Their home in the city is where they lodge; where they live (``residence_code``, a
county elsewhere) gives their identity number's region code, their mobile's number block (from
libphonenumber's geocoding data, ``geo/data/mobile_blocks.csv``) and their home address.

Movement side (``schedule``, ``absences``): a visitor comes every ``period`` days for ``stay``
days (traders and drivers again and again, business visitors and tourists once in the run),
arriving at a fixed time of day and leaving at another. Time away from the city is a journey
home, spent in coaches and outside the city like residents' journeys; the journey's destination
is the visitor's home. Everything is arithmetic on the day number, so any day can be simulated
on its own.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from cordon.geo import service as geo
from cordon.lake import schemas
from cordon.sim.activities import Journeys
from cordon.sim.model import DAY_SECONDS
from cordon.sim.stays import Rows

if TYPE_CHECKING:
    from cordon.sim.city import CityParams
    from cordon.sim.movement import MovementParams

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ROLE = {name: i for i, name in enumerate(schemas.ROLES)}
PURPOSES = schemas.VISIT_PURPOSES
STREETS = (
    "人民路", "解放路", "中山路", "建设路", "新华路", "朝阳路", "民族大道", "友谊路",
    "长堤路", "东风路", "环城路", "文化路", "青年路", "和平路", "北京路", "五一路",
)  # fmt: skip
ONCE = 365  # visitors who come once come back a year later (outside any run)


@cache
def _divisions() -> dict[str, tuple[str, str]]:
    """code → (name, parent code) of every packaged division."""
    return {r["code"]: (r["name"], r["parent_code"]) for r in geo.packaged_divisions()}


@cache
def counties() -> tuple[str, ...]:
    """County-level divisions visitors may live in: Guangxi's and Guangdong's, not Dongxing."""
    return tuple(
        r["code"]
        for r in geo.packaged_divisions()
        if r["level"] == "county" and r["code"] != "450681"
    )


def full_name(code: str) -> str:
    """省/市/县 name of a division, e.g. 广东省湛江市霞山区 (广西 for Guangxi's own divisions is
    kept too: an address names its province)."""
    names = []
    known = _divisions()
    while code in known:
        name, parent = known[code]
        names.append(name)
        code = parent
    return "".join(reversed(names))


@cache
def mobile_blocks() -> dict[str, npt.NDArray[np.int64]]:
    """Prefecture code → 7-digit mobile number blocks of that city (see geo/data/SOURCES.md)."""
    text = resources.files("cordon.geo").joinpath("data", "mobile_blocks.csv").read_text("utf-8")
    found: dict[str, list[int]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        found.setdefault(row["prefecture_code"], []).append(int(row["block"]))
    return {code: np.array(blocks, dtype=np.int64) for code, blocks in found.items()}


def origin_weights(weights: dict[str, float]) -> tuple[tuple[str, ...], npt.NDArray[np.float64]]:
    """Every county elsewhere with its weight: a prefix's weight is shared evenly by the counties
    for which it is the longest matching prefix; counties no prefix matches weigh nothing."""
    codes = counties()
    best = [max((p for p in weights if c.startswith(p)), key=len, default="") for c in codes]
    members: dict[str, int] = {}
    for prefix in best:
        members[prefix] = members.get(prefix, 0) + 1
    w = np.array([weights[p] / members[p] if p else 0.0 for p in best], dtype=np.float64)
    return codes, w


def choose(
    params: CityParams,
    age: IntArray,
    role: IntArray,
    household: IntArray,
    n_households: int,
    rng: np.random.Generator,
) -> tuple[IntArray, npt.NDArray[np.object_]]:
    """Visitor parties among small all-adult households of traders, workers and people without
    work: each person's purpose (index into PURPOSES, -1 for residents) and residence county
    ("" for residents). The purpose follows the role the city gave them (traders trade, workers
    drive freight or do business, the others are tourists), so the city's places and routines
    are the same with or without visitors."""
    n = len(age)
    purpose = np.full(n, -1, dtype=np.int64)
    home = np.full(n, "", dtype=object)
    if params.visitor_share <= 0 or n == 0:
        return purpose, home
    kinds = [ROLE["worker"], ROLE["trader"], ROLE["unemployed"]]
    fits = (age >= 18) & (age < 65) & np.isin(role, kinds)
    size = np.bincount(household, minlength=n_households)
    misfits = np.bincount(household, weights=~fits, minlength=n_households)
    eligible = np.flatnonzero((misfits == 0) & (size <= 3))
    eligible = eligible[rng.permutation(len(eligible))]
    taken = eligible[np.cumsum(size[eligible]) <= round(params.visitor_share * n)]
    if len(taken) == 0:
        return purpose, home
    codes, weight = origin_weights(params.visitor_origins)
    party_home = np.array(codes, dtype=object)[
        rng.choice(len(codes), size=len(taken), p=weight / weight.sum())
    ]
    per_household = np.full(n_households, -1, dtype=np.int64)
    per_household[taken] = np.arange(len(taken))
    party = per_household[household]
    visitor = np.flatnonzero(party >= 0)
    driver = rng.random(len(visitor)) < params.visitor_driver_share
    r = role[visitor]
    purpose[visitor] = np.select(
        [r == ROLE["trader"], (r == ROLE["worker"]) & driver, r == ROLE["worker"]],
        [PURPOSES.index("trader"), PURPOSES.index("truck_driver"), PURPOSES.index("business")],
        PURPOSES.index("tourist"),
    )
    home[visitor] = party_home[party[visitor]]
    return purpose, home


def drivers_to_freight(
    work_place: IntArray, purpose: IntArray, places: pa.Table, rng: np.random.Generator
) -> IntArray:
    """Truck drivers work at a section of the port or the border crossing (freight)."""
    kind = places.column("kind")
    freight = np.asarray(
        places.filter(pc.is_in(kind, pa.array(["port", "border_crossing"])))
        .column("place_id")
        .to_numpy(),
        dtype=np.int64,
    )
    drivers = np.flatnonzero(purpose == PURPOSES.index("truck_driver"))
    out = work_place.copy()
    if len(freight) and len(drivers):
        out[drivers] = freight[rng.integers(0, len(freight), len(drivers))]
    return out


def regions(region: IntArray, home: npt.NDArray[np.object_]) -> IntArray:
    """Identity-number region codes: a visitor's number was issued where they live."""
    out = region.copy()
    visitor = home != ""
    out[visitor] = home[visitor].astype(np.int64)
    return out


def mobiles(phones: pa.Array, home: npt.NDArray[np.object_], rng: np.random.Generator) -> pa.Array:
    """Visitors' mobiles (where they have one) from a number block of their home city; still
    distinct from everybody else's."""
    visitor = np.flatnonzero((home != "") & np.asarray(phones.is_valid()))
    if len(visitor) == 0:
        return phones
    blocks = mobile_blocks()
    prefecture = np.array([c[:4] for c in home[visitor]], dtype=object)
    block = np.zeros(len(visitor), dtype=np.int64)
    for code in np.unique(prefecture):
        mine = np.flatnonzero(prefecture == code)
        choices = blocks.get(str(code))
        if choices is None:
            raise ValueError(f"no mobile number blocks for prefecture {code}")
        block[mine] = choices[rng.integers(0, len(choices), len(mine))]
    others = np.asarray(pc.fill_null(pc.cast(phones, pa.int64()), 0).to_numpy(), dtype=np.int64)
    taken = np.delete(others, visitor)
    number = block * 10_000 + rng.integers(0, 10_000, len(visitor))
    for _ in range(100):
        _, first = np.unique(number, return_index=True)
        clash = np.ones(len(number), dtype=bool)
        clash[first] = False
        clash |= np.isin(number, taken)
        if not clash.any():
            break
        number[clash] = block[clash] * 10_000 + rng.integers(0, 10_000, int(clash.sum()))
    else:
        raise RuntimeError("could not draw distinct mobiles for visitors")
    values = others.copy()
    values[visitor] = number
    out = pc.cast(pa.array(values), pa.string())
    return pc.if_else(phones.is_valid(), out, pa.nulls(len(values), pa.string()))


def addresses(
    home: npt.NDArray[np.object_], household: IntArray, rng: np.random.Generator
) -> pa.Array:
    """A home address elsewhere per visitor party (null for residents)."""
    n_households = int(household.max()) + 1 if len(household) else 0
    street = rng.integers(0, len(STREETS), n_households)
    number = rng.integers(1, 400, n_households)
    out: list[str | None] = [None] * len(home)
    for i in np.flatnonzero(home != ""):
        h = household[i]
        out[i] = f"{full_name(str(home[i]))}{STREETS[street[h]]}{number[h]}号"
    return pa.array(out, pa.string())


# --- movement side ---------------------------------------------------------------------------


@dataclass
class Visits:
    """When each visitor is in the city: present on day d when (d + phase) % period < stay."""

    person: IntArray
    period: IntArray
    stay: IntArray
    phase: IntArray
    arrive: IntArray  # seconds after local midnight, on the first day of a stay
    leave: IntArray  # seconds after local midnight, on the last day of a stay
    home: npt.NDArray[np.object_]  # residence code: where they go between visits

    @classmethod
    def none(cls) -> Visits:
        empty = np.empty(0, dtype=np.int64)
        return cls(empty, empty, empty, empty, empty, empty, np.empty(0, dtype=object))


def schedule(people: pa.Table, params: MovementParams, rng: np.random.Generator) -> Visits:
    """Each visitor's visits, drawn once from the purpose of the visit."""
    purpose = np.asarray(people.column("visitor").to_numpy(zero_copy_only=False), dtype=object)
    person = np.flatnonzero(np.asarray(people.column("visitor").is_valid().to_numpy()))
    if len(person) == 0:
        return Visits.none()
    kinds = purpose[person]
    stay_lo = np.array([params.visit_stay_days[k][0] for k in kinds], dtype=np.int64)
    stay_hi = np.array([params.visit_stay_days[k][1] for k in kinds], dtype=np.int64)
    stay = stay_lo + (rng.random(len(person)) * (stay_hi - stay_lo + 1)).astype(np.int64)
    every_lo = np.array([params.visit_every_days[k][0] for k in kinds], dtype=np.int64)
    every_hi = np.array([params.visit_every_days[k][1] for k in kinds], dtype=np.int64)
    every = every_lo + (rng.random(len(person)) * (every_hi - every_lo + 1)).astype(np.int64)
    once = every_lo == 0
    period = np.where(once, ONCE, np.maximum(every, stay + 1))
    # Visitors who come once arrive within the horizon (a stay may have begun before day 0).
    first = (rng.random(len(person)) * (params.visit_horizon_days + stay - 1)).astype(np.int64)
    first -= stay - 1
    phase = np.where(once, -first, rng.integers(0, 10**6, len(person))) % period
    lo, hi = params.visit_arrive_hours
    arrive = (3600 * (lo + rng.random(len(person)) * (hi - lo))).astype(np.int64)
    lo, hi = params.visit_leave_hours
    leave = (3600 * (lo + rng.random(len(person)) * (hi - lo))).astype(np.int64)
    # On a one-day visit, time for travel at both ends and a few hours in the city.
    leave = np.maximum(leave, np.where(stay == 1, arrive + 4 * 3600, 0))
    leave = np.minimum(leave, DAY_SECONDS - 1800)
    home = np.asarray(people.column("residence_code").to_numpy(zero_copy_only=False), dtype=object)
    return Visits(person, period, stay, phase, arrive, leave, home[person])


@dataclass
class VisitDay:
    """One day of the visitors: time away (as journeys home), who is away all day, and the
    window in which those present part of the day are in the city."""

    away: Journeys
    absent: IntArray  # people away the whole day
    partial: IntArray  # people in the city only in [since, until)
    since: IntArray
    until: IntArray


def absences(v: Visits, day: int, ds: int) -> VisitDay:
    """The visitors' absences that overlap day ``day`` (local midnight ``ds``)."""
    k = (day + v.phase) % v.period
    present = k < v.stay
    arriving = present & (k == 0)
    leaving = present & (k == v.stay - 1)
    absent = ~present
    # Absence before today's arrival: from the previous visit's last day.
    before = arriving
    b_depart = ds + (v.stay - v.period - 1) * DAY_SECONDS + v.leave
    b_back = ds + v.arrive
    # Absence after today's departure: to the next visit's first day.
    after = leaving
    a_depart = ds + v.leave
    a_back = ds + (v.period - v.stay + 1) * DAY_SECONDS + v.arrive
    # Away all day: from the last departure to the next arrival.
    w_depart = ds - (k - v.stay + 1) * DAY_SECONDS + v.leave
    w_back = ds + (v.period - k) * DAY_SECONDS + v.arrive
    person = np.concatenate([v.person[before], v.person[after], v.person[absent]])
    depart = np.concatenate([b_depart[before], a_depart[after], w_depart[absent]])
    back = np.concatenate([b_back[before], a_back[after], w_back[absent]])
    home = np.concatenate([v.home[before], v.home[after], v.home[absent]])
    away = Journeys(
        person=person,
        depart=depart,
        back=back,
        destination=home.astype(str),
        depart_day=np.floor_divide(depart - ds, DAY_SECONDS) + day,
    )
    partial = arriving | leaving
    since = np.where(arriving, ds + v.arrive, ds)[partial]
    until = np.where(leaving, ds + v.leave, ds + DAY_SECONDS)[partial]
    return VisitDay(away, v.person[absent], v.person[partial], since, until)


def clip(rows: Rows, day: VisitDay, n: int) -> Rows:
    """Routine activities cut to the part of the day a visitor is in the city (rows of one
    person stay in time order); what is left shorter than 10 minutes is dropped."""
    if len(day.partial) == 0:
        return rows
    since = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    until = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    since[day.partial] = day.since
    until[day.partial] = day.until
    start = np.maximum(rows.start, since[rows.person])
    end = np.minimum(rows.end, until[rows.person])
    cut = Rows(rows.person, rows.place, start, end, rows.setting)
    return cut.take(end - start >= 600)
