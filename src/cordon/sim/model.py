"""What the simulator's parts hand each other: the city, one day's movement, fixed stays.

Times inside the simulator are int64 seconds since the Unix epoch (UTC instants), kept in numpy
arrays; tables are pyarrow Tables with the schemas of ``cordon.lake.schemas``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

# Simulation days are the lake's days (re-exported for the simulator's parts).
from cordon.lake.schemas import TZ as TZ
from cordon.lake.schemas import day_start as day_start

DAY_SECONDS = 86_400


def rng_for(seed: int, stream: str, day: int = -1) -> np.random.Generator:
    """An independent random stream per (seed, part, day), so each part is reproducible on its
    own and adding draws to one part never shifts another's."""
    key = [seed, *stream.encode(), day + 1]
    return np.random.default_rng(np.random.SeedSequence(key))


@dataclass
class City:
    """The registry side of the city (schemas PEOPLE, HOUSEHOLDS, PLACES, GRIDS)."""

    people: pa.Table
    households: pa.Table
    places: pa.Table
    grids: pa.Table


@dataclass
class FixedStays:
    """Stays decided outside the daily routine, which the routine must build around: crew at
    sea, isolated cases in the treatment centre. One row per stay; arrays of equal length."""

    person_id: np.ndarray  # int32
    place_id: np.ndarray  # int32
    start: np.ndarray  # int64 epoch seconds
    end: np.ndarray  # int64 epoch seconds
    setting: np.ndarray  # object/str array of SETTINGS values

    @classmethod
    def empty(cls) -> FixedStays:
        return cls(
            np.empty(0, np.int32),
            np.empty(0, np.int32),
            np.empty(0, np.int64),
            np.empty(0, np.int64),
            np.empty(0, object),
        )

    @classmethod
    def concat(cls, parts: list[FixedStays]) -> FixedStays:
        if not parts:
            return cls.empty()
        return cls(
            np.concatenate([p.person_id for p in parts]).astype(np.int32),
            np.concatenate([p.place_id for p in parts]).astype(np.int32),
            np.concatenate([p.start for p in parts]).astype(np.int64),
            np.concatenate([p.end for p in parts]).astype(np.int64),
            np.concatenate([p.setting for p in parts]).astype(object),
        )


@dataclass
class DayMovement:
    """One day's movement tables (schemas STAYS, CHECKINS, CELL_RECORDS, JOURNEYS)."""

    stays: pa.Table
    checkins: pa.Table
    cell_records: pa.Table
    journeys: pa.Table


@dataclass
class DayVessels:
    """One day at sea: trips that started that day, fixes, and the crew's stays on board."""

    trips: pa.Table  # SEA_TRIPS
    fixes: pa.Table  # VESSEL_FIXES
    crew_stays: FixedStays = field(default_factory=FixedStays.empty)
