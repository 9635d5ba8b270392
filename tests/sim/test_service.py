"""Running a scenario end to end: validation, the written lake, determinism, atomicity, load."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from cordon.db import transaction
from cordon.errors import ValidationFailed
from cordon.lake.reader import read_table
from cordon.lake.schemas import BY_DAY, TABLES
from cordon.lake.writer import read_manifest
from cordon.security.crypto import FieldCipher
from cordon.sim import service
from cordon.sim.service import RunRequest

POPULATION = 3_000
DAYS = 3


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "lake"
    service.run(RunRequest("dongxing-2021", POPULATION, DAYS, 7, out))
    return out


def tables(folder: Path) -> dict[str, pa.Table]:
    return {name: read_table(folder, name) for name in TABLES}


def test_the_lake_has_every_table_and_a_manifest(lake: Path) -> None:
    manifest = read_manifest(lake)
    assert manifest["scenario"] == "dongxing-2021" and manifest["seed"] == 7
    assert manifest["row_counts"]["people"] == POPULATION
    for name in BY_DAY:
        assert sorted(p.name for p in (lake / name).iterdir()) == [
            f"day={d:03d}" for d in range(DAYS)
        ]
    for name, table in tables(lake).items():
        assert table.schema.equals(TABLES[name]), name
        assert table.num_rows == manifest["row_counts"][name], name


def test_same_seed_same_contents_other_seed_differs(lake: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    service.run(RunRequest("dongxing-2021", POPULATION, DAYS, 7, again))
    first, second = tables(lake), tables(again)
    assert all(first[name].equals(second[name]) for name in TABLES)
    assert read_manifest(lake) == read_manifest(again)
    other = tmp_path / "other"
    service.run(RunRequest("dongxing-2021", POPULATION, DAYS, 8, other))
    assert not tables(other)["stays"].equals(first["stays"])


@pytest.mark.parametrize(
    ("request_args", "fields"),
    [
        ({"population": 0}, {"population"}),
        ({"population": -5, "days": 0}, {"population", "days"}),
        ({"days": 10_000}, {"days"}),
        ({"scenario": "atlantis"}, {"scenario"}),
    ],
)
def test_bad_parameters_name_the_field_and_write_nothing(
    tmp_path: Path, request_args: dict[str, object], fields: set[str]
) -> None:
    args: dict[str, object] = {
        "scenario": "dongxing-2021",
        "population": 100,
        "days": 1,
        "seed": 1,
        "out": tmp_path / "lake",
    }
    args.update(request_args)
    with pytest.raises(ValidationFailed) as caught:
        service.run(RunRequest(**args))  # type: ignore[arg-type]
    assert {p.field for p in caught.value.problems} == fields
    assert list(tmp_path.iterdir()) == []


def test_a_folder_holding_another_lake_is_refused(lake: Path) -> None:
    before = sorted(p.name for p in lake.iterdir())
    with pytest.raises(ValidationFailed) as caught:
        service.run(RunRequest("dongxing-2021", 100, 1, 1, lake))
    assert caught.value.problems[0].field == "out"
    assert "already holds a lake" in caught.value.problems[0].message
    assert sorted(p.name for p in lake.iterdir()) == before


def test_a_failed_run_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(service.LakeWriter, "write_day", explode)
    with pytest.raises(RuntimeError):
        service.run(RunRequest("dongxing-2021", 200, 1, 1, tmp_path / "lake"))
    assert list(tmp_path.iterdir()) == []


def test_load_puts_the_registry_in_the_database(
    lake: Path, session_factory: sessionmaker[Session], cipher: FieldCipher
) -> None:
    with transaction(session_factory) as session:
        counts = service.load(session=session, cipher=cipher, folder=lake)
    assert counts["people"] == POPULATION
    people = read_table(lake, "people")
    with transaction(session_factory) as session:
        assert session.execute(text("SELECT count(*) FROM people")).scalar() == POPULATION
        row = session.execute(text("SELECT id, name, division_code FROM people WHERE id = 1")).one()
        assert (row.name, row.division_code) == (
            people.column("name")[0].as_py(),
            people.column("village_code")[0].as_py(),
        )
        assert (
            session.execute(text("SELECT count(*) FROM places")).scalar()
            == read_table(lake, "places").num_rows
        )
        # People who live elsewhere are registered where they live, with their home address
        # there and no grid of the city; so is their party's household.
        visitors = people.filter(people.column("visitor").is_valid()).to_pylist()
        assert visitors
        for v in visitors[:50]:
            row = session.execute(
                text(
                    "SELECT p.division_code, p.address, p.grid_code, d.level, h.division_code AS"
                    " household_division FROM people p JOIN divisions d ON d.code ="
                    " p.division_code JOIN households h ON h.id = p.household_id WHERE p.id = :i"
                ),
                {"i": v["person_id"] + 1},
            ).one()
            assert row.division_code == v["residence_code"] != "450681"
            assert row.level == "county" and row.grid_code is None
            assert row.address == v["residence_address"]
            assert row.household_division == v["residence_code"]
    with transaction(session_factory) as session, pytest.raises(ValidationFailed):
        service.load(session=session, cipher=cipher, folder=lake)
