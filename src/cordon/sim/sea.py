"""Geometry of the sea off Dongxing that the simulated fleet sails: the fairway along the coast,
the fishing grounds, and the maritime border with Vietnam.

All figures are approximate (a few hundred metres to a kilometre), chosen to agree with the
coarse Dongxing boundary in ``geo/data/dongxing.geojson``:

* Dongxing's coast runs from the Beilun estuary (~107.96E 21.53N) east to Pearl Bay (~108.2E
  21.52N); the Jiangshan peninsula (Fangcheng district) reaches south to ~108.21E 21.49N.
* The maritime border follows the Beilun estuary south-east to its mouth and then the first
  turning points of the 2000 China–Vietnam Beibu Gulf delimitation: point 1 at the river mouth
  (21°28′N 108°06′E), south to ~21°17′N 108°09′E, then south-south-west. China's side is east
  of the line (north of the estuary leg).
* The fairway is a lane 1.5–2.5 km off the coast, east of the border; boats leave their harbour
  straight to the nearest point of the lane and follow it east until they have a clear run to
  the fishing grounds, a box of open sea entirely on China's side (21.0–21.47N, 108.17–108.6E),
  or to a point near the border.

Positions are handled in a local plane (km east and north of ``ORIGIN``); the scale error is
well under 1 % across the area.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

ORIGIN = (108.0, 21.5)
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON = 111.320 * math.cos(math.radians(21.3))
KM_PER_NAUTICAL_MILE = 1.852

# (lon, lat), north to south: Beilun estuary, river mouth (delimitation point 1), then the line.
BORDER = np.array(
    [
        (107.960, 21.530),
        (108.000, 21.500),
        (108.101, 21.470),
        (108.147, 21.276),
        (107.943, 20.401),
    ]
)
# (lon, lat), west to east: the fairway off Dongxing's coast. Boats join it at the point nearest
# their harbour and follow it east until they can head straight for where they are going.
FAIRWAY = np.array(
    [
        (107.985, 21.527),
        (108.020, 21.512),
        (108.060, 21.500),
        (108.100, 21.493),
        (108.170, 21.488),
    ]
)
# (lon, lat), west to east: the northern edge of open water: the fairway, then south of the
# Jiangshan peninsula. South of it and east of the border there is no land (≥ 0.8 km off any
# shore of Fangchenggang's county polygons).
OPEN_WATER_NORTH = np.vstack([FAIRWAY, [(108.200, 21.482), (108.240, 21.472), (108.650, 21.472)]])
BORDER_MARGIN_KM = 0.3  # routes keep at least this far on China's side
# Fishing grounds on China's side: lon_min, lat_min, lon_max, lat_max (convex: any segment
# between two points inside stays inside, at sea and on China's side).
GROUNDS = (108.17, 21.0, 108.6, 21.47)
# Rendezvous points are placed at these latitudes, between the grounds and the border.
RENDEZVOUS_LAT = (21.05, 21.44)


def to_km(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    x = (np.asarray(lon, dtype=np.float64) - ORIGIN[0]) * KM_PER_DEG_LON
    y = (np.asarray(lat, dtype=np.float64) - ORIGIN[1]) * KM_PER_DEG_LAT
    return x, y


def to_lonlat(x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    lon = np.asarray(x, dtype=np.float64) / KM_PER_DEG_LON + ORIGIN[0]
    lat = np.asarray(y, dtype=np.float64) / KM_PER_DEG_LAT + ORIGIN[1]
    return lon, lat


def border_lon(lat: npt.ArrayLike) -> FloatArray:
    """Longitude of the border line at each latitude (the line runs monotonically south)."""
    lon: FloatArray = np.interp(np.asarray(lat, dtype=np.float64), BORDER[::-1, 1], BORDER[::-1, 0])
    return lon


def km_east_of_border(lon: npt.ArrayLike, lat: npt.ArrayLike) -> FloatArray:
    """Signed east-west distance (km) from the border at the same latitude; > 0 on China's side."""
    lat = np.asarray(lat, dtype=np.float64)
    return (np.asarray(lon, dtype=np.float64) - border_lon(lat)) * KM_PER_DEG_LON


def grounds_km() -> tuple[float, float, float, float]:
    """The fishing grounds as (x_min, y_min, x_max, y_max) in km."""
    (x0, x1), (y0, y1) = to_km([GROUNDS[0], GROUNDS[2]], [GROUNDS[1], GROUNDS[3]])
    return float(x0), float(y0), float(x1), float(y1)


def open_water(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """At sea (south of the coast's fairway), inside the simulated area, on China's side."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    north = np.interp(lon, OPEN_WATER_NORTH[:, 0], OPEN_WATER_NORTH[:, 1])
    inside = (lon >= OPEN_WATER_NORTH[0, 0]) & (lon <= OPEN_WATER_NORTH[-1, 0]) & (lat >= 20.5)
    result: npt.NDArray[np.bool_] = (
        inside & (lat <= north + 1e-9) & (km_east_of_border(lon, lat) >= BORDER_MARGIN_KM - 1e-9)
    )
    return result


def clear(a: npt.ArrayLike, b: npt.ArrayLike, step_km: float = 0.2) -> npt.NDArray[np.bool_]:
    """Whether the straight run from each start ``a`` (km, shape (2,) or (k, 2)) to ``b`` (km)
    stays in open water; sampled every ``step_km``."""
    starts = np.atleast_2d(np.asarray(a, dtype=np.float64))
    end = np.asarray(b, dtype=np.float64)
    n = max(2, int(np.hypot(*(starts - end).T).max() / step_km) + 1)
    f = np.linspace(0.0, 1.0, n)[None, :]
    x = starts[:, :1] + f * (end[0] - starts[:, :1])
    y = starts[:, 1:] + f * (end[1] - starts[:, 1:])
    lon, lat = to_lonlat(x, y)
    ok: npt.NDArray[np.bool_] = np.all(open_water(lon, lat), axis=1)
    return ok


@lru_cache(maxsize=4096)
def _way_out(lon: float, lat: float) -> FloatArray:
    """The harbour, the nearest point of the fairway, and the fairway's points east of it (km)."""
    hx, hy = to_km(lon, lat)
    fx, fy = to_km(FAIRWAY[:, 0], FAIRWAY[:, 1])
    ax, ay, bx, by = fx[:-1], fy[:-1], fx[1:], fy[1:]
    dx, dy = bx - ax, by - ay
    t = np.clip(((hx - ax) * dx + (hy - ay) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
    px, py = ax + t * dx, ay + t * dy
    seg = int(np.argmin((px - hx) ** 2 + (py - hy) ** 2))
    points = np.vstack(
        [[hx, hy], [px[seg], py[seg]], np.column_stack([fx[seg + 1 :], fy[seg + 1 :]])]
    )
    keep = np.r_[True, np.hypot(*np.diff(points, axis=0).T) > 1e-6]  # a repeated point
    path = points[keep]
    path.flags.writeable = False
    return path


def route(lon: float, lat: float, target: FloatArray) -> FloatArray:
    """Waypoints (km, shape (n, 2)) from a harbour at (lon, lat) to ``target`` (km, in open
    water): straight to the nearest point of the fairway, along it east until the target is in
    a clear line, and on to the target; if it never is, via the north-west corner of the
    grounds (from which every point of the grounds is clear)."""
    way = _way_out(float(lon), float(lat))
    target = np.asarray(target, dtype=np.float64)
    ok = clear(way[1:], target)
    if ok.any():
        return np.vstack([way[: int(np.argmax(ok)) + 2], target])
    gx0, _, _, gy1 = grounds_km()
    return np.vstack([way, [gx0, gy1], target])


def clip_to_grounds(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    gx0, gy0, gx1, gy1 = grounds_km()
    return np.clip(x, gx0, gx1), np.clip(y, gy0, gy1)
