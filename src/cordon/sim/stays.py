"""Turning activities into a day of stays, and stays into check-ins and cell records.

All functions work on whole columns (numpy arrays); none loops over people or stays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from cordon.lake import schemas

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
HOUSEHOLD = schemas.SETTINGS.index("household")
_SETTINGS = pa.array(schemas.SETTINGS)


@dataclass
class Rows:
    """Columns of stays (or activities): person, place, start, end (epoch s), setting code."""

    person: IntArray
    place: IntArray
    start: IntArray
    end: IntArray
    setting: IntArray

    @classmethod
    def concat(cls, parts: list[Rows]) -> Rows:
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))

    def take(self, index: IntArray | BoolArray) -> Rows:
        return Rows(*(getattr(self, f)[index] for f in _FIELDS))

    def __len__(self) -> int:
        return len(self.person)


_FIELDS = ("person", "place", "start", "end", "setting")


def fill_day(activities: Rows, home: IntArray, day_start: int, day_end: int) -> Rows:
    """Every person's day: the activities (non-overlapping per person, inside the day) with
    home filling the time before, between and after them; people without activities are
    home all day. Sorted by person and time; adjacent stays at the same place and setting are
    merged."""
    n = len(home)
    # A sentinel per person at the end of the day makes the last gap a gap "before" a row.
    rows = Rows.concat(
        [
            activities,
            Rows(
                np.arange(n, dtype=np.int64),
                np.full(n, -1, dtype=np.int64),
                np.full(n, day_end, dtype=np.int64),
                np.full(n, day_end, dtype=np.int64),
                np.full(n, -1, dtype=np.int64),
            ),
        ]
    )
    key = rows.person * (day_end - day_start + 1) + (rows.start - day_start)
    rows = rows.take(np.argsort(key, kind="stable"))
    first = np.r_[True, rows.person[1:] != rows.person[:-1]]
    previous_end = np.where(first, day_start, np.r_[day_start, rows.end[:-1]])
    m = len(rows)
    out = Rows(*(np.empty(2 * m, dtype=np.int64) for _ in _FIELDS))
    # Even slots: the home gap before each row; odd slots: the row itself.
    out.person[0::2] = rows.person
    out.place[0::2] = home[rows.person]
    out.start[0::2] = previous_end
    out.end[0::2] = rows.start
    out.setting[0::2] = HOUSEHOLD
    out.person[1::2] = rows.person
    out.place[1::2] = rows.place
    out.start[1::2] = rows.start
    out.end[1::2] = rows.end
    out.setting[1::2] = rows.setting
    keep = np.empty(2 * m, dtype=bool)
    keep[0::2] = rows.start > previous_end
    keep[1::2] = rows.place >= 0
    return merge_adjacent(out.take(keep))


def merge_adjacent(rows: Rows) -> Rows:
    """Joins consecutive stays of a person at the same place and setting that touch."""
    if len(rows) == 0:
        return rows
    same = (
        (rows.person[1:] == rows.person[:-1])
        & (rows.place[1:] == rows.place[:-1])
        & (rows.setting[1:] == rows.setting[:-1])
        & (rows.start[1:] == rows.end[:-1])
    )
    if not same.any():
        return rows
    starts = np.flatnonzero(np.r_[True, ~same])
    ends = np.r_[starts[1:] - 1, len(rows) - 1]
    merged = rows.take(starts)
    merged.end = rows.end[ends]
    return merged


def overlapping(rows: Rows) -> BoolArray:
    """For rows sorted by person and start: True where a row starts before the previous row of
    the same person ends."""
    clash = (rows.person[1:] == rows.person[:-1]) & (rows.start[1:] < rows.end[:-1])
    return np.concatenate([np.zeros(1, dtype=bool), clash])


def times(seconds: IntArray) -> pa.Array:
    return pa.array(seconds.astype("datetime64[s]"), schemas.TIME)


def settings(codes: IntArray) -> pa.Array:
    return _SETTINGS.take(pa.array(codes.astype(np.int8)))


def day_column(day: int, n: int) -> pa.Array:
    return pa.array(np.full(n, day, dtype=np.int16))


def stays_table(rows: Rows, cells: IntArray, day: int) -> pa.Table:
    return pa.table(
        {
            "day": day_column(day, len(rows)),
            "person_id": pa.array(rows.person.astype(np.int32)),
            "place_id": pa.array(rows.place.astype(np.int32)),
            "start": times(rows.start),
            "end": times(rows.end),
            "setting": settings(rows.setting),
            "cell_id": pa.array(cells),
        },
        schema=schemas.STAYS,
    )


def checkins(
    rows: Rows,
    eligible: BoolArray,
    share: float,
    delay_mean: float,
    day: int,
    rng: np.random.Generator,
) -> pa.Table:
    """A scan for ``share`` of the eligible stays, shortly after arrival and within the stay."""
    scanned = np.flatnonzero(eligible & (rng.random(len(rows)) < share))
    delay = np.rint(rng.exponential(delay_mean, len(scanned))).astype(np.int64)
    span = rows.end[scanned] - rows.start[scanned]
    at = rows.start[scanned] + np.minimum(delay, span - 1)
    return pa.table(
        {
            "day": day_column(day, len(scanned)),
            "person_id": pa.array(rows.person[scanned].astype(np.int32)),
            "place_id": pa.array(rows.place[scanned].astype(np.int32)),
            "time": times(at),
        },
        schema=schemas.CHECKINS,
    )


def cell_records(
    rows: Rows,
    cells: IntArray,
    eligible: BoolArray,
    gap_probability: float,
    noise: float,
    neighbour_offsets: IntArray,
    delay_mean: float,
    day: int,
    rng: np.random.Generator,
) -> pa.Table:
    """One record per eligible stay (some missing): the serving tower's cell, usually the stay's,
    with probability ``noise`` a neighbouring one; from shortly after arrival to departure."""
    kept = np.flatnonzero(eligible & (rng.random(len(rows)) >= gap_probability))
    m = len(kept)
    shift = np.where(
        rng.random(m) < noise, neighbour_offsets[rng.integers(0, len(neighbour_offsets), m)], 0
    )
    delay = np.rint(rng.exponential(delay_mean, m)).astype(np.int64)
    start, end = rows.start[kept], rows.end[kept]
    return pa.table(
        {
            "day": day_column(day, m),
            "person_id": pa.array(rows.person[kept].astype(np.int32)),
            "cell_id": pa.array(cells[kept] + shift),
            "start": times(start + np.minimum(delay, end - start - 1)),
            "end": times(end),
        },
        schema=schemas.CELL_RECORDS,
    )
