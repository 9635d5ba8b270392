"""Co-presence as an interval join on place-sorted rows, in numpy.

Who else was at these places at these times: for one case that is a few dozen stays against a
few thousand, less work than the ~5 ms DuckDB spends planning a query; for a surge it is
millions of candidate pairs, expanded in bounded chunks. The rows of one day come from
tracing's index sorted by (place, start), so each source stay's candidates are one contiguous
range found by binary search; a stay never crosses local midnight (the lake's layout rule), so
days are joined one at a time.

The answer is the store's ``co_present`` (see ``backend.MovementStore``): overlaps at least the
setting's minimum, in a classroom only of the same class, and each person's earliest few (by
start, then source) or each person's earliest with each source.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cordon.trace.evidence import first_in_group, position_in_group

# Candidate pairs expanded at once (~60 bytes each): bounds memory in a surge.
CHUNK_PAIRS = 2_000_000
PLACE_SHIFT = 17  # seconds into the day fit in 17 bits (86,400 < 131,072)


@dataclass(frozen=True)
class Sources:
    """The stays asked about, each within one day (``day_start``: local midnight, epoch s)."""

    source: np.ndarray
    place: np.ndarray
    start: np.ndarray
    end: np.ndarray
    day_start: np.ndarray
    need: np.ndarray  # minimum overlap in seconds (at least 1)
    class_id: np.ndarray  # -1 for none; only for classroom stays
    setting: np.ndarray  # index into ``settings``
    settings: list[str]


@dataclass(frozen=True)
class Others:
    """One day's rows of the place-sorted index: everyone's stays at the places asked about."""

    person: np.ndarray
    place: np.ndarray
    start: np.ndarray
    end: np.ndarray
    class_id: np.ndarray  # -1 for none
    day_start: int


def co_present(
    sources: Sources, days: list[Others], *, evidence: int, per_source: bool
) -> pa.Table:
    """person_id, source_id, place_id, setting, start, end of each kept overlap."""
    found: list[tuple[np.ndarray, ...]] = []
    held = 0
    for others in days:
        mine = np.flatnonzero(sources.day_start == others.day_start)
        if mine.size == 0 or others.person.size == 0:
            continue
        for rows in _pairs(sources, mine, others):
            found.append(rows)
            held += rows[0].size
            if held > CHUNK_PAIRS:  # keep memory bounded: the earliest of what is held so far
                found = [_keep(_concat(found), evidence=evidence, per_source=per_source)]
                held = found[0][0].size
    if not found:
        columns = [np.empty(0, np.int64)] * 6
    else:
        columns = list(_keep(_concat(found), evidence=evidence, per_source=per_source))
    person, source, place, setting, start, end = columns
    names = pa.array(sources.settings, pa.string())
    return pa.table(
        {
            "person_id": pa.array(person.astype(np.int32)),
            "source_id": pa.array(source.astype(np.int32)),
            "place_id": pa.array(place.astype(np.int32)),
            "setting": names.take(pa.array(setting.astype(np.int32))),
            "start": pa.array(start.astype(np.int64)),
            "end": pa.array(end.astype(np.int64)),
        }
    )


def _concat(parts: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    if len(parts) == 1:
        return parts[0]
    return tuple(np.concatenate(c) for c in zip(*parts, strict=True))


def _pairs(sources: Sources, mine: np.ndarray, others: Others) -> list[tuple[np.ndarray, ...]]:
    """The overlapping pairs of these source stays (one day) with ``others``, chunk by chunk:
    (person, source, place, setting, start, end) of each overlap meeting the rules."""
    day = others.day_start
    keys = (others.place.astype(np.int64) << PLACE_SHIFT) | (others.start - day)
    place = sources.place[mine].astype(np.int64)
    # Every stay at the place that day starting before the source stay ends (those ending
    # before it starts are dropped below).
    lo = np.searchsorted(keys, place << PLACE_SHIFT, side="left")
    hi = np.searchsorted(keys, (place << PLACE_SHIFT) | (sources.end[mine] - day), side="left")
    count = np.maximum(hi - lo, 0)
    out = []
    total = np.cumsum(count)
    first = 0
    while first < mine.size:
        done = total[first - 1] if first else 0
        last = max(first + 1, int(np.searchsorted(total, done + CHUNK_PAIRS, side="right")))
        out.append(_expand(sources, mine[first:last], lo[first:last], count[first:last], others))
        first = last
    return out


def _expand(
    sources: Sources, mine: np.ndarray, lo: np.ndarray, count: np.ndarray, others: Others
) -> tuple[np.ndarray, ...]:
    n = int(count.sum())
    q = np.repeat(mine, count)
    s = np.repeat(lo - (np.cumsum(count) - count), count) + np.arange(n)
    start = np.maximum(others.start[s], sources.start[q])
    end = np.minimum(others.end[s], sources.end[q])
    person, source = others.person[s], sources.source[q]
    keep = (end - start >= sources.need[q]) & (person != source)
    theirs, own = others.class_id[s], sources.class_id[q]
    keep &= (own < 0) | (theirs < 0) | (own == theirs)
    return (
        person[keep],
        source[keep],
        others.place[s][keep],
        sources.setting[q][keep],
        start[keep],
        end[keep],
    )


def _keep(
    rows: tuple[np.ndarray, ...], *, evidence: int, per_source: bool
) -> tuple[np.ndarray, ...]:
    """Each person's ``evidence`` earliest overlaps (by start, then source), or each person's
    earliest with each source."""
    person, source, _place, _setting, start, _end = rows
    if per_source:
        order = np.lexsort((start, source, person))
        pair = (person[order].astype(np.int64) << 32) | source[order].astype(np.int64)
        order = order[first_in_group(pair)]
    else:
        order = np.lexsort((source, start, person))
        order = order[position_in_group(person[order]) < evidence]
    return tuple(column[order] for column in rows)
