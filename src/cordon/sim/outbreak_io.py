"""Conversions between lake tables and the outbreak's arrays, and measurements on the
ground-truth transmission tree."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from cordon.lake import schemas
from cordon.sim.disease import DAY
from cordon.sim.transmission import DayStays

NONE = -1
I64 = npt.NDArray[np.int64]


def codes(
    values: pa.ChunkedArray | pa.Array, names: tuple[str, ...], what: str
) -> npt.NDArray[np.int16]:
    index = pc.index_in(values, value_set=pa.array(names))
    if index.null_count:
        bad = pc.filter(values, pc.is_null(index)).unique().to_pylist()[:5]
        raise ValueError(f"unknown {what}: {bad}")
    return np.asarray(index.to_numpy(zero_copy_only=False), dtype=np.int16)


def seconds(column: pa.ChunkedArray | pa.Array) -> I64:
    """Epoch seconds of a timestamp column; -1 where null."""
    values = column.cast(pa.int64()).fill_null(NONE)
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.int64)


def ints(column: pa.ChunkedArray | pa.Array, fill: int = NONE) -> npt.NDArray[np.int32]:
    return np.asarray(column.fill_null(fill).to_numpy(zero_copy_only=False), dtype=np.int32)


def day_stays(stays: pa.Table) -> DayStays:
    """A STAYS table as arrays."""
    return DayStays(
        person=ints(stays.column("person_id")),
        place=ints(stays.column("place_id")),
        start=seconds(stays.column("start")),
        end=seconds(stays.column("end")),
        setting=codes(stays.column("setting"), schemas.SETTINGS, "setting").astype(np.int8),
    )


def tree_statistics(
    infections: pa.Table, *, cohort_from: int, cohort_until: int, follow_days: float
) -> dict[str, float]:
    """Reproduction number and generation interval measured from the ground-truth tree: the
    mean number of people infected by those infected in [cohort_from, cohort_until) (epoch
    seconds; everyone's offspring is counted for ``follow_days``, so the run must go on that
    long after the window), and the mean and SD of the infector-to-infectee interval of those
    infections, in days."""
    infectee = ints(infections.column("infectee")).astype(np.int64)
    infector = ints(infections.column("infector")).astype(np.int64)
    time = seconds(infections.column("time"))
    size = int(infectee.max(initial=0)) + 1
    infected_at = np.full(size, NONE, dtype=np.int64)
    infected_at[infectee] = time
    in_cohort = np.zeros(size, dtype=bool)
    in_cohort[infectee[(time >= cohort_from) & (time < cohort_until)]] = True
    cohort = int(in_cohort.sum())
    child = (infector >= 0) & in_cohort[np.maximum(infector, 0)]
    intervals = (time[child] - infected_at[infector[child]]) / DAY
    intervals = intervals[intervals <= follow_days]
    nan = float("nan")
    return {
        "cohort": float(cohort),
        "reproduction_number": len(intervals) / cohort if cohort else nan,
        "generation_interval_days": float(intervals.mean()) if len(intervals) else nan,
        "generation_interval_sd_days": float(intervals.std()) if len(intervals) else nan,
    }
