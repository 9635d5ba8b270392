"""Running a scenario into a lake, and loading the lake's registry part into the database."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from cordon import __version__
from cordon.border import service as border_service
from cordon.errors import Invalid, Problem, ValidationFailed
from cordon.geo import service as geo_service
from cordon.lake.reader import read_table
from cordon.lake.schemas import SCHEMA_VERSION
from cordon.lake.writer import (
    LakeExists,
    LakeWriter,
    check_target,
    is_lake,
    read_manifest,
)
from cordon.people import service as people_service
from cordon.security.crypto import FieldCipher
from cordon.sim import city as city_model
from cordon.sim import movement, vessels
from cordon.sim import scenario as scenarios
from cordon.sim.model import City, FixedStays, rng_for
from cordon.sim.outbreak import Outbreak

Progress = Callable[[str, int, int], None]
OUTSIDE_DIVISION = "4506"  # 防城港市


@dataclass(frozen=True)
class RunRequest:
    scenario: str
    population: int
    days: int
    seed: int
    out: Path
    # Parameter changes on top of the scenario file, e.g. {"outbreak": {"imports": [...]}}.
    overrides: Mapping[str, Any] | None = None


def validate(request: RunRequest) -> scenarios.Scenario:
    """Every problem with the request at once, before anything is written."""
    problems: list[Problem] = []
    scenario: scenarios.Scenario | None = None
    try:
        scenario = scenarios.load(request.scenario, request.overrides)
    except ValidationFailed as exc:
        problems.extend(exc.problems)
    if request.population <= 0:
        problems.append(Problem("population", "must be a positive number of people"))
    elif scenario and request.population > scenario.max_population:
        limit = dict(most=scenario.max_population, scenario=scenario.name)
        problems.append(Problem("population", "at most %(most)s for %(scenario)s", params=limit))
    if request.days <= 0:
        problems.append(Problem("days", "must be at least 1"))
    elif scenario and request.days > scenario.max_days:
        limit = dict(most=scenario.max_days, scenario=scenario.name)
        problems.append(Problem("days", "at most %(most)s for %(scenario)s", params=limit))
    try:
        check_target(request.out)
    except LakeExists as exc:
        problems.append(exc.as_problem("out"))
    if problems or scenario is None:
        raise ValidationFailed("the simulation cannot run as asked", problems=problems)
    return scenario


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def run(request: RunRequest, *, progress: Progress = _no_progress) -> dict[str, Any]:
    """Simulate and write the lake; returns the manifest. Nothing is left at ``out`` on error."""
    scenario = validate(request)
    seed, days, start = request.seed, request.days, scenario.start_date
    writer = LakeWriter(request.out)
    try:
        progress("city", 0, 1)
        city = city_model.build_city(
            scenario.city,
            population=request.population,
            start_date=start,
            rng=rng_for(seed, "city"),
        )
        fleet = vessels.build_fleet(
            city, scenario.vessels, rng=rng_for(seed, "fleet"), first_place_id=city.places.num_rows
        )
        city = City(
            people=city.people,
            households=city.households,
            places=pa.concat_tables([city.places, fleet.places]),
            grids=city.grids,
        )
        plan = movement.prepare(city, scenario.movement, rng=rng_for(seed, "routine"))
        outbreak = Outbreak(
            city, scenario.outbreak, start_date=start, days=days, seed=seed, vessels=fleet.vessels
        )
        treatment = _treatment_centre(city)
        progress("city", 1, 1)
        journeys, trips = [], []
        for day in range(days):
            confined = outbreak.confined(day, treatment)
            at_sea = vessels.simulate_day(
                fleet,
                scenario.vessels,
                day=day,
                start_date=start,
                rng=rng_for(seed, "vessels", day),
                unavailable=confined.person_id,
            )
            moved = movement.simulate_day(
                plan,
                day=day,
                start_date=start,
                rng=rng_for(seed, "movement", day),
                fixed=FixedStays.concat([confined, at_sea.crew_stays]),
            )
            outbreak.step(day, moved.stays, at_sea.trips)
            writer.write_day("stays", day, moved.stays)
            writer.write_day("checkins", day, moved.checkins)
            writer.write_day("cell_records", day, moved.cell_records)
            writer.write_day("vessel_fixes", day, at_sea.fixes)
            journeys.append(moved.journeys)
            trips.append(at_sea.trips)
            progress("days", day + 1, days)
        for name, table in {
            "people": city.people,
            "households": city.households,
            "places": city.places,
            "grids": city.grids,
            "vessels": fleet.vessels,
            "crew": fleet.crew,
            "sea_trips": pa.concat_tables(trips),
            "journeys": pa.concat_tables(journeys),
            **outbreak.tables(),
        }.items():
            writer.write(name, table)
        manifest = {
            "scenario": scenario.name,
            "population": request.population,
            "days": days,
            "seed": seed,
            "start_date": start.isoformat(),
            "schema_version": SCHEMA_VERSION,
            "cordon_version": __version__,
            "parameters": scenario.model_dump(mode="json"),
            "outbreak": outbreak.summary(),
        }
        published = writer.publish(manifest)
    except BaseException:
        writer.abandon()
        raise
    return read_manifest(published)


def _treatment_centre(city: City) -> int:
    kinds = city.places.column("kind")
    ids = city.places.filter(pc.equal(kinds, "treatment_centre")).column("place_id")
    if len(ids) == 0:
        raise ValueError("the city has no treatment centre")
    return int(ids[0].as_py())


def load(*, session: Session, cipher: FieldCipher, folder: Path) -> dict[str, int]:
    """Put the lake's registry part (grids, places, households, people, vessels) into the
    database, keeping the lake's ids (database id = lake id + 1 for people and households).
    Movement tables stay in the lake, where the tracing engine reads them."""
    if not is_lake(folder):
        raise Invalid(
            "%(folder)s is not a Cordon lake (no manifest.json)", params=dict(folder=str(folder))
        ).as_error("folder")
    manifest = read_manifest(folder)
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise Invalid(
            "lake schema %(found)s, this Cordon reads %(reads)s",
            params=dict(found=manifest.get("schema_version"), reads=SCHEMA_VERSION),
        ).as_error("folder")
    if people_service.count_people(session=session):
        raise Invalid(
            "the database already holds people; load a lake into an empty registry"
        ).as_error("folder")

    grids = read_table(folder, "grids").to_pylist()
    places = read_table(folder, "places").to_pylist()
    households = read_table(folder, "households").to_pylist()
    people = read_table(folder, "people").to_pylist()
    vessels = read_table(folder, "vessels").to_pylist()
    geo_service.add_grids_bulk(
        session=session,
        rows=[
            {
                "code": g["grid_code"],
                "name": g["name"],
                "division_code": g["village_code"],
                "lon": g["lon"],
                "lat": g["lat"],
            }
            for g in grids
        ],
    )
    geo_service.add_places_bulk(
        session=session,
        rows=[
            {
                "id": p["place_id"],
                "kind": p["kind"],
                "name": p["name"],
                "lon": p["lon"],
                "lat": p["lat"],
                "cell_id": p["cell_id"],
                # Places outside the city (time away, coaches) stand for Fangchenggang.
                "division_code": p["village_code"] or OUTSIDE_DIVISION,
                "grid_code": p["grid_code"],
                "capacity": p["capacity"],
            }
            for p in places
        ],
    )
    address = {p["place_id"]: p["name"] for p in places if p["kind"] == "home"}
    # People who live elsewhere (visitors) are registered where they live, with their address
    # there and no grid of the city, not at their lodging; so are their parties' households.
    elsewhere = {
        p["household_id"]: {
            "address": p["residence_address"] or "",
            "division_code": p["residence_code"],
            "grid_code": None,
        }
        for p in people
        if p["visitor"] is not None
    }

    def lives(row: dict[str, Any]) -> dict[str, Any]:
        return elsewhere.get(row["household_id"]) or {
            "address": address.get(row["home_place_id"], ""),
            "division_code": row["village_code"],
            "grid_code": row["grid_code"],
        }

    loaded = people_service.load_registry(
        session=session,
        cipher=cipher,
        households=[
            {
                "id": h["household_id"] + 1,
                "number": f"S{h['household_id']:07d}",
                **lives(h),
            }
            for h in households
        ],
        people=[
            {
                "id": p["person_id"] + 1,
                "name": p["name"],
                "id_number": p["id_number"],
                "phone": p["phone"],
                "sex": p["sex"],
                "birth_date": p["birth_date"],
                "household_id": p["household_id"] + 1,
                **lives(p),
            }
            for p in people
        ],
    )
    harbour_village = {p["place_id"]: p["village_code"] for p in places}
    border_service.add_vessels(
        session=session,
        rows=[
            {
                "id": v["vessel_id"] + 1,
                "name": v["name"],
                "registration": v["registration"],
                "owner_person_id": v["owner_person_id"] + 1,
                "home_place_id": v["home_harbour_place_id"],
                "beidou": v["beidou"],
                "three_no": v["three_no"],
                "crew_size": v["crew_size"],
                "division_code": harbour_village[v["home_harbour_place_id"]],
            }
            for v in vessels
        ],
    )
    session.flush()
    return {
        "grids": len(grids),
        "places": len(places),
        "households": len(households),
        "people": loaded,
        "vessels": len(vessels),
    }


def outbreak_status(folder: Path) -> dict[str, Any] | None:
    """What the command centre would know by the lake's last day: cases found so far (not the
    hidden infections), the first detection and how it happened; None without a lake."""
    if not is_lake(folder):
        return None
    manifest = read_manifest(folder)
    summary = manifest.get("outbreak", {})
    start = date.fromisoformat(manifest["start_date"])
    first = summary.get("first_detection")
    return {
        "detected": int(summary.get("detected", 0)),
        "through": start + timedelta(days=int(manifest["days"]) - 1),
        "first_detected_at": first.get("time") if first else None,
        "first_detected_how": first.get("how") if first else None,
        "population": int(manifest["population"]),
    }


TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class DetectedCase:
    """A case the simulated city found, as the command centre would register it (registry
    person id: the lake's id + 1, as ``load`` numbers people)."""

    person_id: int
    symptomatic: bool
    onset: date | None
    sampled_at: datetime | None
    detected_at: datetime
    found_by: str  # routine_test | symptoms
    isolated_at: datetime | None


def detected_cases(folder: Path) -> list[DetectedCase]:
    """Every case detected by the lake's end, in detection order (none without a lake)."""
    if not is_lake(folder):
        return []
    disease = read_table(folder, "disease").to_pylist()
    # Millions of routine tests: each person's first positive sample, grouped in Arrow.
    tests = read_table(folder, "routine_tests")
    positives = tests.filter(tests.column("positive")).group_by("person_id")
    firsts = positives.aggregate([("sampled_at", "min")]).to_pydict()
    first_positive: dict[int, datetime] = dict(
        zip(firsts["person_id"], firsts["sampled_at_min"], strict=True)
    )
    found = sorted(
        (d for d in disease if d["detected_at"] is not None), key=lambda d: d["detected_at"]
    )
    return [
        DetectedCase(
            person_id=int(d["person_id"]) + 1,
            symptomatic=bool(d["symptomatic"]),
            onset=d["onset"].astimezone(TZ).date() if d["symptomatic"] and d["onset"] else None,
            # A case found by symptoms is sampled when it is found.
            sampled_at=first_positive.get(d["person_id"], d["detected_at"]),
            detected_at=d["detected_at"],
            found_by="routine_test" if d["detection"] == "routine_test" else "symptoms",
            isolated_at=d["isolated_at"],
        )
        for d in found
    ]
