"""A small synthetic coastal city for the fleet's tests: a few harbours on Dongxing's coast,
fishers working at them, and a few other people (some also working at a harbour)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from cordon.geo.cells import cell_of
from cordon.lake.schemas import GRIDS, HOUSEHOLDS, PEOPLE, PLACES
from cordon.sim.model import City

# (name, lon, lat, village): inside Dongxing's boundary, within ~3 km of the coast.
HARBOURS = (
    ("竹山渔港", 107.975, 21.540, "450681100201"),
    ("京岛渔港", 108.090, 21.518, "450681101201"),
    ("巫头渔港", 108.060, 21.530, "450681101202"),
)


def small_city(fishers: int = 300, others: int = 60, seed: int = 0) -> City:
    rng = np.random.default_rng(seed)
    homes = 40
    harbour_ids = np.arange(homes, homes + len(HARBOURS), dtype=np.int32)
    workplace_id = homes + len(HARBOURS)
    lon = np.r_[rng.uniform(107.97, 108.1, homes), [h[1] for h in HARBOURS], 107.98]
    lat = np.r_[rng.uniform(21.55, 21.6, homes), [h[2] for h in HARBOURS], 21.56]
    kinds = ["home"] * homes + ["harbour"] * len(HARBOURS) + ["workplace"]
    names = [f"家{i}" for i in range(homes)] + [h[0] for h in HARBOURS] + ["工厂"]
    villages = ["450681100201"] * homes + [h[3] for h in HARBOURS] + ["450681100201"]
    places = pa.table(
        {
            "place_id": np.arange(len(kinds), dtype=np.int32),
            "kind": kinds,
            "name": names,
            "lon": lon,
            "lat": lat,
            "cell_id": cell_of(lon, lat),
            "village_code": villages,
            "grid_code": [f"{v}001" for v in villages],
            "compound_id": pa.nulls(len(kinds), pa.int32()),
            "capacity": np.full(len(kinds), 50, np.int32),
            "site_id": np.arange(len(kinds), dtype=np.int32),
        },
        schema=PLACES,
    )
    n = fishers + others
    role = np.array(["fisher"] * fishers + ["worker"] * others, dtype=object)
    work = np.r_[rng.choice(harbour_ids, fishers), np.full(others, workplace_id)]
    work[fishers : fishers + others // 4] = harbour_ids[0]  # harbour workers who do not fish
    order = rng.permutation(n)  # fishers are not the first ids
    role, work = role[order], work[order]
    home = rng.integers(0, homes, n).astype(np.int32)
    people = pa.table(
        {
            "person_id": np.arange(n, dtype=np.int32),
            "household_id": home,
            "name": [f"渔民{i}" for i in range(n)],
            "id_number": [f"450681199001{i:06d}" for i in range(n)],
            "phone": [f"1380000{i:04d}" for i in range(n)],
            "sex": ["M"] * n,
            "birth_date": pa.array([date(1990, 1, 1)] * n, pa.date32()),
            "age": np.full(n, 31, np.int16),
            "role": role.tolist(),
            "home_place_id": home,
            "work_place_id": work.astype(np.int32),
            "class_id": pa.nulls(n, pa.int32()),
            "village_code": ["450681100201"] * n,
            "grid_code": ["450681100201001"] * n,
            "residence_code": ["450681100201"] * n,
            "residence_address": pa.nulls(n, pa.string()),
            "visitor": pa.nulls(n, pa.string()),
        },
        schema=PEOPLE,
    )
    households = pa.table(
        {
            "household_id": np.arange(homes, dtype=np.int32),
            "home_place_id": np.arange(homes, dtype=np.int32),
            "size": np.bincount(home, minlength=homes).astype(np.int16),
            "village_code": ["450681100201"] * homes,
            "grid_code": ["450681100201001"] * homes,
        },
        schema=HOUSEHOLDS,
    )
    grids = pa.table(
        {
            "grid_code": ["450681100201001"],
            "name": ["第1网格"],
            "village_code": ["450681100201"],
            "lon": [108.0],
            "lat": [21.56],
        },
        schema=GRIDS,
    )
    return City(people=people, households=households, places=places, grids=grids)
