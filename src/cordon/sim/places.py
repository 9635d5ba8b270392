"""Homes, compounds and grids; and every other place of the city with who works or studies
where. Place ids: homes first (home place id = household id), then the other places."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from cordon.lake import schemas
from cordon.sim import geography

if TYPE_CHECKING:
    from cordon.sim.city import CityParams

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
ROLE = {name: i for i, name in enumerate(schemas.ROLES)}
COMPOUND_STEMS = [
    "金滩",
    "北仑",
    "边城",
    "东兴",
    "京岛",
    "海湾",
    "兴华",
    "中越",
    "友谊",
    "阳光",
    "明珠",
    "江南",
    "翠苑",
    "锦绣",
    "华府",
    "新城",
    "滨江",
    "福地",
    "瑞景",
    "丽都",
    "紫荆",
    "桂园",
    "榕城",
    "凤凰",
    "幸福",
    "和平",
    "康乐",
    "富民",
    "安居",
    "兴业",
]
COMPOUND_SUFFIXES = ("小区", "花园", "苑", "新村", "公寓")
BUSINESS_STEMS = [
    "宏达",
    "兴业",
    "海湾",
    "北仑",
    "京岛",
    "金滩",
    "中越",
    "鸿运",
    "永福",
    "利民",
    "顺发",
    "广源",
    "南方",
    "恒通",
    "万家",
    "红木",
    "海鲜",
    "边贸",
    "安达",
    "华美",
    "新兴",
    "东盟",
    "大地",
    "富康",
    "益民",
]
WORK_TRADES = ("商贸", "物流", "海产", "红木家具", "建材", "食品", "旅游", "电子", "服装", "运输")
WORK_SUFFIXES = ("有限公司", "厂", "商行", "酒店", "加工厂")
FOODS = ("粉店", "海鲜大排档", "饭店", "茶餐厅", "越南小吃", "烧烤", "快餐", "卷筒粉店")
SHOP_KINDS = ("超市", "便利店", "药店", "五金店", "手机店", "水果店", "百货")
DIGIT_SETS = ((1, 4, 7), (2, 5, 8), (3, 6, 9))
MARKET_DAYS = re.compile(r"逢(\d)、(\d)、(\d)日")
TOWN_MARKETS = ("东兴中心市场", "江平市场", "马路市场")


@dataclass
class Homes:
    """One row per household: its home's position, compound and grid; plus the grids table."""

    lon: FloatArray
    lat: FloatArray
    compound: IntArray
    grid: IntArray  # index into the grids table
    grid_code: pa.Array  # per household
    name: pa.Array
    grids: pa.Table
    grid_village: IntArray  # per grid


@dataclass
class Parts:
    """Places accumulated kind by kind before they become the PLACES table."""

    kind: list[pa.Array] = field(default_factory=list)
    name: list[pa.Array] = field(default_factory=list)
    lon: list[FloatArray] = field(default_factory=list)
    lat: list[FloatArray] = field(default_factory=list)
    village: list[IntArray] = field(default_factory=list)
    capacity: list[IntArray] = field(default_factory=list)
    site: list[IntArray] = field(default_factory=list)
    count: int = 0

    def add(
        self,
        kind: str,
        name: pa.Array | list[str],
        lon: FloatArray,
        lat: FloatArray,
        village: IntArray,
        capacity: IntArray,
        *,
        section_size: int = 0,
        crowd_scale: float = 1.0,
        section_label: str = "区",
    ) -> IntArray:
        """Adds places of one kind; returns their ids.

        With ``section_size``, a place for more people is split into sections of about that
        many (stall rows, crossing lanes, workshops, wards, dining halls): one place row each,
        with its own venue code, at the same position. People are close to those in their
        section, not to everyone on the site, so both transmission and tracing stay local. The
        id returned is the site's, which is its first section's (see ``spread``). A site's
        crowd is ``capacity × crowd_scale`` (landmarks are sized for the real city; a smaller
        simulated city sends fewer people to them). Sections are named ``site·N区``, or with
        another ``section_label`` (``出入城客车·N号车``)."""
        capacity = np.asarray(capacity, dtype=np.int64)
        names = pa.array(name, pa.string()) if isinstance(name, list) else name
        k = np.ones(len(capacity), dtype=np.int64)
        if section_size > 0:
            k = np.maximum(1, np.ceil(capacity * crowd_scale / section_size)).astype(np.int64)
        row_of = np.repeat(np.arange(len(capacity)), k)
        n = len(row_of)
        number = np.arange(n) - np.repeat(np.cumsum(k) - k, k) + 1
        names = names.take(pa.array(row_of))
        if (k > 1).any():
            suffix = pc.if_else(
                pa.array(k[row_of] > 1),
                _join("·", _strings(number), section_label),
                pa.scalar("", pa.string()),
            )
            names = _join(names, suffix)
        ids = np.arange(self.count, self.count + n, dtype=np.int64)
        first = ids[np.cumsum(k) - k]
        self.kind.append(pa.repeat(pa.scalar(kind, pa.string()), n))
        self.name.append(names)
        self.lon.append(np.asarray(lon, dtype=np.float64)[row_of])
        self.lat.append(np.asarray(lat, dtype=np.float64)[row_of])
        self.village.append(np.asarray(village, dtype=np.int64)[row_of])
        self.capacity.append(-(-capacity // k)[row_of])
        self.site.append(first[row_of])
        self.count += n
        return first

    def spread(self, place: IntArray, rng: np.random.Generator) -> IntArray:
        """A section drawn at random in the site of each of ``place`` (-1 stays -1)."""
        site = np.concatenate(self.site)
        return spread(site, sections(site), place, rng)


def sections(site_of_place: IntArray) -> IntArray:
    """Per place, the number of sections of its site."""
    return np.bincount(site_of_place, minlength=len(site_of_place))[site_of_place]


def spread(
    site_of_place: IntArray, sections_of_place: IntArray, place: IntArray, rng: np.random.Generator
) -> IntArray:
    """Each of ``place`` replaced by a section of its site drawn at random (-1 stays -1)."""
    known = np.maximum(place, 0)
    offset = np.floor(rng.random(len(place)) * sections_of_place[known]).astype(np.int64)
    return np.where(place >= 0, site_of_place[known] + offset, place)


@dataclass
class Built:
    table: pa.Table
    work_place: IntArray  # per person, -1 for none
    class_id: IntArray  # per person, -1 for none


def _strings(values: IntArray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def market_digits(name: str) -> tuple[int, ...]:
    """The last digits of the days of the month a periodic market (圩) is held, from its name
    ("那漏圩（逢1、4、7日）" → (1, 4, 7)); () for a daily market."""
    found = MARKET_DAYS.search(name)
    return tuple(int(d) for d in found.groups()) if found else ()


def lay_out_homes(
    params: CityParams,
    v: geography.Villages,
    hh_village: IntArray,
    rng: np.random.Generator,
) -> Homes:
    """Homes in compounds in grids in villages; households must be sorted by village."""
    n = len(hh_village)
    counts = np.bincount(hh_village, minlength=len(v.code))
    first = np.cumsum(counts) - counts
    rank = np.arange(n) - first[hh_village]
    per_grid = np.where(v.urban, *params.households_per_grid)
    n_grids = np.maximum(1, -(-counts // per_grid))
    if n_grids.max() > 999:
        raise ValueError("too many households for 3-digit grid numbers; raise households_per_grid")
    grid_number = rank * n_grids[hh_village] // np.maximum(counts[hh_village], 1)
    grid_keys, grid = np.unique(hh_village * 1000 + grid_number, return_inverse=True)
    grid_village = grid_keys // 1000
    grid_no = grid_keys % 1000 + 1

    grid_size = np.bincount(grid, minlength=len(grid_keys))
    grid_first = np.cumsum(grid_size) - grid_size
    rank_in_grid = np.arange(n) - grid_first[grid]
    per_compound = np.where(v.urban, *params.households_per_compound)[grid_village]
    n_compounds = np.maximum(1, -(-grid_size // per_compound))
    compound_no = rank_in_grid * n_compounds[grid] // grid_size[grid]
    compound_keys, compound = np.unique(grid * 1000 + compound_no, return_inverse=True)
    compound_grid = compound_keys // 1000
    compound_village = grid_village[compound_grid]

    # Positions: grid centres around the village centre, compounds around their grid's centre,
    # homes around their compound's.
    g_lon, g_lat = geography.scatter(
        v.lon[grid_village], v.lat[grid_village], 0.6 * v.radius[grid_village], rng
    )
    urban_c = v.urban[compound_village]
    c_lon, c_lat = geography.scatter(
        g_lon[compound_grid], g_lat[compound_grid], np.where(urban_c, 0.0015, 0.003), rng
    )
    urban_h = v.urban[hh_village]
    h_lon, h_lat = geography.scatter(
        c_lon[compound], c_lat[compound], np.where(urban_h, 0.0003, 0.0006), rng
    )

    village_code = pa.array(v.code)
    grid_codes = _join(
        village_code.take(pa.array(grid_village)), pc.utf8_lpad(_strings(grid_no), 3, "0")
    )
    grids = pa.table(
        {
            "grid_code": grid_codes,
            "name": _join(
                pa.array(v.short).take(pa.array(grid_village)), "第", _strings(grid_no), "网格"
            ),
            "village_code": village_code.take(pa.array(grid_village)),
            "lon": pa.array(g_lon),
            "lat": pa.array(g_lat),
        },
        schema=schemas.GRIDS,
    )
    # Compound names: "金滩花园" in town, "竹山村3组" in the country.
    per_village = np.bincount(compound_village, minlength=len(v.code))
    compound_in_village = (
        np.arange(len(compound_keys)) - (np.cumsum(per_village) - per_village)[compound_village]
    )
    stems = pa.array(COMPOUND_STEMS).take(
        pa.array(rng.integers(0, len(COMPOUND_STEMS), len(compound_keys)))
    )
    suffixes = pa.array(COMPOUND_SUFFIXES).take(
        pa.array(rng.integers(0, len(COMPOUND_SUFFIXES), len(compound_keys)))
    )
    rural_name = _join(
        pa.array(v.short).take(pa.array(compound_village)), _strings(compound_in_village + 1), "组"
    )
    compound_name = pc.if_else(pa.array(urban_c), _join(stems, suffixes), rural_name)
    compound_size = np.bincount(compound, minlength=len(compound_keys))
    rank_in_compound = np.arange(n) - (np.cumsum(compound_size) - compound_size)[compound]
    name = _join(compound_name.take(pa.array(compound)), _strings(rank_in_compound + 1), "号")
    return Homes(
        lon=h_lon,
        lat=h_lat,
        compound=compound.astype(np.int64),
        grid=grid.astype(np.int64),
        grid_code=grid_codes.take(pa.array(grid)),
        name=name,
        grids=grids,
        grid_village=grid_village.astype(np.int64),
    )
