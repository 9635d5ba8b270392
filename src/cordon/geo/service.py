"""Loading and reading divisions and grids."""

from __future__ import annotations

import csv
import io
import json
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from cordon.errors import Invalid
from cordon.geo import rules
from cordon.geo.models import Division, Grid, Place
from cordon.geo.schemas import GridIn

# The pure rules other slices need, offered through this slice's public face.
is_within = rules.is_within
normalise_code = rules.normalise_code
BadDivisionCode = rules.BadDivisionCode

DIVISION_FILES = (
    "admin_divisions_guangxi.csv",
    "admin_divisions_450681.csv",
    # Where visitors and travellers come from and go to (see data/SOURCES.md).
    "admin_divisions_guangdong.csv",
)


def _data_text(name: str) -> str:
    return resources.files("cordon.geo").joinpath("data", name).read_text(encoding="utf-8")


def packaged_divisions() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for name in DIVISION_FILES:
        rows.extend(csv.DictReader(io.StringIO(_data_text(name))))
    return rows


def load_divisions(*, session: Session) -> int:
    """Insert the packaged divisions that are not there yet; returns how many were added."""
    known = set(session.scalars(select(Division.code)))
    added = 0
    for row in packaged_divisions():  # parents come before children in the files
        if row["code"] in known:
            continue
        session.add(
            Division(
                code=row["code"],
                name=row["name"],
                level=row["level"],
                parent_code=row["parent_code"] or None,
            )
        )
        known.add(row["code"])
        added += 1
    session.flush()
    return added


def get_division(*, session: Session, code: str) -> Division | None:
    return session.get(Division, code)


def require_division(*, session: Session, code: str, field: str = "division_code") -> Division:
    """The division with this code, or a validation error naming ``field``."""
    try:
        normal = rules.normalise_code(code)
    except rules.BadDivisionCode as exc:
        raise exc.as_error(field) from exc
    division = session.get(Division, normal)
    if division is None:
        raise Invalid("unknown division code '%(code)s'", params=dict(code=code)).as_error(field)
    return division


def children(*, session: Session, code: str) -> list[Division]:
    return list(session.scalars(select(Division).where(Division.parent_code == code)))


def divisions_within(*, session: Session, code: str) -> list[Division]:
    """The division ``code`` and every division inside it, by code (for choosing a
    jurisdiction by name)."""
    query = select(Division).where(Division.code.startswith(code), Division.level != "village")
    return list(session.scalars(query.order_by(Division.code)))


def divisions_named(*, session: Session, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = session.execute(select(Division.code, Division.name).where(Division.code.in_(codes)))
    return {code: name for code, name in rows}


def grids_named(*, session: Session, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = session.execute(select(Grid.code, Grid.name).where(Grid.code.in_(codes)))
    return {code: name for code, name in rows}


def add_grid(*, session: Session, grid: GridIn) -> Grid:
    village = require_division(session=session, code=grid.division_code)
    if village.level != "village" or not grid.code.startswith(village.code):
        raise Invalid(
            "grid '%(grid)s' must be numbered under its village %(village)s",
            params=dict(grid=grid.code, village=village.code),
        ).as_error("code")
    row = Grid(
        code=grid.code, name=grid.name, division_code=village.code, lon=grid.lon, lat=grid.lat
    )
    session.add(row)
    session.flush()
    return row


def get_grid(*, session: Session, code: str) -> Grid | None:
    return session.get(Grid, code)


def preload(*, session: Session, grid_codes: set[str]) -> list[object]:
    """Load every division and these grids in a few queries, for validating many rows.

    Keep the returned list while working: the session's identity map holds objects weakly,
    so later ``get`` calls find them without a query only while something references them."""
    found: list[object] = list(session.scalars(select(Division)))
    codes = sorted(grid_codes)
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        found.extend(session.scalars(select(Grid).where(Grid.code.in_(chunk))))
    return found


def grids_within(*, session: Session, code: str) -> list[Grid]:
    return list(session.scalars(select(Grid).where(Grid.code.startswith(code)).order_by(Grid.code)))


@cache
def boundary_geojson(name: str = "fangchenggang_counties.geojson") -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_data_text(name))
    return data


@cache
def town_seats() -> dict[str, tuple[float, float]]:
    """Approximate (lon, lat) of each Dongxing town seat (see data/SOURCES.md)."""
    reader = csv.DictReader(io.StringIO(_data_text("town_seats.csv")))
    return {row["code"]: (float(row["lon"]), float(row["lat"])) for row in reader}


def add_grids_bulk(*, session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert many grids (code, name, division_code, lon, lat) at once, e.g. from a lake;
    grids already registered are kept as they are. Returns how many were added."""
    known = set(session.scalars(select(Grid.code)))
    new = [row for row in rows if row["code"] not in known]
    if new:
        session.execute(insert(Grid), new)
    return len(new)


def add_places_bulk(*, session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert many places with their ids (from the simulator's lake)."""
    for start in range(0, len(rows), 10_000):
        session.execute(insert(Place), rows[start : start + 10_000])
    return len(rows)


def place_names(*, session: Session, place_ids: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for start in range(0, len(place_ids), 500):
        chunk = place_ids[start : start + 500]
        rows = session.execute(select(Place.id, Place.name).where(Place.id.in_(chunk)))
        found.update({pid: name for pid, name in rows})
    return found


def places_located(
    *, session: Session, place_ids: list[int]
) -> dict[int, tuple[str, str, float, float]]:
    """Name, kind, longitude and latitude of each place, for maps of trajectories."""
    found: dict[int, tuple[str, str, float, float]] = {}
    for start in range(0, len(place_ids), 500):
        chunk = place_ids[start : start + 500]
        rows = session.execute(
            select(Place.id, Place.name, Place.kind, Place.lon, Place.lat).where(
                Place.id.in_(chunk)
            )
        )
        found.update({pid: (name, kind, lon, lat) for pid, name, kind, lon, lat in rows})
    return found
