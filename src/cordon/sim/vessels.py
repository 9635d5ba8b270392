"""The fishing fleet: a registry of boats owned and crewed by the city's fishers, and every day
at sea — which boats go out, their BeiDou tracks, rendezvous with foreign boats near the
maritime border, and the crew's stays on board.

``build_fleet`` once per run; ``simulate_day`` for day 0, 1, 2, … in order: a trip that leaves
in the afternoon and comes home the next day is carried over inside the ``Fleet``, so the next
day gets its fixes and its crew stays (a carried trip's crew who became unavailable overnight —
isolated — are no longer counted aboard; the boat itself still comes home as planned).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, model_validator

from cordon.geo.cells import cell_of
from cordon.lake.schemas import CREW, PLACES, SEA_TRIPS, VESSEL_FIXES, VESSELS
from cordon.sim import tracks
from cordon.sim.model import DAY_SECONDS, City, DayVessels, FixedStays, day_start

MAX_VESSELS = 100_000  # trip ids are day * MAX_VESSELS + vessel_id
Range = tuple[float, float]


class VesselParams(BaseModel):
    """The fleet and its days at sea. Ranges are (low, high), drawn uniformly."""

    model_config = ConfigDict(extra="forbid")

    vessels_per_fisher: float = Field(
        default=0.2,
        gt=0,
        le=0.5,
        description="Boats per fisher; the rest of the fishers work ashore.",
    )
    crew_size: tuple[int, int] = Field(
        default=(2, 6),
        description="Crew per boat, owner included (Dongxing's small inshore boats).",
    )
    beidou_share: float = Field(
        default=0.9, ge=0, le=1, description="Share of registered boats carrying a BeiDou terminal."
    )
    three_no_count: int = Field(
        default=5,
        ge=0,
        description='"Three-no" boats: no name, certificate, registration or BeiDou.',
    )
    fix_interval_minutes: Range = Field(
        default=(3.0, 5.0), description="BeiDou position report interval at sea (per trip)."
    )
    fix_loss_share: float = Field(
        default=0.02, ge=0, lt=1, description="Share of single position reports lost."
    )
    gap_probability: float = Field(
        default=0.1, ge=0, le=1, description="Probability that a trip's BeiDou track has a gap."
    )
    gap_minutes: Range = Field(default=(20.0, 120.0), description="Length of such a gap.")
    trip_probability: float = Field(
        default=0.55, ge=0, le=1, description="Probability that a boat free that day goes to sea."
    )
    overnight_share: float = Field(
        default=0.15, ge=0, le=1, description="Share of trips that stay out overnight."
    )
    day_trip_departure_hours: Range = Field(
        default=(4.0, 9.0), description="Local hour of departure of a day trip."
    )
    day_trip_hours: Range = Field(default=(4.0, 14.0), description="Length of a day trip.")
    overnight_departure_hours: Range = Field(
        default=(14.0, 19.0), description="Local hour of departure of an overnight trip."
    )
    overnight_hours: Range = Field(default=(12.0, 28.0), description="Length of an overnight trip.")
    meet_foreign_share: float = Field(
        default=0.01,
        ge=0,
        le=1,
        description="Share of registered boats' trips that meet a foreign boat.",
    )
    three_no_meet_share: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Share of three-no boats' trips that meet a foreign boat.",
    )
    rendezvous_minutes: Range = Field(
        default=(20.0, 60.0), description="Stop alongside a foreign boat."
    )
    rendezvous_km_from_border: Range = Field(
        default=(0.5, 4.5),
        description="Distance of the rendezvous east of (on China's side of) the border.",
    )
    cruise_knots: float = Field(
        default=8.0, gt=0, description="Speed out to and back from the grounds."
    )
    fishing_knots: float = Field(default=3.0, gt=0, description="Speed while fishing (trawling).")

    @model_validator(mode="after")
    def _check(self) -> VesselParams:
        ranges = {
            name: getattr(self, name)
            for name, f in type(self).model_fields.items()
            if f.annotation in (Range, tuple[int, int])
        }
        for name, (low, high) in ranges.items():
            if not 0 <= low <= high:
                raise ValueError(f"{name}: need 0 ≤ low ≤ high, got ({low}, {high})")
        if self.crew_size[0] < 1:
            raise ValueError("crew_size: a boat needs at least one person")
        if self.fix_interval_minutes[0] < 1:
            raise ValueError("fix_interval_minutes: reports at most once a minute")
        for kind in ("day_trip", "overnight"):
            start: Range = getattr(self, f"{kind}_departure_hours")
            length: Range = getattr(self, f"{kind}_hours")
            if start[1] >= 24:
                raise ValueError(f"{kind}_departure_hours: a trip departs before midnight")
            if start[1] + length[1] >= 48:
                raise ValueError(f"{kind}: a trip must be back by the end of the next day")
            if length[0] < 1:
                raise ValueError(f"{kind}_hours: a trip lasts at least an hour")
            if self.rendezvous_minutes[1] > 30 * length[0]:
                raise ValueError(f"rendezvous_minutes: longer than half the shortest {kind}")
        return self


@dataclass
class _Ongoing:
    """A trip that left on an earlier day and is still at sea at midnight."""

    vessel_id: int
    place_id: int
    returns: int
    crew: npt.NDArray[np.int32]
    fixes: tracks.Fixes  # the reports after midnight


@dataclass
class _Carry:
    day: int = -1  # the day the ongoing trips continue into
    ongoing: list[_Ongoing] = field(default_factory=list)


@dataclass
class Fleet:
    vessels: pa.Table  # VESSELS
    crew: pa.Table  # CREW
    places: pa.Table  # PLACES rows of kind "vessel", place_id from first_place_id
    carry: _Carry = field(default_factory=_Carry, repr=False)


def _fishers_by_harbour(city: City) -> tuple[dict[int, npt.NDArray[np.int32]], pa.Table]:
    places = city.places
    harbours = places.filter(pc.equal(places["kind"], "harbour")).sort_by("place_id")
    people = city.people.filter(pc.equal(city.people["role"], "fisher"))
    work = people["work_place_id"].to_numpy(zero_copy_only=False)
    ids = people["person_id"].to_numpy(zero_copy_only=False)
    crews = {}
    for place_id in harbours["place_id"].to_pylist():
        members = np.sort(ids[work == place_id]).astype(np.int32)
        if len(members):
            crews[int(place_id)] = members
    return crews, harbours


def build_fleet(
    city: City, params: VesselParams, *, rng: np.random.Generator, first_place_id: int
) -> Fleet:
    """Boats owned by fishers, crewed by fishers of the same harbour (each on one boat only)."""
    by_harbour, harbours = _fishers_by_harbour(city)
    low, high = params.crew_size
    harbour_of, owner, crew_of = [], [], []
    for harbour, fishers in by_harbour.items():
        pool = rng.permutation(fishers)
        expected = len(pool) * params.vessels_per_fisher
        boats = int(expected) + int(rng.random() < expected - int(expected))
        sizes = rng.integers(low, high + 1, boats)
        taken = 0
        for size in sizes:
            size = min(int(size), len(pool) - taken)
            if size < low:
                break
            members = pool[taken : taken + size]
            taken += size
            harbour_of.append(harbour)
            owner.append(int(members[0]))
            crew_of.append(np.sort(members))
    n = len(owner)
    if n >= MAX_VESSELS:
        raise ValueError(f"{n} vessels: the simulator supports fewer than {MAX_VESSELS}")
    three_no = np.zeros(n, bool)
    three_no[rng.choice(n, min(params.three_no_count, n), replace=False)] = True
    beidou = ~three_no & (rng.random(n) < params.beidou_share)
    numbers = rng.choice(90_000, n, replace=False) + 10_000
    years = rng.integers(2005, 2021, n)
    names: list[str] = []
    registrations: list[str | None] = []
    for i in range(n):
        if three_no[i]:
            names.append(f"三无船舶-{int(three_no[: i + 1].sum()):03d}")
            registrations.append(None)
        else:
            names.append(f"桂东渔{numbers[i]}")
            registrations.append(f"(桂东)船登(籍)({years[i]})FT-{i + 1:06d}号")
    vessel_ids = np.arange(n, dtype=np.int32)
    place_ids = vessel_ids + first_place_id
    crew_size = np.array([len(c) for c in crew_of], np.int16)
    vessels = pa.table(
        {
            "vessel_id": vessel_ids,
            "place_id": place_ids,
            "name": names,
            "registration": registrations,
            "owner_person_id": np.array(owner, np.int32),
            "home_harbour_place_id": np.array(harbour_of, np.int32),
            "beidou": beidou,
            "three_no": three_no,
            "crew_size": crew_size,
        },
        schema=VESSELS,
    )
    crew = pa.table(
        {
            "vessel_id": np.repeat(vessel_ids, crew_size),
            "person_id": np.concatenate(crew_of) if n else np.empty(0, np.int32),
        },
        schema=CREW,
    )
    return Fleet(vessels, crew, _vessel_places(vessels, harbours))


def _vessel_places(vessels: pa.Table, harbours: pa.Table) -> pa.Table:
    index = {pid: i for i, pid in enumerate(harbours["place_id"].to_pylist())}
    rows = np.array([index[h] for h in vessels["home_harbour_place_id"].to_pylist()], np.int64)
    home = harbours.take(pa.array(rows, pa.int64()))
    lon = home["lon"].to_numpy(zero_copy_only=False)
    lat = home["lat"].to_numpy(zero_copy_only=False)
    return pa.table(
        {
            "place_id": vessels["place_id"],
            "kind": ["vessel"] * vessels.num_rows,
            "name": vessels["name"],
            "lon": lon,
            "lat": lat,
            "cell_id": cell_of(lon, lat),
            "village_code": home["village_code"],
            "grid_code": home["grid_code"],
            "compound_id": pa.nulls(vessels.num_rows, pa.int32()),
            "capacity": vessels["crew_size"].cast(pa.int32()),
            "site_id": vessels["place_id"],
        },
        schema=PLACES,
    )


def simulate_day(
    fleet: Fleet,
    params: VesselParams,
    *,
    day: int,
    start_date: date,
    rng: np.random.Generator,
    unavailable: np.ndarray,
) -> DayVessels:
    """Trips leaving on ``day``, that day's BeiDou fixes (also of trips still out from the day
    before) and the crew's stays aboard, clipped to the day. Call for days 0, 1, 2, … in order;
    day 0 starts afresh (forgets trips carried over from an earlier run)."""
    midnight = day_start(start_date, day)
    next_midnight = midnight + DAY_SECONDS
    if day == 0:
        fleet.carry = _Carry()
    elif fleet.carry.ongoing and fleet.carry.day != day:
        raise ValueError(f"vessel days must be simulated in order: expected day {fleet.carry.day}")
    v = fleet.vessels
    n = v.num_rows
    vessel_id = v["vessel_id"].to_numpy()
    beidou = v["beidou"].to_numpy(zero_copy_only=False)
    three_no = v["three_no"].to_numpy(zero_copy_only=False)
    harbour_at = _harbour_positions(fleet)
    order = np.argsort(fleet.crew["vessel_id"].to_numpy(), kind="stable")
    crew_people = fleet.crew["person_id"].to_numpy()[order]
    crew_vessel = fleet.crew["vessel_id"].to_numpy()[order]
    aboard_ok = ~np.isin(crew_people, np.asarray(unavailable, dtype=np.int64))
    bounds = (
        np.searchsorted(crew_vessel, vessel_id),
        np.searchsorted(crew_vessel, vessel_id, "right"),
    )

    stays: list[tuple[npt.NDArray[np.int32], int, int, int]] = []  # (people, place, start, end)
    fixes: list[tuple[int, tracks.Fixes]] = []
    busy = np.isin(vessel_id, [trip.vessel_id for trip in fleet.carry.ongoing])
    for trip in fleet.carry.ongoing:
        stays.append(
            (trip.crew[~np.isin(trip.crew, unavailable)], trip.place_id, midnight, trip.returns)
        )
        fixes.append((trip.vessel_id, trip.fixes))
    fleet.carry = _Carry(day=day + 1)

    # The same draws for every boat every day, and a stream of its own for each boat's trip, so
    # whoever is isolated never changes what happens to the other boats.
    own_seed = rng.integers(0, 2**63, n)
    goes = rng.random(n) < params.trip_probability
    overnight = rng.random(n) < params.overnight_share
    meets = rng.random(n) < np.where(
        three_no, params.three_no_meet_share, params.meet_foreign_share
    )
    hour_draw, length_draw = rng.random(n), rng.random(n)
    trips: dict[str, list[object]] = {name: [] for name in SEA_TRIPS.names}
    for i in np.flatnonzero(goes & ~busy):
        lo, hi = bounds[0][i], bounds[1][i]
        crew = crew_people[lo:hi][aboard_ok[lo:hi]].astype(np.int32)
        if not len(crew):
            continue  # everyone aboard is isolated: the boat stays in
        kind = "overnight" if overnight[i] else "day_trip"
        start_h: Range = getattr(params, f"{kind}_departure_hours")
        length_h: Range = getattr(params, f"{kind}_hours")
        depart = midnight + round((start_h[0] + hour_draw[i] * (start_h[1] - start_h[0])) * 3600)
        duration = round((length_h[0] + length_draw[i] * (length_h[1] - length_h[0])) * 3600)
        own = np.random.default_rng(int(own_seed[i]))
        plan = tracks.TripPlan(
            duration=duration,
            cruise_knots=params.cruise_knots,
            fishing_knots=params.fishing_knots,
            stop=round(own.uniform(*params.rendezvous_minutes) * 60) if meets[i] else 0,
            km_from_border=float(own.uniform(*params.rendezvous_km_from_border)),
        )
        track = tracks.build_track(*harbour_at[i], plan, own)
        returns = depart + duration
        trip_id = day * MAX_VESSELS + int(vessel_id[i])
        met = track.rendezvous
        for name, value in zip(
            SEA_TRIPS.names,
            (
                trip_id,
                int(vessel_id[i]),
                depart,
                returns,
                met is not None,
                None if met is None else depart + round(met[0]),
                None if met is None else met[1],
                None if met is None else met[2],
            ),
            strict=True,
        ):
            trips[name].append(value)
        place = int(v["place_id"][i].as_py())
        stays.append((crew, place, depart, min(returns, next_midnight)))
        if returns > next_midnight:
            later = tracks.Fixes.empty()
            if beidou[i]:
                today, later = _sample(track, depart, params, own).split(next_midnight)
                fixes.append((int(vessel_id[i]), today))
            fleet.carry.ongoing.append(_Ongoing(int(vessel_id[i]), place, returns, crew, later))
        elif beidou[i]:
            fixes.append((int(vessel_id[i]), _sample(track, depart, params, own)))

    return DayVessels(
        trips=pa.table(
            {name: pa.array(values, SEA_TRIPS.field(name).type) for name, values in trips.items()},
            schema=SEA_TRIPS,
        ),
        fixes=_fixes_table(day, fixes),
        crew_stays=_crew_stays(stays),
    )


def _harbour_positions(fleet: Fleet) -> list[tuple[float, float]]:
    by_place = dict(
        zip(
            fleet.places["place_id"].to_pylist(),
            zip(fleet.places["lon"].to_pylist(), fleet.places["lat"].to_pylist(), strict=True),
            strict=True,
        )
    )
    return [by_place[p] for p in fleet.vessels["place_id"].to_pylist()]


def _sample(
    track: tracks.Track, depart: int, params: VesselParams, rng: np.random.Generator
) -> tracks.Fixes:
    interval = round(rng.uniform(*params.fix_interval_minutes) * 60)
    gap = None
    if rng.random() < params.gap_probability:
        length = round(rng.uniform(*params.gap_minutes) * 60)
        start = int(rng.integers(0, max(int(track.t[-1]) - length, 1)))
        gap = (start, start + length)
    return tracks.sample_fixes(
        track, depart=depart, interval=interval, gap=gap, loss_share=params.fix_loss_share, rng=rng
    )


def _fixes_table(day: int, parts: list[tuple[int, tracks.Fixes]]) -> pa.Table:
    parts = sorted(parts, key=lambda p: p[0])
    count = sum(len(f.time) for _, f in parts)
    if not parts:
        return VESSEL_FIXES.empty_table()
    return pa.table(
        {
            "day": np.full(count, day, np.int16),
            "vessel_id": np.concatenate([np.full(len(f.time), vid, np.int32) for vid, f in parts]),
            "time": pa.array(
                np.concatenate([f.time for _, f in parts]).astype(np.int64),
                VESSEL_FIXES.field("time").type,
            ),
            "lon": np.concatenate([f.lon for _, f in parts]),
            "lat": np.concatenate([f.lat for _, f in parts]),
            "speed_knots": np.concatenate([f.speed_knots for _, f in parts]).astype(np.float32),
        },
        schema=VESSEL_FIXES,
    )


def _crew_stays(parts: list[tuple[npt.NDArray[np.int32], int, int, int]]) -> FixedStays:
    parts = [p for p in parts if len(p[0]) and p[3] > p[2]]
    if not parts:
        return FixedStays.empty()
    people = np.concatenate([p[0] for p in parts]).astype(np.int32)
    count = np.array([len(p[0]) for p in parts])
    order = np.lexsort((np.repeat([p[2] for p in parts], count), people))
    return FixedStays(
        person_id=people[order],
        place_id=np.repeat(np.array([p[1] for p in parts], np.int32), count)[order],
        start=np.repeat(np.array([p[2] for p in parts], np.int64), count)[order],
        end=np.repeat(np.array([p[3] for p in parts], np.int64), count)[order],
        setting=np.full(len(people), "vessel", dtype=object),
    )
