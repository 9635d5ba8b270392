"""Imported infections: who is infected from outside, when and where.

"border": a trader with a stay at the border crossing that day, infected during that stay
(falling back to anyone at the border crossing, then any trader). "sea": a crew member aboard a
boat whose trip met a foreign vessel, infected at the rendezvous (falling back to any crew at
sea that day, then any fisher). The fallbacks keep a scenario running on a city without those
places or trips; an import without a stay gets a random time that day and no place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from cordon.lake import schemas
from cordon.sim.disease import DAY
from cordon.sim.transmission import DayStays

NONE = -1
BORDER_CROSSING = schemas.PLACE_KINDS.index("border_crossing")
VESSEL = schemas.SETTINGS.index("vessel")
TRADER = schemas.ROLES.index("trader")
FISHER = schemas.ROLES.index("fisher")


@dataclass(frozen=True)
class Imported:
    person: npt.NDArray[np.int32]
    time: npt.NDArray[np.int64]
    place: npt.NDArray[np.int32]  # -1 where unknown


def rendezvous(sea_trips: pa.Table, vessel_place: dict[int, int]) -> list[tuple[int, int]]:
    """(the vessel's place, or -1 if unknown; epoch seconds) of each trip that met a foreign
    vessel, in trip order; the middle of the trip where the rendezvous time is missing."""
    if sea_trips.num_rows == 0:
        return []
    met = pc.fill_null(sea_trips.column("met_foreign_vessel"), False)
    trips = sea_trips.filter(met).sort_by("trip_id")
    out = []
    for row in trips.to_pylist():
        moment = row["rendezvous_time"] or row["depart"] + (row["return"] - row["depart"]) / 2
        out.append((vessel_place.get(row["vessel_id"], NONE), int(moment.timestamp())))
    return out


def choose(
    kind: str,
    count: int,
    stays: DayStays,
    *,
    free: npt.NDArray[np.bool_],
    role: npt.NDArray[np.int16],
    place_kind: npt.NDArray[np.int16],
    meetings: list[tuple[int, int]],
    day_start: int,
    rng: np.random.Generator,
) -> Imported:
    """``count`` (or as many as there are) people infected from outside today; ``free`` marks
    who can be (not yet infected, not isolated)."""
    person = stays.person
    available = free[person]
    moment = np.full(len(stays), NONE, dtype=np.int64)  # a fixed infection time, if any
    if kind == "border":
        at = available & (place_kind[stays.place] == BORDER_CROSSING)
        tiers = [at & (role[person] == TRADER), at]
        fallback = TRADER
    else:
        at = available & (stays.setting == VESSEL)
        met = np.zeros(len(stays), dtype=bool)
        for place, when in meetings:
            aboard = at & (stays.start <= when) & (stays.end > when)
            if place >= 0:
                aboard &= stays.place == place
            moment[aboard] = when
            met |= aboard
        tiers = [met & (role[person] == FISHER), met, at & (role[person] == FISHER), at]
        fallback = FISHER
    rows = np.empty(0, dtype=np.int64)
    for tier in tiers:
        rows = np.flatnonzero(tier)
        if len(rows):
            break
    if len(rows):
        rows = rows[np.lexsort((stays.start[rows], person[rows]))]
        rows = rows[np.r_[True, np.diff(person[rows]) != 0]]  # one stay a person
        rows = np.sort(rng.choice(rows, size=min(count, len(rows)), replace=False))
        span = stays.end[rows] - stays.start[rows]
        during = stays.start[rows] + np.floor(rng.random(len(rows)) * span).astype(np.int64)
        return Imported(
            person[rows].astype(np.int32),
            np.where(moment[rows] >= 0, moment[rows], during),
            stays.place[rows].astype(np.int32),
        )
    pool = np.flatnonzero(free & (role == fallback))
    if not len(pool):
        pool = np.flatnonzero(free)
    who = np.sort(rng.choice(pool, size=min(count, len(pool)), replace=False))
    return Imported(
        who.astype(np.int32),
        day_start + np.floor(rng.random(len(who)) * DAY).astype(np.int64),
        np.full(len(who), NONE, dtype=np.int32),
    )
