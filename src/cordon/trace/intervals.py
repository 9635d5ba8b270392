"""Co-presence as an interval join on the where-index (``lake.index``): who else was at these
places (in these cells) at these times.

For one case that is a few dozen stays against a few thousand rows, less work than the ~5 ms
DuckDB spends planning a query; for twenty cases' phone cells it is tens of millions of
candidate pairs, taken in bounded chunks. A segment's rows are sorted by key (place, seconds
since its first midnight) and a stay never crosses local midnight (the lake's layout rule), so
each source stay's candidates are one contiguous run of the mapped file, found for all of them
by one binary search (numpy); a compiled loop (``kernels.overlaps``) tests each candidate where
it lies, and only the overlaps kept are copied.

The answer is the store's ``co_present`` / ``co_cell`` (see ``backend.MovementStore``): overlaps
of at least ``need`` seconds, in a classroom only of the same class, among co-workers only of
people who work there; and each person's earliest few (by start, then source, then place),
each person's earliest with each source, or each person's earliest few in each place. And for
the companions' residency filter, the time people's phones spent in cells, from the by-person
index (``time_in_cells``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from cordon.lake.index import Segment
from cordon.trace import kernels
from cordon.trace.evidence import first_in_group, position_in_group, stable_order

# Candidate pairs joined at once (16 bytes each for the rows kept): bounds memory in a surge.
CHUNK_PAIRS = 2_000_000
# The first of each (person, source) is kept in the join for ids below this (a table by id).
DENSE_PEOPLE = 1 << 26
DAY = 86_400

Per = Literal["person", "source", "place"]


def runs_of(sorted_keys: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each wanted key's run of rows starts in ``sorted_keys``, and its length."""
    wanted = wanted.astype(sorted_keys.dtype)  # else numpy converts the whole sorted column
    lo = np.searchsorted(sorted_keys, wanted, side="left")
    return lo, np.searchsorted(sorted_keys, wanted, side="right") - lo


def rows_in(lo: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The row numbers of the runs [lo, lo + count), run after run."""
    return np.repeat(lo - (np.cumsum(count) - count), count) + np.arange(int(count.sum()))


@dataclass(frozen=True)
class Sources:
    """The stays (cell records) asked about, each within one day (``day_start``: its local
    midnight, epoch s)."""

    source: np.ndarray
    place: np.ndarray  # place or cell
    start: np.ndarray
    end: np.ndarray
    day_start: np.ndarray
    need: np.ndarray  # minimum overlap in seconds (at least 1)
    class_id: np.ndarray  # -1 for none; only for classroom stays
    team: np.ndarray  # the place where the other person must work (co-workers), else -1
    setting: np.ndarray  # a number the caller gives meaning to (kept with each overlap)


NOBODY = np.empty(0, np.int64)  # a table by person id without anyone in it


@dataclass(frozen=True)
class Overlaps:
    person: np.ndarray
    source: np.ndarray
    place: np.ndarray
    setting: np.ndarray
    start: np.ndarray
    end: np.ndarray


def co_present(
    sources: Sources,
    segments: list[Segment],
    *,
    where: str,
    classes: np.ndarray,
    evidence: int,
    per: Per,
    works_at: np.ndarray = NOBODY,
) -> Overlaps:
    """Overlaps of ``sources`` with the rows of ``segments`` (``where``: the place or cell column;
    ``classes``: each person's class by id, -1 for none; ``works_at``: each person's work place
    by id, -1 for none), kept as ``per`` says."""
    keep = _Keeper(sources, segments, evidence=evidence, per=per)
    classes, works_at = _int64(classes), _int64(works_at)
    for segment in segments:
        after = segment.start + (segment.last_day - segment.first_day + 1) * DAY
        mine = np.flatnonzero((sources.day_start >= segment.start) & (sources.day_start < after))
        if mine.size and segment.size:
            keep.next_segment()
            for rows in _pairs(sources, mine, segment, where, classes, works_at, keep):
                keep.add(rows)
    return Overlaps(*keep.result())


def _int64(values: np.ndarray) -> np.ndarray:
    """One type for the compiled loop (each new type is compiled apart)."""
    return np.ascontiguousarray(values, np.int64)


def time_in_cells(
    person: np.ndarray,
    cell: np.ndarray,
    opens: np.ndarray,
    closes: np.ndarray,
    segments: list[Segment],
) -> np.ndarray:
    """Seconds each (``person``, ``cell``) pair's phone spent in the cell within [opens, closes),
    from by-person segments: a person's records are one run (found by ``runs_of_sorted``), read
    once for all of that person's pairs by a compiled loop (a few dozen records a fortnight; a
    batch asks about hundreds of thousands of people, some of them many times)."""
    order = np.argsort(person)
    who, cell, opens, closes = (_int64(x[order]) for x in (person, cell, opens, closes))
    changes = np.r_[True, who[1:] != who[:-1]]
    people, which = who[changes], np.cumsum(changes) - 1
    spent = np.zeros(person.size, np.int64)
    lo, count = np.empty(people.size, np.int64), np.empty(people.size, np.int64)
    for segment in segments:
        kernels.runs_of_sorted(segment.columns["person_id"], people, lo, count)
        kernels.time_in_cells(
            who,
            lo[which],
            count[which],
            cell,
            opens,
            closes,
            segment.columns["cell_id"],
            segment.columns["start"],
            segment.columns["end"],
            spent,
        )
    out = np.empty_like(spent)
    out[order] = spent
    return out


class _Keeper:
    """Collects overlaps chunk by chunk and keeps what ``per`` asks for, reducing what it holds
    whenever it has doubled (memory stays bounded, and no row is sorted more than a few times).

    Overlaps are found source by source in the sources' order, each source stay's candidates by
    start. When the sources come grouped and each one's stays in time order, not overlapping (a
    person's stays and cell records never do), a person's overlaps with one source are found in
    time order: the earliest of each (person, source) is the first found, which the join keeps
    alone (``met_by``: by person, the last source group that met them) and which is final as
    soon as it is found."""

    def __init__(
        self, sources: Sources, segments: list[Segment], *, evidence: int, per: Per
    ) -> None:
        self.evidence = evidence
        self.per = per
        self.ids = np.unique(sources.source)
        source, start, end = sources.source, sources.start, sources.end
        later = source[1:] != source[:-1]
        after = (source[1:] == source[:-1]) & (start[1:] >= end[:-1])
        grouped = np.unique(source[np.r_[True, later]]).size == self.ids.size
        self.firsts = per == "source" and grouped and bool(np.all(later | after))
        # Each source's place in the order the sources come (grouped: one number per source).
        group = np.cumsum(np.r_[False, later]) if self.firsts else np.zeros(source.size)
        self.group = group.astype(np.int64)
        people = max((s.people for s in segments), default=0)
        dense = self.firsts and people <= DENSE_PEOPLE
        self.met_by = np.full(people if dense else 0, -1, np.int32)
        self.held: list[tuple[np.ndarray, ...]] = []
        self.count = 0
        self.limit = CHUNK_PAIRS
        self.segments = 0

    def next_segment(self) -> None:
        """The sources start over in the next segment (later days): pairs taken as final may
        be met again, so the result reduces everything once more."""
        self.segments += 1

    def add(self, rows: tuple[np.ndarray, ...]) -> None:
        self.held.append(rows)
        if self.met_by.size:  # the first of each (person, source) only: final
            return
        self.count += rows[0].size
        if self.count > self.limit:
            kept = self._reduce()
            self.held, self.count = [kept], kept[0].size
            self.limit = max(CHUNK_PAIRS, 2 * self.count)

    def result(self) -> tuple[np.ndarray, ...]:
        if not self.held:
            return tuple([np.empty(0, np.int64)] * 6)
        if self.met_by.size and self.segments == 1:
            return _concat(self.held)
        return self._reduce()

    def _reduce(self) -> tuple[np.ndarray, ...]:
        rows = _concat(self.held)
        if self.firsts:  # in found order: earlier segments first
            picked = _first_per_pair(rows[0], np.searchsorted(self.ids, rows[1]), self.ids.size)
            return tuple(column[picked] for column in rows)
        return kept_as(rows, evidence=self.evidence, per=self.per)


def _first_per_pair(person: np.ndarray, rank: np.ndarray, sources: int) -> np.ndarray:
    """Rows (in found order) of the first overlap of each (person, source ``rank``)."""
    pair = person.astype(np.int64) * sources + rank
    order = stable_order(pair)
    first = order[first_in_group(pair[order])]
    first.sort()  # found order: a later chunk's rows come after these
    return first


def _concat(parts: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    if len(parts) == 1:
        return parts[0]
    return tuple(np.concatenate(c) for c in zip(*parts, strict=True))


def _pairs(
    sources: Sources,
    mine: np.ndarray,
    segment: Segment,
    where: str,
    classes: np.ndarray,
    works_at: np.ndarray,
    keep: _Keeper,
) -> Iterator[tuple[np.ndarray, ...]]:
    """The overlapping pairs of these source stays with the segment's rows that meet the
    rules (``kernels.overlaps``), chunk by chunk, in the order of ``mine`` and each stay's
    candidates by start: (person, source, place, setting, start, end) of each overlap."""
    keys = segment.columns["key"]
    # Every row at the place that day starting before the source stay ends (those ending
    # before it starts are dropped in the join). Searched in key order: each search starts
    # where the last ended, which on a mapped file of millions of rows saves most of the misses.
    first_key = segment.where(sources.place[mine], sources.day_start[mine])
    last_key = segment.where(sources.place[mine], sources.end[mine])
    by_key = np.argsort(first_key)
    lo, hi = np.empty_like(first_key), np.empty_like(last_key)
    lo[by_key] = np.searchsorted(keys, first_key[by_key], side="left")
    hi[by_key] = np.searchsorted(keys, last_key[by_key], side="left")
    count = np.maximum(hi - lo, 0)
    total = np.cumsum(count)
    at = segment.columns
    # One type for the compiled loop (each new type is compiled apart).
    source, opens, closes, need, class_id, team = (
        _int64(x)
        for x in (
            sources.source,
            sources.start,
            sources.end,
            sources.need,
            sources.class_id,
            sources.team,
        )
    )
    first = 0
    while first < mine.size:
        done = total[first - 1] if first else 0
        last = max(first + 1, int(np.searchsorted(total, done + CHUNK_PAIRS, side="right")))
        size = int(total[last - 1] - done)
        q, s = np.empty(size, np.int64), np.empty(size, np.int64)
        found = kernels.overlaps(
            mine[first:last],
            lo[first:last],
            count[first:last],
            source,
            opens,
            closes,
            need,
            class_id,
            team,
            keep.group,
            at["person_id"],
            at["start"],
            at["end"],
            classes,
            works_at,
            keep.met_by,
            q,
            s,
        )
        q, s = q[:found], s[:found]
        yield (
            at["person_id"][s],
            sources.source[q],
            at[where][s],
            sources.setting[q],
            np.maximum(at["start"][s], sources.start[q]),
            np.minimum(at["end"][s], sources.end[q]),
        )
        first = last


def kept_as(rows: tuple[np.ndarray, ...], *, evidence: int, per: Per) -> tuple[np.ndarray, ...]:
    """Each person's ``evidence`` earliest overlaps (by start, then source, then place), each
    person's earliest with each source, or each person's ``evidence`` earliest in each place."""
    person, source, place, _setting, start, _end = rows
    # Ids are below 2**31: pairs of them, and a start with a source, pack into one integer
    # each, and a sort on two keys costs half one on four.
    if start.size:
        started = (start - start.min()).astype(np.int64) << 31 | source.astype(np.int64)
    else:
        started = start.astype(np.int64)
    if per == "source":
        pair = (person.astype(np.int64) << 32) | source.astype(np.int64)
        order = np.lexsort((place, started, pair))
        order = order[first_in_group(pair[order])]
    elif per == "place":
        pair = (person.astype(np.int64) << 32) | place.astype(np.int64)
        order = np.lexsort((started, pair))
        order = order[position_in_group(pair[order]) < evidence]
    else:
        order = np.lexsort((place, started, person))
        order = order[position_in_group(person[order]) < evidence]
    return tuple(column[order] for column in rows)
