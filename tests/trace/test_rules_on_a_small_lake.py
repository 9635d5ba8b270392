"""The contact definitions on a hand-made lake where every answer is known (acceptance 2)."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from cordon.lake.schemas import BY_DAY, SCHEMA_VERSION, TABLES
from cordon.lake.writer import LakeWriter
from cordon.protocols import packs
from cordon.protocols.packs import ResidencyFilter
from cordon.trace.duckdb_store import DuckDBStore
from cordon.trace.engine import trace
from cordon.trace.rules import IndexCase

START = date(2021, 12, 1)
DAY0 = int(datetime.combine(START, time(0), tzinfo=ZoneInfo("Asia/Shanghai")).timestamp())
H = 3600
CASE, COLLEAGUE, HOUSEMATE, EARLY_HOUSEMATE, PASSER_BY, PHONE_NEIGHBOUR, OLD_COLLEAGUE = range(7)
OTHER_CLASS = 7  # a pupil of another class at the case's school
WORK, HOME_B, SCHOOL, MARKET, CELL = 10, 20, 30, 40, 4242
CLASS_OF = {CASE: 1, OTHER_CLASS: 2}


def at(day: int, hour: float) -> int:
    return DAY0 + day * 86_400 + int(hour * H)


# (day, person, place, start hour, end hour, setting)
STAYS = [
    (0, COLLEAGUE, HOME_B, 18, 24, "household"),
    (0, EARLY_HOUSEMATE, HOME_B, 18, 24, "household"),  # only before the colleague's exposure
    (0, CASE, WORK, 9, 12, "work"),
    (0, OLD_COLLEAGUE, WORK, 9, 12, "work"),  # 3 days before onset: inside E9's window only
    (2, CASE, WORK, 9, 12, "work"),
    (2, COLLEAGUE, WORK, 9, 12, "work"),  # 3 h with the case: close
    (2, PASSER_BY, WORK, 11.9, 12.0, "work"),  # 6 min with the case: below the 15 min minimum
    (2, COLLEAGUE, HOME_B, 18, 24, "household"),
    (2, HOUSEMATE, HOME_B, 18, 24, "household"),  # with the close contact after exposure
    # Six lessons side by side in different classes (not contacts), then a market together.
    *((1, who, SCHOOL, 8 + k, 8.75 + k, "class") for k in range(6) for who in (CASE, OTHER_CLASS)),
    (2, CASE, MARKET, 13, 14, "venue"),
    (2, OTHER_CLASS, MARKET, 13, 14, "venue"),
]
CELLS = [
    (2, CASE, CELL, 9, 12),
    (2, PHONE_NEIGHBOUR, CELL, 11, 11.5),  # 30 min in the case's cell: companion
    (2, PASSER_BY, CELL, 11.9, 12.0),  # 6 min: not a companion
]


# Where each person works (people.work_place_id): co-workers are told from customers by it.
WORKS_AT = {CASE: WORK, COLLEAGUE: WORK, OLD_COLLEAGUE: WORK, PASSER_BY: WORK}

Stay = tuple[int, int, int, float, float, str]  # day, person, place, start h, end h, setting
Record = tuple[int, int, int, float, float]  # day, person, cell, start h, end h


def write_lake(
    out: Path,
    days: int,
    stays: list[Stay],
    cells: list[Record],
    *,
    classes: dict[int, int],
    works_at: dict[int, int],
    sites: dict[int, tuple[str, int]] | None = None,
) -> Path:
    """A lake of these stays and cell records (hours of each day), with the people's classes
    and work places (everyone who moves is a person of the lake), and places as ``sites``
    says (place: kind and the site it is a section of; none: an empty places table)."""
    writer = LakeWriter(out)
    for name, schema in TABLES.items():
        if name not in BY_DAY and name not in ("people", "places"):
            writer.write(name, schema.empty_table())
    people = sorted({s[1] for s in stays} | {c[1] for c in cells} | classes.keys())
    writer.write(
        "people",
        _filled(
            TABLES["people"],
            len(people),
            person_id=pa.array(people, pa.int32()),
            class_id=pa.array([classes.get(p) for p in people], pa.int32()),
            work_place_id=pa.array([works_at.get(p) for p in people], pa.int32()),
        ),
    )
    places = sorted((sites or {}).items())
    writer.write(
        "places",
        _filled(
            TABLES["places"],
            len(places),
            place_id=pa.array([p for p, _ in places], pa.int32()),
            kind=pa.array([k for _, (k, _) in places], pa.string()),
            site_id=pa.array([site for _, (_, site) in places], pa.int32()),
        ),
    )
    for day in range(days):
        rows = [s for s in stays if s[0] == day]
        writer.write_day(
            "stays",
            day,
            pa.table(
                {
                    "day": pa.array([r[0] for r in rows], pa.int16()),
                    "person_id": pa.array([r[1] for r in rows], pa.int32()),
                    "place_id": pa.array([r[2] for r in rows], pa.int32()),
                    "start": _times([at(r[0], r[3]) for r in rows]),
                    "end": _times([at(r[0], r[4]) for r in rows]),
                    "setting": pa.array([r[5] for r in rows], pa.string()),
                    "cell_id": pa.array([CELL] * len(rows), pa.int64()),
                },
                schema=TABLES["stays"],
            ),
        )
        records = [c for c in cells if c[0] == day]
        writer.write_day(
            "cell_records",
            day,
            pa.table(
                {
                    "day": pa.array([c[0] for c in records], pa.int16()),
                    "person_id": pa.array([c[1] for c in records], pa.int32()),
                    "cell_id": pa.array([c[2] for c in records], pa.int64()),
                    "start": _times([at(c[0], c[3]) for c in records]),
                    "end": _times([at(c[0], c[4]) for c in records]),
                },
                schema=TABLES["cell_records"],
            ),
        )
        for name in ("checkins", "vessel_fixes"):
            writer.write_day(name, day, TABLES[name].empty_table())
    writer.publish(
        {"schema_version": SCHEMA_VERSION, "start_date": START.isoformat(), "days": days}
    )
    return out


def _filled(schema: pa.Schema, rows: int, **given: pa.Array) -> pa.Table:
    """A table of ``schema`` with the ``given`` columns, every other one null."""
    return pa.table([given.get(f.name, pa.nulls(rows, f.type)) for f in schema], schema=schema)


def _times(seconds: list[int]) -> pa.Array:
    return pa.array(seconds, pa.int64()).cast(pa.timestamp("s", "UTC"))


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small") / "lake"
    return write_lake(out, 3, STAYS, CELLS, classes=CLASS_OF, works_at=WORKS_AT)


def kinds(lake: Path, pack_name: str = "guangxi-2021-12") -> dict[int, str]:
    """Kinds under the pack's settings, secondary contacts traced from every close contact (the
    packs' floor on that is tested in test_pack_settings.py)."""
    case = IndexCase(CASE, onset=at(3, 8), sampled=None, isolated=at(3, 0))
    pack = packs.load(pack_name).model_copy(update={"secondary_from_score": None})
    return {c.person_id: c.kind for c in trace([case], pack, DuckDBStore(lake))}


def test_close_secondary_and_companion_are_told_apart(lake: Path) -> None:
    found = kinds(lake)
    assert found[COLLEAGUE] == "close"
    assert found[HOUSEMATE] == "secondary"  # a household member of a close contact
    assert found[PHONE_NEIGHBOUR] == "companion"


def test_a_pupil_of_another_class_met_elsewhere_is_a_close_contact(lake: Path) -> None:
    """Six lessons side by side are no contact (another class); the market afterwards is. The
    classroom rule must be applied before each person's earliest few overlaps are kept."""
    assert kinds(lake)[OTHER_CLASS] == "close"
    case = IndexCase(CASE, onset=at(3, 8), sampled=None, isolated=at(3, 0))
    found = trace([case], packs.load(), DuckDBStore(lake))
    other = next(c for c in found if c.person_id == OTHER_CLASS)
    assert {e.place_id for e in other.evidence if e.kind == "close"} == {MARKET}


def test_secondary_contacts_respect_the_close_contacts_own_window(lake: Path) -> None:
    assert EARLY_HOUSEMATE not in kinds(lake)


def test_an_overlap_below_the_pack_minimum_is_not_a_close_contact(lake: Path) -> None:
    assert PASSER_BY not in kinds(lake)


def test_the_pack_changes_the_result(lake: Path) -> None:
    # Onset on day 3 at 08:00: E8 looks back 2 days (from day 1), E9 4 days (from day -1).
    assert OLD_COLLEAGUE not in kinds(lake, "guangxi-2021-12")
    assert kinds(lake, "e9-2022-06")[OLD_COLLEAGUE] == "close"


def test_the_residency_filter_drops_companions_who_live_in_the_cell(lake: Path) -> None:
    """Chengdu's variant: not a companion when either phone spent > N h in that cell in the
    last 14 days. The case spent 3 h in the cell, the neighbour 30 min."""
    case = IndexCase(CASE, onset=at(3, 8), sampled=None, isolated=at(3, 0))
    base = packs.load()

    def companions(min_hours: float) -> set[int]:
        rule = base.companion.model_copy(
            update={"residency_filter": ResidencyFilter(min_hours=min_hours, within_days=14)}
        )
        pack = base.model_copy(update={"companion": rule})
        found = trace([case], pack, DuckDBStore(lake), kinds={"companion"})
        return {c.person_id for c in found}

    assert companions(4) == {PHONE_NEIGHBOUR}  # neither phone lives there
    assert companions(2) == set()  # the case's phone spent 3 h there: a resident of the cell
    assert companions(0.25) == set()  # and at 15 min the neighbour counts as one too
