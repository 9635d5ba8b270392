"""The fishing fleet: registry, trips, BeiDou fixes, rendezvous and crew stays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import shapely
from pydantic import ValidationError
from shapely.geometry import LineString, shape
from shapely.ops import unary_union

from cordon.geo.cells import cell_of
from cordon.geo.service import boundary_geojson
from cordon.lake.schemas import CREW, PLACES, SEA_TRIPS, VESSEL_FIXES, VESSELS
from cordon.sim import sea
from cordon.sim.model import DAY_SECONDS, City, DayVessels, FixedStays, day_start, rng_for
from cordon.sim.vessels import Fleet, VesselParams, build_fleet, simulate_day
from tests.sim.vessel_fixtures import small_city

START = date(2021, 12, 14)
DAYS = 6
SEED = 7
# More rendezvous than the default so that a short run has several.
PARAMS = VesselParams(meet_foreign_share=0.1)
NOBODY = np.empty(0, np.int32)


@dataclass
class Run:
    city: City
    fleet: Fleet
    days: list[DayVessels]


def run(
    seed: int = SEED, unavailable: dict[int, np.ndarray] | None = None, days: int = DAYS
) -> Run:
    city = small_city()
    fleet = build_fleet(
        city, PARAMS, rng=rng_for(seed, "fleet"), first_place_id=city.places.num_rows
    )
    out = [
        simulate_day(
            fleet,
            PARAMS,
            day=day,
            start_date=START,
            rng=rng_for(seed, "vessels", day),
            unavailable=(unavailable or {}).get(day, NOBODY),
        )
        for day in range(days)
    ]
    return Run(city, fleet, out)


@pytest.fixture(scope="module")
def sim() -> Run:
    return run()


def epoch(column: pa.ChunkedArray) -> np.ndarray:
    return column.cast(pa.int64()).to_numpy(zero_copy_only=False)


def all_trips(r: Run) -> pa.Table:
    return pa.concat_tables(d.trips for d in r.days)


def harbour_of(r: Run) -> dict[int, tuple[float, float]]:
    p = r.fleet.places
    lonlat = zip(p["lon"].to_pylist(), p["lat"].to_pylist(), strict=True)
    by_place = dict(zip(p["place_id"].to_pylist(), lonlat, strict=True))
    return {
        v: by_place[p]
        for v, p in zip(
            r.fleet.vessels["vessel_id"].to_pylist(),
            r.fleet.vessels["place_id"].to_pylist(),
            strict=True,
        )
    }


# --- the registry -----------------------------------------------------------------------------


def test_fleet_tables_match_the_lake_schemas(sim: Run) -> None:
    assert sim.fleet.vessels.schema == VESSELS
    assert sim.fleet.crew.schema == CREW
    assert sim.fleet.places.schema == PLACES
    assert sim.fleet.vessels.num_rows > 20


def test_each_vessel_is_a_place_at_its_home_harbour(sim: Run) -> None:
    vessels, places, city = sim.fleet.vessels, sim.fleet.places, sim.city.places
    first = city.num_rows
    assert places["place_id"].to_pylist() == list(range(first, first + vessels.num_rows))
    assert vessels["place_id"].to_pylist() == places["place_id"].to_pylist()
    assert set(places["kind"].to_pylist()) == {"vessel"}
    harbours = {r["place_id"]: r for r in city.to_pylist() if r["kind"] == "harbour"}
    for vessel, place in zip(vessels.to_pylist(), places.to_pylist(), strict=True):
        home = harbours[vessel["home_harbour_place_id"]]
        assert (place["lon"], place["lat"]) == (home["lon"], home["lat"])
        assert place["cell_id"] == int(cell_of(home["lon"], home["lat"]))
        assert place["village_code"] == home["village_code"]
        assert place["name"] == vessel["name"]


def test_crews_are_fishers_of_the_home_harbour_each_on_one_vessel(sim: Run) -> None:
    people = {p["person_id"]: p for p in sim.city.people.to_pylist()}
    vessels = {v["vessel_id"]: v for v in sim.fleet.vessels.to_pylist()}
    crew = sim.fleet.crew.to_pylist()
    assert len({c["person_id"] for c in crew}) == len(crew)
    for c in crew:
        person, vessel = people[c["person_id"]], vessels[c["vessel_id"]]
        assert person["role"] == "fisher"
        assert person["work_place_id"] == vessel["home_harbour_place_id"]
    sizes = np.bincount(sim.fleet.crew["vessel_id"].to_numpy(), minlength=len(vessels))
    assert sizes.tolist() == sim.fleet.vessels["crew_size"].to_pylist()
    assert sizes.min() >= 2 and sizes.max() <= 6
    owners = {(c["vessel_id"], c["person_id"]) for c in crew}
    assert all((v["vessel_id"], v["owner_person_id"]) in owners for v in vessels.values())


def test_three_no_boats_have_no_registration_and_no_beidou(sim: Run) -> None:
    vessels = sim.fleet.vessels.to_pylist()
    three_no = [v for v in vessels if v["three_no"]]
    assert len(three_no) == PARAMS.three_no_count
    assert all(v["registration"] is None and not v["beidou"] for v in three_no)
    registered = [v for v in vessels if not v["three_no"]]
    numbers = [v["registration"] for v in registered]
    assert None not in numbers and len(set(numbers)) == len(numbers)
    assert all(v["name"].startswith("桂东渔") and len(v["name"]) == 8 for v in registered)
    assert len({v["name"] for v in vessels}) == len(vessels)
    assert any(v["beidou"] for v in registered) and not all(v["beidou"] for v in registered)


def test_a_city_without_fishers_has_an_empty_fleet() -> None:
    city = small_city(fishers=0)
    fleet = build_fleet(city, PARAMS, rng=rng_for(1, "fleet"), first_place_id=99)
    assert fleet.vessels.num_rows == fleet.crew.num_rows == fleet.places.num_rows == 0
    day = simulate_day(
        fleet, PARAMS, day=0, start_date=START, rng=rng_for(1, "vessels", 0), unavailable=NOBODY
    )
    assert day.trips.num_rows == day.fixes.num_rows == len(day.crew_stays.person_id) == 0
    assert day.trips.schema == SEA_TRIPS and day.fixes.schema == VESSEL_FIXES


# --- days at sea ------------------------------------------------------------------------------


def test_day_tables_match_schemas_and_trip_ids_are_unique(sim: Run) -> None:
    for day in sim.days:
        assert day.trips.schema == SEA_TRIPS
        assert day.fixes.schema == VESSEL_FIXES
    trips = all_trips(sim)
    assert trips.num_rows > 50
    assert len(set(trips["trip_id"].to_pylist())) == trips.num_rows


def test_trips_leave_that_day_and_return_the_same_or_next_day(sim: Run) -> None:
    overnight = 0
    for day, out in enumerate(sim.days):
        depart, back = epoch(out.trips["depart"]), epoch(out.trips["return"])
        midnight = day_start(START, day)
        assert ((depart >= midnight) & (depart < midnight + DAY_SECONDS)).all()
        assert ((back > depart) & (back < midnight + 2 * DAY_SECONDS)).all()
        overnight += int((back >= midnight + DAY_SECONDS).sum())
    assert overnight > 0


def test_a_vessel_is_never_on_two_trips_at_once(sim: Run) -> None:
    trips = all_trips(sim).sort_by([("vessel_id", "ascending"), ("depart", "ascending")])
    vessel, depart, back = (
        trips["vessel_id"].to_numpy(),
        epoch(trips["depart"]),
        epoch(trips["return"]),
    )
    same = vessel[1:] == vessel[:-1]
    assert (depart[1:][same] >= back[:-1][same]).all()


def test_fixes_come_only_from_beidou_boats_at_sea_during_their_trips(sim: Run) -> None:
    beidou = dict(
        zip(
            sim.fleet.vessels["vessel_id"].to_pylist(),
            sim.fleet.vessels["beidou"].to_pylist(),
            strict=True,
        )
    )
    trips = all_trips(sim)
    by_vessel: dict[int, list[tuple[int, int]]] = {}
    for v, a, b in zip(
        trips["vessel_id"].to_pylist(), epoch(trips["depart"]), epoch(trips["return"]), strict=True
    ):
        by_vessel.setdefault(v, []).append((int(a), int(b)))
    for day, out in enumerate(sim.days):
        fixes = out.fixes
        assert set(pc.unique(fixes["day"]).to_pylist()) <= {day}
        times = epoch(fixes["time"])
        midnight = day_start(START, day)
        assert ((times >= midnight) & (times < midnight + DAY_SECONDS)).all()
        for v, t in zip(fixes["vessel_id"].to_pylist(), times, strict=True):
            assert beidou[v]
            assert any(a <= t < b for a, b in by_vessel[v])
    # Three-no boats do go to sea (the trips are ground truth) but are never seen.
    three_no = set(
        pc.filter(sim.fleet.vessels["vessel_id"], sim.fleet.vessels["three_no"]).to_pylist()
    )
    assert three_no & set(trips["vessel_id"].to_pylist())


def test_overnight_trips_report_after_midnight(sim: Run) -> None:
    for day, out in enumerate(sim.days[:-1]):
        midnight = day_start(START, day + 1)
        late = out.trips.filter(pc.greater(out.trips["return"].cast(pa.int64()), midnight + 3600))
        beidou = set(
            pc.filter(sim.fleet.vessels["vessel_id"], sim.fleet.vessels["beidou"]).to_pylist()
        )
        carried = [v for v in late["vessel_id"].to_pylist() if v in beidou]
        next_fixes = set(sim.days[day + 1].fixes["vessel_id"].to_pylist())
        assert set(carried) <= next_fixes


def test_fixes_away_from_the_harbour_are_at_sea_south_of_the_coast_on_chinas_side(sim: Run) -> None:
    land = unary_union([shape(f["geometry"]) for f in boundary_geojson()["features"]])
    home = harbour_of(sim)
    fixes = pa.concat_tables(d.fixes for d in sim.days)
    lon, lat = fixes["lon"].to_numpy(), fixes["lat"].to_numpy()
    hlon = np.array([home[v][0] for v in fixes["vessel_id"].to_pylist()])
    hlat = np.array([home[v][1] for v in fixes["vessel_id"].to_pylist()])
    away = np.hypot((lon - hlon) * sea.KM_PER_DEG_LON, (lat - hlat) * sea.KM_PER_DEG_LAT) > 4.0
    assert away.mean() > 0.9
    assert not shapely.intersects(shapely.points(lon[away], lat[away]), land).any()
    assert (lat[away] < 21.53).all()  # south of Dongxing's coast
    assert (sea.km_east_of_border(lon, lat) > 0).all()  # never in Vietnamese waters
    assert ((lon > 107.9) & (lon < 108.65) & (lat > 20.95) & (lat < 21.56)).all()


def test_boats_report_every_few_minutes_with_occasional_gaps(sim: Run) -> None:
    fixes = pa.concat_tables(d.fixes for d in sim.days).sort_by(
        [("vessel_id", "ascending"), ("time", "ascending")]
    )
    vessel, t = fixes["vessel_id"].to_numpy(), epoch(fixes["time"])
    same = vessel[1:] == vessel[:-1]
    step = np.diff(t)[same]
    assert 180 <= np.median(step) <= 300
    assert (step >= 180).all()
    assert (step > 15 * 60).any()  # a gap in someone's track
    speed = fixes["speed_knots"].to_numpy()
    assert (speed >= 0).all() and 1.0 < np.median(speed) < 12.0


def test_rendezvous_happen_near_the_border_and_the_boat_stops_there(sim: Run) -> None:
    trips = all_trips(sim).filter(pc.field("met_foreign_vessel"))
    assert trips.num_rows >= 3
    border = LineString(np.c_[sea.to_km(sea.BORDER[:, 0], sea.BORDER[:, 1])])
    fixes = pa.concat_tables(d.fixes for d in sim.days)
    seen_stopped = 0
    for trip in trips.to_pylist():
        at = int(trip["rendezvous_time"].timestamp())
        assert int(trip["depart"].timestamp()) < at < int(trip["return"].timestamp())
        lon, lat = trip["rendezvous_lon"], trip["rendezvous_lat"]
        x, y = sea.to_km(lon, lat)
        assert border.distance(shapely.Point(float(x), float(y))) <= 5.0
        assert sea.km_east_of_border(lon, lat) > 0
        near = fixes.filter(
            (pc.field("vessel_id") == trip["vessel_id"])
            & (pc.field("time").cast(pa.int64()) >= at)
            & (pc.field("time").cast(pa.int64()) < at + 20 * 60)
        )
        if near.num_rows:
            fx, fy = sea.to_km(near["lon"].to_numpy(), near["lat"].to_numpy())
            assert (np.hypot(fx - x, fy - y) < 0.5).all()
            assert (near["speed_knots"].to_numpy() < 1.5).all()
            seen_stopped += 1
    assert seen_stopped >= 1
    others = all_trips(sim).filter(~pc.field("met_foreign_vessel"))
    assert others["rendezvous_time"].null_count == others.num_rows


# --- crew aboard ------------------------------------------------------------------------------


def test_crew_stays_match_trips_and_never_cross_midnight(sim: Run) -> None:
    crew_of: dict[int, set[int]] = {}
    for c in sim.fleet.crew.to_pylist():
        crew_of.setdefault(c["vessel_id"], set()).add(c["person_id"])
    place_of = dict(
        zip(
            sim.fleet.vessels["place_id"].to_pylist(),
            sim.fleet.vessels["vessel_id"].to_pylist(),
            strict=True,
        )
    )
    trips = all_trips(sim)
    spans = {
        (v, int(a), int(b))
        for v, a, b in zip(
            trips["vessel_id"].to_pylist(),
            epoch(trips["depart"]),
            epoch(trips["return"]),
            strict=True,
        )
    }
    for day, out in enumerate(sim.days):
        s = out.crew_stays
        midnight = day_start(START, day)
        assert set(s.setting.tolist()) <= {"vessel"}
        assert ((s.start >= midnight) & (s.end <= midnight + DAY_SECONDS) & (s.end > s.start)).all()
        for person, place, a, b in zip(s.person_id, s.place_id, s.start, s.end, strict=True):
            vessel = place_of[int(place)]
            assert int(person) in crew_of[vessel]
            assert any(
                v == vessel and max(d, midnight) == a and min(r, midnight + DAY_SECONDS) == b
                for v, d, r in spans
            )
        order = np.lexsort((s.start, s.person_id))
        same = s.person_id[order][1:] == s.person_id[order][:-1]
        assert (s.start[order][1:][same] >= s.end[order][:-1][same]).all()


def test_every_trip_has_its_crew_aboard(sim: Run) -> None:
    stays = FixedStays.concat([d.crew_stays for d in sim.days])
    aboard = set(zip(stays.place_id.tolist(), stays.start.tolist(), strict=True))
    place = sim.fleet.vessels["place_id"].to_pylist()
    for trip in all_trips(sim).to_pylist():
        assert (place[trip["vessel_id"]], int(trip["depart"].timestamp())) in aboard


def test_unavailable_people_never_board_and_a_boat_without_crew_stays_in() -> None:
    base = run(days=3)
    crew = base.fleet.crew
    # Day 1: the whole crew of every boat that went out on day 0 is isolated, plus one person
    # of every other boat; day 2: some of those still at sea overnight from day 1.
    out_day0 = set(base.days[0].trips["vessel_id"].to_pylist())
    whole = pc.is_in(crew["vessel_id"], pa.array(sorted(out_day0), pa.int32()))
    first_of_each = crew.group_by("vessel_id").aggregate([("person_id", "min")])
    isolated_1 = np.union1d(
        pc.filter(crew["person_id"], whole).to_numpy(),
        first_of_each["person_id_min"].to_numpy(),
    ).astype(np.int32)
    late = base.days[1].trips.filter(
        pc.greater(base.days[1].trips["return"].cast(pa.int64()), day_start(START, 2))
    )
    carried = pc.is_in(crew["vessel_id"], late["vessel_id"])
    isolated_2 = pc.filter(crew["person_id"], carried).to_numpy()[::2].astype(np.int32)
    assert len(isolated_2)
    r = run(days=3, unavailable={1: isolated_1, 2: isolated_2})
    assert not np.isin(r.days[1].crew_stays.person_id, isolated_1).any()
    assert not np.isin(r.days[2].crew_stays.person_id, isolated_2).any()
    assert out_day0.isdisjoint(r.days[1].trips["vessel_id"].to_pylist())
    # Day 0 is unchanged by what happens later, and the others still go to sea on day 1.
    assert r.days[0].trips.equals(base.days[0].trips)
    assert r.days[1].trips.num_rows > 0


def test_isolation_does_not_change_other_boats_trips() -> None:
    base = run(days=1)
    first = base.days[0].trips.slice(0, 1).to_pylist()[0]
    crew = base.fleet.crew
    gone = pc.filter(crew["person_id"], pc.equal(crew["vessel_id"], first["vessel_id"]))
    r = run(days=1, unavailable={0: gone.to_numpy().astype(np.int32)})
    assert r.days[0].trips.equals(base.days[0].trips.slice(1))


# --- determinism and order --------------------------------------------------------------------


def test_same_seed_same_run_other_seed_other_run(sim: Run) -> None:
    again = run()
    assert again.fleet.vessels.equals(sim.fleet.vessels)
    assert again.fleet.crew.equals(sim.fleet.crew)
    for a, b in zip(again.days, sim.days, strict=True):
        assert a.trips.equals(b.trips) and a.fixes.equals(b.fixes)
        for name in ("person_id", "place_id", "start", "end", "setting"):
            assert (getattr(a.crew_stays, name) == getattr(b.crew_stays, name)).all()
    other = run(seed=SEED + 1, days=2)
    assert not other.days[1].fixes.equals(sim.days[1].fixes)


def test_days_must_be_simulated_in_order() -> None:
    r = run(days=2)
    late = r.days[1].trips.filter(
        pc.greater(r.days[1].trips["return"].cast(pa.int64()), day_start(START, 2))
    )
    assert late.num_rows  # something is carried into day 2
    with pytest.raises(ValueError, match="in order"):
        simulate_day(
            r.fleet,
            PARAMS,
            day=5,
            start_date=START,
            rng=rng_for(1, "vessels", 5),
            unavailable=NOBODY,
        )


@pytest.mark.parametrize(
    "bad",
    [
        {"crew_size": (4, 2)},
        {"day_trip_hours": (4, 40)},
        {"overnight_departure_hours": (14, 25)},
        {"trip_probability": 1.5},
        {"fix_interval_minutes": (0.1, 5)},
        {"rendezvous_minutes": (20, 300)},
        {"unknown": 1},
    ],
)
def test_bad_parameters_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        VesselParams.model_validate(bad)
