"""Co-presence as an interval join on the where-index (``lake.index``), in numpy: who else was at
these places (in these cells) at these times.

For one case that is a few dozen stays against a few thousand rows, less work than the ~5 ms
DuckDB spends planning a query; for twenty cases' phone cells it is millions of candidate pairs,
expanded in bounded chunks. A segment's rows are sorted by key (place, seconds since its first
midnight) and a stay never crosses local midnight (the lake's layout rule), so each source
stay's candidates are one contiguous run of the mapped file, found for all of them by one binary
search, and nothing is copied before it is known to be a candidate.

The answer is the store's ``co_present`` / ``co_cell`` (see ``backend.MovementStore``): overlaps
of at least ``need`` seconds, in a classroom only of the same class, and each person's earliest
few (by start, then source, then place), each person's earliest with each source, or each
person's earliest few in each place.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from cordon.lake.index import Segment
from cordon.trace.evidence import first_in_group, position_in_group, stable_order

# Candidate pairs expanded at once (~60 bytes each): bounds memory in a surge.
CHUNK_PAIRS = 2_000_000
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


def class_of(classes: np.ndarray, people: np.ndarray) -> np.ndarray:
    """Each person's class from a table by person id (-1 for none or unknown)."""
    if classes.size == 0:
        return np.full(people.size, -1, dtype=np.int64)
    known = (people >= 0) & (people < classes.size)
    return np.where(known, classes[np.where(known, people, 0)], -1)


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
    setting: np.ndarray  # a number the caller gives meaning to (kept with each overlap)


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
) -> Overlaps:
    """Overlaps of ``sources`` with the rows of ``segments`` (``where``: the place or cell column;
    ``classes``: each person's class by id, -1 for none), kept as ``per`` says."""
    keep = _Keeper(sources, evidence=evidence, per=per)
    for segment in segments:
        after = segment.start + (segment.last_day - segment.first_day + 1) * DAY
        mine = np.flatnonzero((sources.day_start >= segment.start) & (sources.day_start < after))
        if mine.size and segment.size:
            keep.next_segment()
            for rows in _pairs(sources, mine, segment, where, classes):
                keep.add(rows)
    return Overlaps(*keep.result())


class _Keeper:
    """Collects overlaps chunk by chunk and keeps what ``per`` asks for, reducing what it holds
    whenever it has doubled (memory stays bounded, and no row is sorted more than a few times).

    Overlaps are found source by source in the sources' order, each source stay's candidates by
    start. When the sources come grouped and each one's stays in time order, not overlapping (a
    person's stays and cell records never do), a person's overlaps with one source are found in
    time order: the earliest of each (person, source) is the first found, and finding it is one
    sort of packed integers instead of a sort on three keys (ten times faster on millions of
    rows). Pairs with a source whose overlaps are all found are then final: only the last
    source's are held over to the next chunk."""

    def __init__(self, sources: Sources, *, evidence: int, per: Per) -> None:
        self.evidence = evidence
        self.per = per
        self.ids = np.unique(sources.source)
        source, start, end = sources.source, sources.start, sources.end
        later = source[1:] > source[:-1]
        after = (source[1:] == source[:-1]) & (start[1:] >= end[:-1])
        self.firsts = per == "source" and bool(np.all(later | after))
        self.done: list[tuple[np.ndarray, ...]] = []
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
        self.count += rows[0].size
        if self.firsts:
            kept = self._reduce()
            last = kept[1] == kept[1][-1] if kept[1].size else np.zeros(0, bool)
            self.done.append(tuple(column[~last] for column in kept))
            self.held = [tuple(column[last] for column in kept)]
        elif self.count > self.limit:
            kept = self._reduce()
            self.held, self.count = [kept], kept[0].size
            self.limit = max(CHUNK_PAIRS, 2 * self.count)

    def result(self) -> tuple[np.ndarray, ...]:
        if not self.held:
            return tuple([np.empty(0, np.int64)] * 6)
        if self.firsts and self.segments > 1:
            self.held = [*self.done, *self.held]  # found order: earlier segments first
            self.done = []
        return _concat([*self.done, self._reduce()])

    def _reduce(self) -> tuple[np.ndarray, ...]:
        rows = _concat(self.held)
        if self.firsts:
            picked = _first_per_pair(rows[0], np.searchsorted(self.ids, rows[1]), self.ids.size)
            return tuple(column[picked] for column in rows)
        return _keep(rows, evidence=self.evidence, per=self.per)


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
    sources: Sources, mine: np.ndarray, segment: Segment, where: str, classes: np.ndarray
) -> Iterator[tuple[np.ndarray, ...]]:
    """The overlapping pairs of these source stays with the segment's rows, chunk by chunk, in
    the order of ``mine`` and each stay's candidates by start: (person, source, place, setting,
    start, end) of each overlap meeting the rules."""
    keys = segment.columns["key"]
    # Every row at the place that day starting before the source stay ends (those ending
    # before it starts are dropped below). Searched in key order: each search starts where
    # the last ended, which on a mapped file of millions of rows saves most of the misses.
    first_key = segment.where(sources.place[mine], sources.day_start[mine])
    last_key = segment.where(sources.place[mine], sources.end[mine])
    by_key = np.argsort(first_key)
    lo, hi = np.empty_like(first_key), np.empty_like(last_key)
    lo[by_key] = np.searchsorted(keys, first_key[by_key], side="left")
    hi[by_key] = np.searchsorted(keys, last_key[by_key], side="left")
    count = np.maximum(hi - lo, 0)
    total = np.cumsum(count)
    first = 0
    while first < mine.size:
        done = total[first - 1] if first else 0
        last = max(first + 1, int(np.searchsorted(total, done + CHUNK_PAIRS, side="right")))
        rows = _expand(sources, mine[first:last], lo[first:last], count[first:last], segment)
        yield _rules(sources, rows, segment, where, classes)
        first = last


def _expand(
    sources: Sources, mine: np.ndarray, lo: np.ndarray, count: np.ndarray, segment: Segment
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs: (source row, segment row)."""
    return np.repeat(mine, count), rows_in(lo, count)


def _rules(
    sources: Sources,
    candidates: tuple[np.ndarray, np.ndarray],
    segment: Segment,
    where: str,
    classes: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """The candidates that overlap long enough, are someone else and, in a classroom, of the
    same class: every test on all candidates, then one compaction (each is a pass over
    millions of rows)."""
    q, s = candidates
    start = np.maximum(segment.columns["start"][s], sources.start[q])
    end = np.minimum(segment.columns["end"][s], sources.end[q])
    person = segment.columns["person_id"][s]
    keep = (end - start >= sources.need[q]) & (person != sources.source[q])
    own = sources.class_id[q]
    in_class = np.flatnonzero(keep & (own >= 0)) if classes.size else np.empty(0, np.int64)
    if in_class.size:
        theirs = class_of(classes, person[in_class])
        keep[in_class] = (theirs < 0) | (theirs == own[in_class])
    kept = np.flatnonzero(keep)
    q, s = q[kept], s[kept]
    return (
        person[kept],
        sources.source[q],
        segment.columns[where][s],
        sources.setting[q],
        start[kept],
        end[kept],
    )


def _keep(rows: tuple[np.ndarray, ...], *, evidence: int, per: Per) -> tuple[np.ndarray, ...]:
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
