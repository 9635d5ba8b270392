"""Where things are in the synthetic Dongxing: its real boundary, towns and villages, and the
landmarks (border crossing, port, fishing harbours, hospitals, treatment centre).

The packaged data has the city's polygon and the codes of its 3 towns and 42 villages, but no
village polygons. So village centres are laid out once, deterministically (independent of the
run's seed: the geography of the city does not change with the seed):

* each town's territory is the part of the polygon nearer to its seat than to the other seats;
* the town's communities (社区, codes ``…0xx``) sit on a small ring around the seat;
* the coastal villages with fishing harbours are pinned by hand near their real places
  (竹山 at the Beilun River mouth, 潭吉, and the Jing islands 巫头, 山心, 万尾/尾村);
* the other villages are spread evenly over the town's territory (farthest-point sampling).

Landmark positions are approximate (± 1 km), placed by hand from public maps, and kept inside
the boundary with a margin. Everything here is plain data for ``city.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import shape

from cordon.geo import service as geo

COUNTY_CODE = "450681"
KM_PER_DEG = 111.0
# Inward margin for every generated point, so the coarse (≈100 m) polygon keeps them inside.
MARGIN_DEG = 0.002

# Villages pinned by hand: code → (lon, lat, harbour name or "").
PINNED: dict[str, tuple[float, float, str]] = {
    "450681100201": (108.030, 21.556, "竹山渔港"),  # 竹山村, Beilun River mouth
    "450681101205": (108.062, 21.548, ""),  # 潭吉村, site of the port
    "450681101215": (108.112, 21.530, "巫头渔港"),  # 巫头 (Jing island)
    "450681101209": (108.152, 21.527, "山心渔港"),  # 山心 (Jing island)
    "450681101201": (108.185, 21.532, "万尾渔港"),  # 尾村 / 万尾 (Jing island)
}


@dataclass(frozen=True)
class Landmark:
    kind: str  # a PLACE_KINDS value
    name: str
    lon: float
    lat: float
    village_code: str


# Fixed places of the city (harbours come from PINNED).
LANDMARKS: tuple[Landmark, ...] = (
    Landmark("border_crossing", "东兴口岸", 107.970, 21.546, "450681100004"),
    Landmark("market", "东兴边民互市贸易区", 107.976, 21.548, "450681100004"),
    Landmark("port", "东兴港潭吉港区", 108.064, 21.542, "450681101205"),
    Landmark("hospital", "东兴市人民医院", 107.973, 21.553, "450681100006"),
    Landmark("hospital", "东兴市中医医院", 107.980, 21.557, "450681100003"),
    Landmark("hospital", "江平镇中心卫生院", 108.092, 21.602, "450681101001"),
    Landmark("hospital", "马路镇中心卫生院", 108.001, 21.662, "450681102001"),
    Landmark("treatment_centre", "东兴市公共卫生救治中心", 107.990, 21.572, "450681100007"),
)
# The pseudo-place for time spent outside the city: Fangchenggang's city seat (港口区), which
# lies outside Dongxing, so no stay there falls into a Dongxing cell.
OUTSIDE_CITY = Landmark("outside_city", "东兴市外", 108.354, 21.687, "")


@dataclass(frozen=True)
class Villages:
    """The 42 village-level divisions, in code order, with laid-out centres."""

    code: npt.NDArray[np.str_]
    name: npt.NDArray[np.str_]
    short: npt.NDArray[np.str_]  # "东郊社区", "竹山村"
    town_index: npt.NDArray[np.int64]  # into TOWN_CODES
    urban: npt.NDArray[np.bool_]  # a community (社区), not a rural village
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    radius: npt.NDArray[np.float64]  # degrees: spread of homes around the centre
    harbour: npt.NDArray[np.str_]  # "" or the name of the village's fishing harbour


@dataclass(frozen=True)
class Towns:
    code: npt.NDArray[np.str_]
    name: npt.NDArray[np.str_]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]


def short_name(name: str) -> str:
    """ "东郊社区居委会" → "东郊社区", "竹山村村委会" → "竹山村", "江龙村委会" → "江龙村"."""
    if name.endswith("居委会"):
        return name.removesuffix("居委会")
    stem = name.removesuffix("村委会")
    return stem if stem.endswith("村") else stem + "村"


@cache
def boundary() -> shapely.Polygon:
    """Dongxing's polygon, repaired (the source has tiny self-intersections)."""
    raw = shape(geo.boundary_geojson("dongxing.geojson")["features"][0]["geometry"])
    parts = [p for p in shapely.get_parts(shapely.make_valid(raw)) if p.geom_type == "Polygon"]
    polygon: shapely.Polygon = max(parts, key=lambda p: p.area)
    return polygon


@cache
def inner() -> shapely.Polygon:
    """The boundary shrunk by the margin: generated points are kept inside this."""
    shrunk: shapely.Polygon = boundary().buffer(-MARGIN_DEG)
    shapely.prepare(shrunk)
    return shrunk


@cache
def towns() -> Towns:
    rows = [r for r in geo.packaged_divisions() if r["parent_code"] == COUNTY_CODE]
    rows.sort(key=lambda r: r["code"])
    seats = geo.town_seats()
    return Towns(
        code=np.array([r["code"] for r in rows]),
        name=np.array([r["name"] for r in rows]),
        lon=np.array([seats[r["code"]][0] for r in rows]),
        lat=np.array([seats[r["code"]][1] for r in rows]),
    )


def _lattice(step: float) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    x0, y0, x1, y1 = inner().bounds
    xs, ys = np.meshgrid(np.arange(x0, x1, step), np.arange(y0, y1, step))
    lon, lat = xs.ravel(), ys.ravel()
    keep = shapely.contains_xy(inner(), lon, lat)
    return lon[keep], lat[keep]


def _dist_km(
    lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64], lon0: float, lat0: float
) -> npt.NDArray[np.float64]:
    dx = (lon - lon0) * np.cos(np.radians(21.6))
    distance: npt.NDArray[np.float64] = np.hypot(dx, lat - lat0) * KM_PER_DEG
    return distance


@cache
def villages() -> Villages:
    t = towns()
    rows = [r for r in geo.packaged_divisions() if r["parent_code"] in set(t.code.tolist())]
    rows.sort(key=lambda r: r["code"])
    code = np.array([r["code"] for r in rows])
    town_index = np.searchsorted(t.code, [r["parent_code"] for r in rows])
    urban = np.array([r["code"][9] == "0" for r in rows])
    lon = np.full(len(rows), np.nan)
    lat = np.full(len(rows), np.nan)
    harbour = np.array([PINNED.get(c, (0, 0, ""))[2] for c in code.tolist()], dtype=object)

    grid_lon, grid_lat = _lattice(0.003)
    seat_d = np.stack(
        [_dist_km(grid_lon, grid_lat, x, y) for x, y in zip(t.lon, t.lat, strict=True)]
    )
    territory = seat_d.argmin(axis=0)

    for ti in range(len(t.code)):  # communities on a ring of 0.6–1.4 km around the seat
        own = territory == ti
        tx, ty = grid_lon[own], grid_lat[own]
        communities = [i for i in np.flatnonzero(town_index == ti) if urban[i]]
        for k, member in enumerate(communities):
            angle = 2 * np.pi * k / max(len(communities), 1) + 0.4
            ring_km = 0.6 + 0.8 * (k % 2)
            want_x = t.lon[ti] + ring_km / KM_PER_DEG * np.cos(angle) / np.cos(np.radians(21.6))
            want_y = t.lat[ti] + ring_km / KM_PER_DEG * np.sin(angle)
            j = int(np.argmin(_dist_km(tx, ty, float(want_x), float(want_y))))
            lon[member], lat[member] = tx[j], ty[j]
    for index, c in enumerate(code.tolist()):
        if c in PINNED:
            lon[index], lat[index] = PINNED[c][0], PINNED[c][1]
    # The rest: farthest from everything placed so far (any town's), within the own territory.
    nearest = seat_d.min(axis=0)
    for i in np.flatnonzero(~np.isnan(lon)):
        nearest = np.minimum(nearest, _dist_km(grid_lon, grid_lat, lon[i], lat[i]))
    for i in np.flatnonzero(np.isnan(lon)):
        j = int(np.argmax(np.where(territory == town_index[i], nearest, -1.0)))
        lon[i], lat[i] = grid_lon[j], grid_lat[j]
        nearest = np.minimum(nearest, _dist_km(grid_lon, grid_lat, lon[i], lat[i]))

    # Spread: half the distance to the nearest other centre; communities are compact.
    gap = np.array(
        [np.partition(_dist_km(lon, lat, lon[i], lat[i]), 1)[1] for i in range(len(code))]
    )
    radius_km = np.where(urban, np.minimum(0.45 * gap, 0.8), np.clip(0.5 * gap, 0.6, 2.5))
    return Villages(
        code=code,
        name=np.array([r["name"] for r in rows]),
        short=np.array([short_name(r["name"]) for r in rows]),
        town_index=town_index.astype(np.int64),
        urban=urban,
        lon=lon,
        lat=lat,
        radius=radius_km / KM_PER_DEG,
        harbour=harbour.astype(str),
    )


def scatter(
    lon0: npt.NDArray[np.float64],
    lat0: npt.NDArray[np.float64],
    spread: npt.NDArray[np.float64] | float,
    rng: np.random.Generator,
    anchor_lon: npt.NDArray[np.float64] | None = None,
    anchor_lat: npt.NDArray[np.float64] | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Points scattered around (lon0, lat0) with a normal spread (degrees), pulled towards their
    anchor (default: the centre itself) until they lie inside the city with the margin. The
    anchors must be inside."""
    n = len(lon0)
    lon = lon0 + rng.normal(0.0, 1.0, n) * spread / np.cos(np.radians(21.6))
    lat = lat0 + rng.normal(0.0, 1.0, n) * spread
    ax = lon0 if anchor_lon is None else anchor_lon
    ay = lat0 if anchor_lat is None else anchor_lat
    for _ in range(8):
        out = ~shapely.contains_xy(inner(), lon, lat)
        if not out.any():
            break
        lon[out] = (lon[out] + ax[out]) / 2
        lat[out] = (lat[out] + ay[out]) / 2
    out = ~shapely.contains_xy(inner(), lon, lat)
    lon[out], lat[out] = ax[out], ay[out]
    return lon, lat


@cache
def guangxi_counties() -> tuple[str, ...]:
    """Codes of Guangxi's county-level divisions (for identity-number regions, journeys)."""
    rows = geo.packaged_divisions()
    return tuple(r["code"] for r in rows if r["level"] == "county" and r["code"].startswith("45"))
