"""The 800 m × 800 m grid cells that phone-cell records and the companion rule use.

A fixed equirectangular projection around an origin south-west of Guangxi turns lon/lat into
metres; cells are 800 m squares counted from that origin. Within Guangxi (≈ 5° × 6°) the
projection's scale error stays under 5 %, well inside the precision of tower locations. A cell
id packs (column, row) as ``column * 100_000 + row``; both are non-negative for any point east
of 100° E and north of 18° N.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

CELL_METRES = 800.0
ORIGIN_LON = 100.0
ORIGIN_LAT = 18.0
REFERENCE_LAT = 22.0  # metres per degree of longitude are taken at this latitude
METRES_PER_DEG_LAT = 110_574.0
METRES_PER_DEG_LON = 111_320.0 * math.cos(math.radians(REFERENCE_LAT))
ROW_SPAN = 100_000


def cell_of(
    lon: npt.ArrayLike, lat: npt.ArrayLike, size: float = CELL_METRES
) -> npt.NDArray[np.int64]:
    """The cell id of each point (vectorised)."""
    x = (np.asarray(lon, dtype=np.float64) - ORIGIN_LON) * METRES_PER_DEG_LON
    y = (np.asarray(lat, dtype=np.float64) - ORIGIN_LAT) * METRES_PER_DEG_LAT
    column = np.floor(x / size).astype(np.int64)
    row = np.floor(y / size).astype(np.int64)
    return column * ROW_SPAN + row


def cell_centre(
    cell: npt.ArrayLike, size: float = CELL_METRES
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(lon, lat) of the centre of each cell."""
    ids = np.asarray(cell, dtype=np.int64)
    column, row = ids // ROW_SPAN, ids % ROW_SPAN
    lon = ORIGIN_LON + (column + 0.5) * size / METRES_PER_DEG_LON
    lat = ORIGIN_LAT + (row + 0.5) * size / METRES_PER_DEG_LAT
    return lon.astype(np.float64), lat.astype(np.float64)


def neighbours(cell: int) -> list[int]:
    """The eight cells around one cell (a tower in a neighbouring cell may serve a phone)."""
    column, row = divmod(int(cell), ROW_SPAN)
    return [
        (column + dc) * ROW_SPAN + (row + dr) for dc in (-1, 0, 1) for dr in (-1, 0, 1) if dc or dr
    ]
