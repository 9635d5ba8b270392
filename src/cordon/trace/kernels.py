"""The loops of tracing that numpy can only do in many passes, compiled (numba).

Co-presence at scale is tens of millions of candidate pairs (twenty cases' phone cells at a
city of a million). In numpy each test is a pass over all of them with a temporary array, and
keeping each person's first overlap with each case is a sort; numpy sorts integers at ~60 ns
each on this kind of machine. One compiled loop tests a candidate and keeps it or not in a few
ns, in the order it is met, with nothing in between. Compiled once per machine and kept on disk
(``cache``); ``nogil``: a trace's helper thread runs one while the calling thread runs another.
"""

from __future__ import annotations

import numpy as np
from numba import njit

SMALL = 32  # values a group holds, below which an insertion sort beats a library sort
RADIX_BITS = 8
RADIX_SIZE = 1 << RADIX_BITS
RADIX_MASK = RADIX_SIZE - 1


@njit(cache=True, nogil=True)
def overlaps(
    source_rows: np.ndarray,
    lo: np.ndarray,
    count: np.ndarray,
    source: np.ndarray,
    source_start: np.ndarray,
    source_end: np.ndarray,
    need: np.ndarray,
    class_id: np.ndarray,
    team: np.ndarray,
    group: np.ndarray,
    person: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    classes: np.ndarray,
    works_at: np.ndarray,
    met_by: np.ndarray,
    out_source_row: np.ndarray,
    out_row: np.ndarray,
) -> int:
    """The candidates ``lo[i] .. lo[i] + count[i]`` (rows of a segment: ``person``, ``start``,
    ``end``) of each source row ``source_rows[i]`` that overlap it for at least its ``need``
    seconds, are someone else and pass the source row's tests of who they are:

    * ``class_id`` >= 0 (a classroom): of the same class or of none (``classes``: by person
      id, -1 for none; may be empty);
    * ``team`` >= 0 (a place where both must work): working there (``works_at``: by person
      id, -1 for nowhere; may be empty).

    People beyond a table are not tested by it. Written to ``out_source_row`` / ``out_row``
    in the order met; returns how many.

    With a ``met_by`` table (by person id; else an empty array), only the first overlap of
    each (person, source ``group``) is written, and ``met_by[person]`` remembers the group:
    sources come one group after another, so it is also the first of later calls."""
    firsts = met_by.size > 0
    found = 0
    for i in range(source_rows.size):
        q = source_rows[i]
        me, opens, closes = source[q], source_start[q], source_end[q]
        own, mine, works = class_id[q], group[q], team[q]
        for s in range(lo[i], lo[i] + count[i]):
            who = person[s]
            if who == me:
                continue
            if min(end[s], closes) - max(start[s], opens) < need[q]:
                continue
            if own >= 0 and 0 <= who < classes.size:
                theirs = classes[who]
                if theirs >= 0 and theirs != own:
                    continue
            if works >= 0 and 0 <= who < works_at.size and works_at[who] != works:
                continue
            if firsts:
                if met_by[who] == mine:
                    continue
                met_by[who] = mine
            out_source_row[found] = q
            out_row[found] = s
            found += 1
    return found


@njit(cache=True, nogil=True)
def time_in_cells(
    person: np.ndarray,
    lo: np.ndarray,
    count: np.ndarray,
    cell: np.ndarray,
    opens: np.ndarray,
    closes: np.ndarray,
    row_cell: np.ndarray,
    row_start: np.ndarray,
    row_end: np.ndarray,
    spent: np.ndarray,
) -> None:
    """Adds to ``spent[i]`` the time ``person[i]``'s rows ``lo[i] .. lo[i] + count[i]`` (of a
    by-person segment: by start, not overlapping) spend in ``cell[i]`` within [opens[i],
    closes[i]). ``person`` is sorted: each person's rows are read once for all of their pairs,
    from the first that ends after the earliest opening (a segment holds up to 128 days)."""
    i, n = 0, person.size
    while i < n:
        j, first, last = i, opens[i], closes[i]
        while j < n and person[j] == person[i]:
            first, last = min(first, opens[j]), max(last, closes[j])
            j += 1
        low, high = lo[i], lo[i] + count[i]
        while low < high:  # the first row ending after ``first``
            middle = (low + high) // 2
            if row_end[middle] <= first:
                low = middle + 1
            else:
                high = middle
        for s in range(low, lo[i] + count[i]):
            if row_start[s] >= last:
                break
            here = row_cell[s]
            for k in range(i, j):
                if cell[k] == here:
                    took = min(row_end[s], closes[k]) - max(row_start[s], opens[k])
                    if took > 0:
                        spent[k] += took
        i = j


@njit(cache=True, nogil=True)
def runs_of_sorted(keys: np.ndarray, wanted: np.ndarray, lo: np.ndarray, count: np.ndarray) -> None:
    """Where each of ``wanted`` (sorted) starts its run in ``keys`` (sorted), and the run's
    length: each search gallops on from where the last one ended, so that hundreds of thousands
    of people in a file of tens of millions of rows cost a few steps each, near each other,
    where a binary search from scratch misses the cache at nearly every step."""
    at, n = 0, keys.size
    for i in range(wanted.size):
        key = wanted[i]
        for side in range(2):  # 0: the first row >= key; 1: the first row > key
            step = 1
            while at + step <= n and (
                keys[at + step - 1] < key if side == 0 else keys[at + step - 1] <= key
            ):
                step *= 2
            low, high = at + step // 2, min(at + step, n)  # the answer is in [low, high]
            while low < high:
                middle = (low + high) // 2
                if keys[middle] < key if side == 0 else keys[middle] <= key:
                    low = middle + 1
                else:
                    high = middle
            if side == 0:
                lo[i] = low
            else:
                count[i] = low - lo[i]
            at = low


def least_per_group(
    group: np.ndarray, key: np.ndarray, count: int, groups: int, row_bits: int
) -> np.ndarray:
    """Row numbers of each group's ``count`` least keys, least first, groups in order (0 ..
    groups - 1). Keys are distinct and hold the row number in their low ``row_bits``."""
    out = np.empty(group.size, np.int64)
    work, offsets = _work(group.size, groups)
    kept = _least_per_group(_int64(group), _int64(key), count, row_bits, work, offsets, out)
    return out[:kept]


def distinct_per_group(
    group: np.ndarray, value: np.ndarray, groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each group's distinct values, sorted: (``groups + 1`` offsets, values)."""
    starts = np.empty(groups + 1, np.int64)
    values = np.empty(group.size, np.int64)
    work, offsets = _work(group.size, groups)
    kept = _distinct_per_group(_int64(group), _int64(value), work, offsets, starts, values)
    return starts, values[:kept]


def cases_met(
    person: np.ndarray, pairs: list[tuple[np.ndarray, np.ndarray]], cases: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per person (distinct ids, non-negative, below a table's size), the ``cases`` (at most 64,
    sorted, distinct) met in the (contact, case) ``pairs``: (offsets, case ids). One bit per
    case in a word per person: no sort, and nothing the size of the pairs."""
    size = max([int(person.max(initial=-1))] + [int(c.max(initial=-1)) for c, _ in pairs]) + 1
    bit = np.full(int(cases.max()) + 1, -1, np.int64)
    bit[cases] = np.arange(cases.size)
    masks = np.zeros(size, np.uint64)
    for contact, case in pairs:
        _mark(_int64(contact), _int64(case), bit, masks)
    offsets = np.empty(person.size + 1, np.int64)
    values = np.empty(_count(_int64(person), masks, offsets), np.int64)
    _case_lists(_int64(person), masks, _int64(cases), offsets, values)
    return offsets, values


def _int64(values: np.ndarray) -> np.ndarray:
    """One type for the kernels' arguments: each new type is compiled (or loaded) apart."""
    return np.ascontiguousarray(values, np.int64)


def _work(rows: int, groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Room for ``_by_group``, allocated by numpy: numpy asks the kernel for huge pages for
    large arrays, a compiled loop's own allocations fault in 4 KB at a time (on this kind of
    machine, a few microseconds each: most of a pass over fresh memory)."""
    return np.empty((4, rows), np.int64), np.empty(groups + 1, np.int64)


def warm() -> None:
    """Load (or compile) every kernel for the types tracing passes: the first call of each in
    a process costs about a second, which the first trace should not pay."""
    one, mapped = np.zeros(1, np.int64), np.zeros(1, np.int32)
    mapped.setflags(write=False)
    times = np.zeros(1, np.int64)
    times.setflags(write=False)
    rows, out = np.zeros(1, np.int64), np.zeros(1, np.int64)
    met_by = np.zeros(1, np.int32)
    overlaps(
        one,
        one,
        one,
        one,
        one,
        one,
        one,
        one,
        one,
        one,
        mapped,
        times,
        times,
        one,
        one,
        met_by,
        rows,
        out,
    )
    time_in_cells(one, one, one, one, one, one, times, times, times, out)
    runs_of_sorted(mapped, one, rows, out)
    least_per_group(one, one, 1, 1, 1)
    distinct_per_group(one, one, 1)
    cases_met(one, [(one, one)], one)


@njit(cache=True, nogil=True)
def _by_group(group: np.ndarray, value: np.ndarray, work: np.ndarray, offsets: np.ndarray) -> int:
    """Values ordered by group (0 .. len(offsets) - 2), in row order within a group: written to
    ``work[at + 1]`` (``at`` returned; ``work[at]``: the groups), where each group's rows start
    to ``offsets``.

    A radix sort of RADIX_BITS a pass: each pass writes to RADIX_SIZE streams that stay in
    cache, where a counting sort straight into a million groups would miss the cache on
    nearly every row."""
    n, groups = group.size, offsets.size - 1
    now, then = 0, 2  # work[now], work[now + 1]: group, value; work[then ..]: the next pass
    for i in range(n):
        work[0, i], work[1, i] = group[i], value[i]
    shift = 0
    while shift == 0 or (groups - 1) >> shift > 0:
        at = np.zeros(RADIX_SIZE + 1, np.int64)
        for i in range(n):
            at[((work[now, i] >> shift) & RADIX_MASK) + 1] += 1
        for d in range(RADIX_SIZE):
            at[d + 1] += at[d]
        for i in range(n):
            d = (work[now, i] >> shift) & RADIX_MASK
            to = at[d]
            work[then, to] = work[now, i]
            work[then + 1, to] = work[now + 1, i]
            at[d] += 1
        now, then = then, now
        shift += RADIX_BITS
    offsets[:] = 0
    for i in range(n):
        offsets[work[now, i] + 1] += 1
    for g in range(groups):
        offsets[g + 1] += offsets[g]
    return now


@njit(cache=True, nogil=True)
def _least_per_group(
    group: np.ndarray,
    key: np.ndarray,
    count: int,
    row_bits: int,
    work: np.ndarray,
    offsets: np.ndarray,
    out: np.ndarray,
) -> int:
    keys = work[_by_group(group, key, work, offsets) + 1]
    row_mask = (1 << row_bits) - 1
    best = np.empty(count, np.int64)
    kept = 0
    for g in range(offsets.size - 1):
        size = 0
        for i in range(offsets[g], offsets[g + 1]):
            value = keys[i]
            if size == count and value >= best[size - 1]:
                continue
            place = min(size, count - 1)  # where it goes: larger ones move up
            while place > 0 and best[place - 1] > value:
                best[place] = best[place - 1]
                place -= 1
            best[place] = value
            size = min(size + 1, count)
        for i in range(size):
            out[kept + i] = best[i] & row_mask
        kept += size
    return kept


@njit(cache=True, nogil=True)
def _distinct_per_group(
    group: np.ndarray,
    value: np.ndarray,
    work: np.ndarray,
    offsets: np.ndarray,
    starts: np.ndarray,
    out: np.ndarray,
) -> int:
    """A group holds a few values (the cases a contact met): each is sorted where it lies."""
    values = work[_by_group(group, value, work, offsets) + 1]
    kept = 0
    starts[0] = 0
    for g in range(offsets.size - 1):
        lo, hi = offsets[g], offsets[g + 1]
        if hi - lo > SMALL:
            values[lo:hi] = np.sort(values[lo:hi])
        else:
            for i in range(lo + 1, hi):  # insertion sort
                v, back = values[i], i
                while back > lo and values[back - 1] > v:
                    values[back] = values[back - 1]
                    back -= 1
                values[back] = v
        for i in range(lo, hi):
            if i == lo or values[i] != values[i - 1]:
                out[kept] = values[i]
                kept += 1
        starts[g + 1] = kept
    return kept


@njit(cache=True, nogil=True)
def _mark(contact: np.ndarray, case: np.ndarray, bit: np.ndarray, masks: np.ndarray) -> None:
    for i in range(contact.size):
        if contact[i] >= 0:
            masks[contact[i]] |= np.uint64(1) << np.uint64(bit[case[i]])


@njit(cache=True, nogil=True)
def _count(person: np.ndarray, masks: np.ndarray, offsets: np.ndarray) -> int:
    offsets[0] = 0
    for at in range(person.size):
        mask, count = masks[person[at]], 0
        while mask:
            mask &= mask - np.uint64(1)
            count += 1
        offsets[at + 1] = offsets[at] + count
    return offsets[-1]


@njit(cache=True, nogil=True)
def _case_lists(
    person: np.ndarray, masks: np.ndarray, cases: np.ndarray, offsets: np.ndarray, out: np.ndarray
) -> None:
    for at in range(person.size):
        mask, to = masks[person[at]], offsets[at]
        for b in range(cases.size):
            if mask >> np.uint64(b) & np.uint64(1):
                out[to] = cases[b]
                to += 1
