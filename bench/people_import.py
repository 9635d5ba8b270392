"""People import: Cordon's checked import (one transaction, batched duplicate look-ups) against
the naive peer, a per-row ORM insert committed row by row, on SQLite and, when
CORDON_TEST_POSTGRES_URL is set, PostgreSQL. Reports rows/s and the ratio."""

from __future__ import annotations

import os
import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from cordon.auth.rules import permissions_of
from cordon.auth.schemas import Actor
from cordon.db import make_engine, make_session_factory, transaction
from cordon.geo import service as geo
from cordon.geo.schemas import GridIn
from cordon.models import Base
from cordon.people import imports
from cordon.people.models import Person
from cordon.people.rules import with_check_digit
from cordon.security.crypto import FieldCipher

ROWS = int(os.environ.get("BENCH_PEOPLE_ROWS", "5000"))
ACTOR = Actor(None, "bench", "admin", "45", permissions_of("admin"), "bench")
CIPHER = FieldCipher(field_key=b"f" * 32, lookup_key=b"l" * 32)
GRID = GridIn(code="450681100001001", name="网格1", division_code="450681100001")


def rows(n: int) -> list[tuple[int, dict[str, Any]]]:
    rng = random.Random(1)
    out = []
    for i in range(n):
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(25000))
        number = with_check_digit(f"450681{born:%Y%m%d}{i % 1000:03d}")
        out.append(
            (
                i + 2,
                {
                    "name": f"人{i}",
                    "id_number": number,
                    "grid_code": GRID.code,
                    "phone": f"138{rng.randrange(10**8):08d}",
                },
            )
        )
    # Make the numbers unique whatever the birth-date draw.
    seen: set[str] = set()
    unique = []
    for number, row in out:
        if row["id_number"] not in seen:
            seen.add(row["id_number"])
            unique.append((number, row))
    return unique


def fresh(url: str) -> Any:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as c:
            c.execute(text("DROP SCHEMA public CASCADE"))
            c.execute(text("CREATE SCHEMA public"))
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    with transaction(factory) as s:
        geo.load_divisions(session=s)
        geo.add_grid(session=s, grid=GRID)
    return engine, factory


def cordon_import(url: str, data: list[tuple[int, dict[str, Any]]]) -> float:
    engine, factory = fresh(url)
    start = time.perf_counter()
    with transaction(factory) as s:
        report = imports.import_people(session=s, actor=ACTOR, cipher=CIPHER, rows=data)
    elapsed = time.perf_counter() - start
    if report.written != len(data):
        raise RuntimeError(report.errors[:3])
    engine.dispose()
    return elapsed


def naive_insert(url: str, data: list[tuple[int, dict[str, Any]]]) -> float:
    """The peer: what a first version would do — one ORM insert and commit per row, no checks."""
    engine, factory = fresh(url)
    start = time.perf_counter()
    for _n, row in data:
        with transaction(factory) as s:
            number = row["id_number"]
            s.add(
                Person(
                    name=row["name"],
                    id_number_cipher=CIPHER.encrypt(number, context="person.id_number"),
                    id_number_hash=CIPHER.lookup_hash(number, context="person.id_number"),
                    id_region=number[:6],
                    id_last4=number[-4:],
                    sex="M",
                    birth_date=date(2000, 1, 1),
                    division_code=GRID.division_code,
                    grid_code=GRID.code,
                )
            )
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def run() -> dict[str, object]:
    data = rows(ROWS)
    urls = {"sqlite": f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"}
    if os.environ.get("CORDON_TEST_POSTGRES_URL"):
        urls["postgresql"] = os.environ["CORDON_TEST_POSTGRES_URL"]
    out: dict[str, object] = {"rows": len(data)}
    for name, url in urls.items():
        ours = cordon_import(url, data)
        peer = naive_insert(url, data)
        out[name] = {
            "cordon_import_s": round(ours, 3),
            "cordon_rows_per_s": round(len(data) / ours),
            "naive_per_row_orm_s": round(peer, 3),
            "naive_rows_per_s": round(len(data) / peer),
            "speedup_vs_naive": round(peer / ours, 2),
        }
    return out
