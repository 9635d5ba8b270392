"""Screening at city scale: 1,000,000 sampling registrations in 10-in-1 tubes and their lab
results (a 100,000-row CSV), through Cordon's bulk path (COPY on PostgreSQL, executemany on
SQLite, one transaction), beside the naive peer: a per-row ORM insert of the same swabs,
flushed row by row (run on a slice and reported as rows/s). Also times coverage by grid over
the round. Synthetic people are written straight into the registry (no identity numbers are
encrypted: that is the people import's cost, measured in people_import).

BENCH_SCREENING_PEOPLE sets the size (default 1,000,000); PostgreSQL runs when
CORDON_TEST_POSTGRES_URL is set (its schema is dropped and recreated).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session

from cordon.auth.rules import permissions_of
from cordon.auth.schemas import Actor
from cordon.bulkwrite import insert_rows
from cordon.db import make_engine, make_session_factory, transaction
from cordon.geo import service as geo
from cordon.geo.models import Grid
from cordon.models import Base
from cordon.people.models import Person
from cordon.screening import bulk, coverage, labfiles, labs, service
from cordon.screening.models import Sample, Tube
from cordon.screening.schemas import RoundIn, SiteIn

PEOPLE = int(os.environ.get("BENCH_SCREENING_PEOPLE", "1000000"))
PEER_ROWS = int(os.environ.get("BENCH_SCREENING_PEER", "20000"))
POOL = 10
GRIDS_PER_VILLAGE = 25
ACTOR = Actor(None, "bench", "admin", "45", permissions_of("admin"), "bench")
START = datetime(2021, 12, 21, 0, 0, tzinfo=UTC)


def timed(label: str, results: dict[str, float], work: Callable[[], Any]) -> Any:
    began = time.perf_counter()
    out = work()
    results[label] = round(time.perf_counter() - began, 2)
    print(f"  {label}: {results[label]} s", flush=True)
    return out


def fresh(url: str) -> Engine:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    Base.metadata.create_all(engine)
    return engine


def city(session: Session, people: int) -> list[str]:
    geo.load_divisions(session=session)
    villages = sorted(
        code
        for (code,) in session.execute(
            text("SELECT code FROM divisions WHERE length(code) = 12 AND code LIKE '450681%'")
        )
    )
    grids = [f"{v}{g:03d}" for v in villages for g in range(1, GRIDS_PER_VILLAGE + 1)]
    session.execute(
        insert(Grid),
        [
            {
                "code": g,
                "name": f"网格{g[-5:]}",
                "division_code": g[:12],
                "lon": 108.0 + i / 5000,
                "lat": 21.5,
            }
            for i, g in enumerate(grids)
        ],
    )
    rows = [
        {
            "id": i + 1,
            "name": f"人{i}",
            "id_number_cipher": b"-",
            "id_number_hash": f"{i:064d}",
            "id_region": "450681",
            "id_last4": f"{i % 10000:04d}",
            "sex": "M" if i % 2 else "F",
            "birth_date": date(1960, 1, 1) + timedelta(days=i % 20000),
            "division_code": grids[i % len(grids)][:12],
            "grid_code": grids[i % len(grids)],
            "address": "",
            "phone_cipher": None,
            "phone_hash": None,
            "household_id": None,
            "created_at": START,
            "updated_at": START,
        }
        for i in range(people)
    ]
    insert_rows(session, Person.__tablename__, rows)  # the same COPY/executemany path as the swabs
    return grids


def ingest(url: str) -> dict[str, Any]:
    engine = fresh(url)
    factory = make_session_factory(engine)
    results: dict[str, Any] = {"backend": engine.dialect.name, "people": PEOPLE}
    with transaction(factory) as session:
        timed("registry_seconds", results, lambda: city(session, PEOPLE))
    with transaction(factory) as session:
        created = timed(
            "round_and_roster_seconds",
            results,
            lambda: service.create_round(
                session=session,
                actor=ACTOR,
                data=RoundIn(
                    name="bench",
                    division_code="450681",
                    starts_at=START,
                    ends_at=START + timedelta(days=1),
                    pooling={"other": POOL},  # type: ignore[arg-type]
                ),
            ),
        )
        site = service.add_site(
            session=session,
            actor=ACTOR,
            round_id=created.id,
            data=SiteIn(name="site", division_code="450681", tables=100, grids=[]),
        )
    swabs = [
        bulk.Swab(
            person_id=i + 1,
            tube=f"B{i // POOL:07d}",
            site_id=site.id,
            sampled_at=START + timedelta(seconds=i // 20),
        )
        for i in range(PEOPLE)
    ]
    with transaction(factory) as session:
        timed(
            "register_swabs_seconds",
            results,
            lambda: bulk.register_many(
                session=session, actor=ACTOR, round_id=created.id, swabs=swabs
            ),
        )
    tubes = sorted({s.tube for s in swabs})
    # 0.1 % of people infected at random pools: about 1 % of 10-in-1 tubes positive.
    lab = labfiles.write_csv(
        (t, "positive" if n % 97 == 0 else "negative", START + timedelta(hours=24), "bench lab")
        for n, t in enumerate(tubes)
    )
    with transaction(factory) as session:
        report = timed(
            "import_results_seconds",
            results,
            lambda: labs.import_results(
                session=session, actor=ACTOR, round_id=created.id, filename="lab.csv", data=lab
            ),
        )
    results["tubes"] = len(tubes)
    results["positive_tubes"] = len(report.positive_tubes)
    results["tasks"] = report.tasks_created
    results["ingest_seconds"] = round(
        results["register_swabs_seconds"] + results["import_results_seconds"], 2
    )
    with transaction(factory) as session:
        rows = timed(
            "coverage_by_grid_seconds",
            results,
            lambda: coverage.coverage(session=session, actor=ACTOR, round_id=created.id),
        )
        results["coverage_rows"] = len(rows)
    with transaction(factory) as session:
        again = timed(
            "reimport_same_file_seconds",
            results,
            lambda: labs.import_results(
                session=session, actor=ACTOR, round_id=created.id, filename="lab.csv", data=lab
            ),
        )
        results["reimport_changed"] = again.changed
    results.update(naive_peer(factory, created.id, site.id))
    results["bulk_swabs_per_second"] = round(PEOPLE / results["register_swabs_seconds"])
    results["speedup_vs_naive"] = round(
        results["bulk_swabs_per_second"] / results["naive_swabs_per_second"], 1
    )
    engine.dispose()
    return results


def naive_peer(factory: Any, round_id: int, site_id: int) -> dict[str, Any]:
    """The peer: one ORM object per swab and per tube, flushed one by one, as a per-row
    registration service would do (checks left out, which only favours it)."""
    with transaction(factory) as session:
        session.execute(
            text("DELETE FROM screening_samples WHERE person_id <= :n"), {"n": PEER_ROWS}
        )
        began = time.perf_counter()
        tube: Tube | None = None
        for i in range(PEER_ROWS):
            if i % POOL == 0:
                tube = Tube(
                    barcode=f"N{i // POOL:07d}",
                    round_id=round_id,
                    site_id=site_id,
                    capacity=POOL,
                    division_code="450681",
                    opened_at=START,
                )
                session.add(tube)
                session.flush()
            session.add(
                Sample(
                    round_id=round_id,
                    person_id=i + 1,
                    tube_id=tube.id if tube else 0,
                    site_id=site_id,
                    sampled_at=START,
                )
            )
            session.flush()
        seconds = time.perf_counter() - began
    return {
        "naive_rows": PEER_ROWS,
        "naive_seconds": round(seconds, 2),
        "naive_swabs_per_second": round(PEER_ROWS / seconds),
    }


def run() -> dict[str, Any]:
    out: dict[str, Any] = {
        "targets": {
            "postgresql_ingest_seconds": 60,
            "sqlite_ingest_seconds": 120,
            "coverage_seconds": 2,
        }
    }
    with tempfile.TemporaryDirectory() as folder:
        print("SQLite", flush=True)
        out["sqlite"] = ingest(f"sqlite:///{Path(folder) / 'bench.db'}")
    postgres = os.environ.get("CORDON_TEST_POSTGRES_URL")
    if postgres:
        print("PostgreSQL", flush=True)
        out["postgresql"] = ingest(postgres)
    return out
