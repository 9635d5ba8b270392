"""Evidence as columns, and the merge of it into contacts, column-wise.

A trace at a dense city finds hundreds of thousands of companions; one Python object per piece
of evidence costs more than finding them. The engine keeps evidence in an Arrow table and
merges it with numpy: the same rule as ``rules.merge`` (strongest kind, then earliest exposure;
cases themselves are not contacts; every case met is kept), held equal to it by a property test.
``Traced.to_contacts`` builds the objects for whoever needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa

from cordon.trace import kernels
from cordon.trace.rules import KIND_ORDER, Contact, Exposure

KINDS = tuple(KIND_ORDER)  # kind code -> name, in order of strength
# Settings and rules are a handful of strings repeated on every row (a batch has a million rows
# of companion evidence): dictionary-encoded, a row costs an index, not a copy of the text.
TEXT = pa.dictionary(pa.int32(), pa.string())
EVIDENCE = pa.schema(
    [
        ("contact_id", pa.int64()),
        ("kind", pa.int8()),  # index into KINDS
        ("index_id", pa.int64()),  # the case (close, companion) or close contact (secondary)
        ("case_id", pa.int64()),  # the case the chain starts from
        ("place_id", pa.int64()),  # null for companions
        ("cell_id", pa.int64()),  # null for co-presence at a place
        ("setting", TEXT),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("rule", TEXT),
    ]
)
DENSE_IDS = 1 << 24  # ids below this are looked up in a table by id (at most 128 MB)
DENSE_FROM = 4_096  # ... when there are at least this many ids (filling it costs its size)
MET = pa.schema([("contact_id", pa.int64()), ("case_id", pa.int64())])


_EMPTY, _NO_MET = EVIDENCE.empty_table(), MET.empty_table()  # tables are immutable: shared


def empty() -> pa.Table:
    return _EMPTY


def no_met() -> pa.Table:
    return _NO_MET


def met(contact: np.ndarray, case_id: np.ndarray) -> pa.Table:
    """(contact, case) pairs a batch met beyond the evidence it keeps."""
    return pa.table(
        {
            "contact_id": pa.array(contact.astype(np.int64)),
            "case_id": pa.array(case_id.astype(np.int64)),
        },
        schema=MET,
    )


def of_overlaps(
    overlaps: pa.Table,
    *,
    kind: str,
    case_id: np.ndarray,
    rules: dict[str, str],
) -> pa.Table:
    """Evidence from co-presence overlaps (person_id, source_id, place_id, setting, start, end):
    ``case_id`` per row, ``rules`` says what matched per setting."""
    if overlaps.num_rows == 0:
        return empty()
    settings = overlaps.column("setting").combine_chunks().cast(pa.string()).dictionary_encode()
    said = pa.array([rules[s] for s in settings.dictionary.to_pylist()], pa.string())
    n = overlaps.num_rows
    return pa.table(
        {
            "contact_id": overlaps.column("person_id").cast(pa.int64()),
            "kind": pa.array(np.full(n, KIND_ORDER[kind], np.int8)),
            "index_id": overlaps.column("source_id").cast(pa.int64()),
            "case_id": pa.array(np.asarray(case_id, np.int64)),
            "place_id": overlaps.column("place_id").cast(pa.int64()),
            "cell_id": pa.nulls(n, pa.int64()),
            "setting": settings,
            "start": overlaps.column("start").cast(pa.int64()),
            "end": overlaps.column("end").cast(pa.int64()),
            "rule": pa.DictionaryArray.from_arrays(settings.indices, said),
        },
        schema=EVIDENCE,
    )


def of_cells(overlaps: pa.Table, *, case_id: np.ndarray, rule: str) -> pa.Table:
    """Companion evidence from phone-cell overlaps (person_id, source_id, cell_id, start,
    end)."""
    n = overlaps.num_rows
    if n == 0:
        return empty()
    return pa.table(
        {
            "contact_id": overlaps.column("person_id").cast(pa.int64()),
            "kind": pa.array(np.full(n, KIND_ORDER["companion"], np.int8)),
            "index_id": overlaps.column("source_id").cast(pa.int64()),
            "case_id": pa.array(np.asarray(case_id, np.int64)),
            "place_id": pa.nulls(n, pa.int64()),
            "cell_id": overlaps.column("cell_id").cast(pa.int64()),
            "setting": _repeated("cell", n),
            "start": overlaps.column("start").cast(pa.int64()),
            "end": overlaps.column("end").cast(pa.int64()),
            "rule": _repeated(rule, n),
        },
        schema=EVIDENCE,
    )


def _repeated(text: str, n: int) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([text]))


def stable_order(group: np.ndarray, value: np.ndarray | None = None) -> np.ndarray:
    """Row numbers in order of (group, value), ties in row order; both non-negative. numpy
    sorts int64 values about ten times faster than it argsorts them: when group, value and
    row number pack into 63 bits, this is one sort of packed values."""
    if group.size == 0:
        return np.empty(0, np.int64)
    value = np.zeros(group.size, np.int64) if value is None else value
    bits = [int(x.max()).bit_length() for x in (group, value)] + [group.size.bit_length()]
    if sum(bits) > 63:
        return np.lexsort((value, group))
    packed = (group.astype(np.int64) << (bits[1] + bits[2])) | (value.astype(np.int64) << bits[2])
    packed = np.sort(packed | np.arange(group.size))
    return packed & ((1 << bits[2]) - 1)


def earliest_few(person: np.ndarray, start: np.ndarray, rank: np.ndarray, count: int) -> np.ndarray:
    """Row numbers of each person's ``count`` earliest rows, by start, then ``rank`` (a
    non-negative tie-breaker), then row number: grouped by person (ascending id), earliest
    first. Millions of rows in a batch's companions: for ids in a table's range, a counting
    sort by person (``kernels.least_per_group``) instead of sorting them all."""
    if person.size == 0:
        return np.empty(0, np.int64)
    start = start - start.min()
    bits = [int(x.max()).bit_length() for x in (start, rank)] + [person.size.bit_length()]
    dense = person.size >= DENSE_FROM and person.min() >= 0 and person.max() < DENSE_IDS
    if not dense or sum(bits) > 63:
        order = np.lexsort((np.arange(person.size), rank, start, person))
        return order[position_in_group(person[order]) < count]
    key = (start << (bits[1] + bits[2])) | (rank.astype(np.int64) << bits[2])
    key |= np.arange(person.size)
    return kernels.least_per_group(person, key, count, int(person.max()) + 1, bits[2])


def first_in_group(sorted_key: np.ndarray) -> np.ndarray:
    """True where a run of equal keys starts."""
    if sorted_key.size == 0:
        return np.zeros(0, dtype=bool)
    return np.r_[True, sorted_key[1:] != sorted_key[:-1]]


def position_in_group(sorted_key: np.ndarray) -> np.ndarray:
    """0, 1, 2, … within each run of equal keys."""
    index = np.arange(sorted_key.size)
    return index - np.maximum.accumulate(np.where(first_in_group(sorted_key), index, 0))


@dataclass(frozen=True)
class Traced:
    """Contacts (person_id, kind, first_exposure, case_ids, first_evidence, evidence_count),
    strongest kind first, then earliest, then by person; evidence grouped by contact, each
    contact's rows strongest kind then earliest first (its first row names the case)."""

    contacts: pa.Table
    found: pa.Table  # the evidence as found
    order: np.ndarray  # rows of ``found`` grouped by contact, as ``evidence`` lists them

    @cached_property
    def evidence(self) -> pa.Table:
        """The evidence grouped by contact (taken when asked: it is the bulk of a trace)."""
        return self.found.take(pa.array(self.order))

    def __len__(self) -> int:
        return self.contacts.num_rows

    def counts(self) -> dict[str, int]:
        codes = self.contacts.column("kind").to_numpy()
        found = np.bincount(codes, minlength=len(KINDS)) if codes.size else np.zeros(len(KINDS))
        return {name: int(found[code]) for code, name in enumerate(KINDS)}

    def to_contacts(self) -> list[Contact]:
        ev = self.evidence
        columns = [
            ev.column(name).to_pylist()
            for name in (
                "contact_id",
                "index_id",
                "case_id",
                "place_id",
                "cell_id",
                "setting",
                "start",
                "end",
                "rule",
            )
        ]
        kinds = [KINDS[k] for k in ev.column("kind").to_numpy()]
        exposures = [
            Exposure(contact, kind, index, case, place, cell, setting, start, end, rule)
            for contact, kind, index, case, place, cell, setting, start, end, rule in zip(
                columns[0], kinds, *columns[1:], strict=True
            )
        ]
        c = self.contacts
        return [
            Contact(person, KINDS[kind], first, set(cases), exposures[at : at + count])
            for person, kind, first, cases, at, count in zip(
                c.column("person_id").to_pylist(),
                c.column("kind").to_pylist(),
                c.column("first_exposure").to_pylist(),
                c.column("case_ids").to_pylist(),
                c.column("first_evidence").to_pylist(),
                c.column("evidence_count").to_pylist(),
                strict=True,
            )
        ]


def merge(found: pa.Table, met: pa.Table, *, exclude: set[int]) -> Traced:
    """One contact per person: the strongest kind wins, then the earliest exposure of that
    kind; all evidence is kept, and every case met (from the evidence and from ``met``: the
    cases a batch saw each contact meet beyond the evidence it keeps)."""
    people = _numbers(found, "contact_id")
    kinds = _numbers(found, "kind")
    starts = _numbers(found, "start")
    rows = np.arange(people.size)
    if exclude:
        rows = rows[position_of(np.fromiter(exclude, np.int64, len(exclude)))(people) < 0]
    # Stable, so equal exposures keep the order they were found in (as sorted() in rules.merge).
    # Person, kind and start in one integer (ids below 2**31, kinds below 4, times within
    # 2**30 s of each other): one stable sort, not three.
    if rows.size and int(starts.max() - starts.min()) < 1 << 30:
        key = people[rows] << 32 | kinds[rows].astype(np.int64) << 30 | starts[rows] - starts.min()
        order = rows[np.argsort(key, kind="stable")]
    else:
        order = rows[np.lexsort((starts[rows], kinds[rows], people[rows]))]
    grouped = people[order]
    heads = np.flatnonzero(first_in_group(grouped))
    counts = np.diff(np.r_[heads, grouped.size])
    person = grouped[heads]
    kind = kinds[order[heads]]
    first = starts[order[heads]]
    rank = np.lexsort((person, first, kind))
    case_ids = _cases_met(person[rank], people[rows], _numbers(found, "case_id")[rows], met)
    contacts = pa.table(
        {
            "person_id": pa.array(person[rank]),
            "kind": pa.array(kind[rank]),
            "first_exposure": pa.array(first[rank]),
            "case_ids": case_ids,
            "first_evidence": pa.array(heads[rank]),
            "evidence_count": pa.array(counts[rank]),
        }
    )
    return Traced(contacts=contacts, found=found, order=order)


def _numbers(table: pa.Table, name: str) -> np.ndarray:
    """A numeric column as one array, even across chunks (int64 for ids and times)."""
    column = table.column(name)
    if column.num_chunks == 1:
        return column.chunk(0).to_numpy()
    if column.num_chunks == 0:
        return np.empty(0, column.type.to_pandas_dtype())
    return np.concatenate([chunk.to_numpy() for chunk in column.chunks])


def _cases_met(
    person: np.ndarray, contact: np.ndarray, case_of: np.ndarray, met: pa.Table
) -> pa.Array:
    """Per contact (``person``, in the order given), the sorted distinct cases met, from the
    evidence's (``contact``, ``case_of``) pairs and ``met``."""
    # Every contact of the evidence is a contact; a case met may be met by someone who is not
    # (a case themselves).
    met_contact, met_case = _numbers(met, "contact_id"), _numbers(met, "case_id")
    cases = _distinct_small(case_of, met_case)
    dense = (
        person.size
        and person.min() >= 0
        and max(person.max(), met_contact.max(initial=0)) < DENSE_IDS
    )
    if cases is not None and dense:
        offsets, cases = kernels.cases_met(
            person, [(contact, case_of), (met_contact, met_case)], cases
        )
        return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), pa.array(cases))
    at = position_of(person)
    mine = at(met_contact)
    inside = mine >= 0
    offsets, cases = kernels.distinct_per_group(
        np.concatenate([at(contact), mine[inside]]),
        np.concatenate([case_of, met_case[inside]]),
        person.size,
    )
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), pa.array(cases))


def _distinct_small(*ids: np.ndarray) -> np.ndarray | None:
    """The distinct ids (sorted) when there are at most 64 of them, in a table's range (the
    cases of a batch: one bit each in ``kernels.cases_met``), else None."""
    if any(x.size and (x.min() < 0 or x.max() >= DENSE_IDS) for x in ids):
        return None
    seen = np.zeros(max(int(x.max(initial=0)) for x in ids) + 1, bool)
    for x in ids:
        seen[x] = True
    found = np.flatnonzero(seen)
    return found if found.size <= 64 else None


def position_of(ids: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Where each value sits in ``ids`` (distinct), -1 if it is not there: a table look-up when
    the ids are a city's (millions of look-ups, each a cache hit), else a binary search."""
    # A table costs its size to fill: worth it for many ids (a surge), not for a few dozen.
    if ids.size >= DENSE_FROM and int(ids.min()) >= 0 and int(ids.max()) < DENSE_IDS:
        table = np.full(int(ids.max()) + 1, -1, np.int64)
        table[ids] = np.arange(ids.size)

        def look_up(values: np.ndarray) -> np.ndarray:
            known = (values >= 0) & (values < table.size)
            return np.where(known, table[np.where(known, values, 0)], -1)

        return look_up
    order = np.argsort(ids)
    ordered = ids[order]

    def search(values: np.ndarray) -> np.ndarray:
        if ordered.size == 0:
            return np.full(values.size, -1, np.int64)
        at = np.minimum(np.searchsorted(ordered, values), ordered.size - 1)
        return np.where(ordered[at] == values, order[at], -1)

    return search
