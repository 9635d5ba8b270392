"""The column-wise merge gives what the pure rule (rules.merge) gives, exposure for exposure."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cordon.trace import evidence, kernels
from cordon.trace.rules import KIND_ORDER, Exposure, merge

KINDS = tuple(KIND_ORDER)


@st.composite
def exposures(draw: st.DrawFn) -> list[Exposure]:
    found = []
    for _ in range(draw(st.integers(0, 40))):
        kind = draw(st.sampled_from(KINDS))
        start = draw(st.integers(0, 20)) * 600  # few distinct times: ties on start happen
        at_place = kind != "companion"
        found.append(
            Exposure(
                contact_id=draw(st.integers(0, 8)),
                kind=kind,
                index_id=draw(st.integers(0, 8)),
                case_id=draw(st.integers(0, 3)),
                place_id=draw(st.integers(0, 5)) if at_place else None,
                cell_id=None if at_place else draw(st.integers(0, 5)),
                setting=draw(st.sampled_from(["work", "venue"])) if at_place else "cell",
                start=start,
                end=start + draw(st.integers(1, 5)) * 600,
                rule=f"{kind}: rule",
            )
        )
    return found


def as_table(found: list[Exposure]) -> pa.Table:
    return pa.table(
        {
            "contact_id": [e.contact_id for e in found],
            "kind": pa.array([KIND_ORDER[e.kind] for e in found], pa.int8()),
            "index_id": [e.index_id for e in found],
            "case_id": [e.case_id for e in found],
            "place_id": pa.array([e.place_id for e in found], pa.int64()),
            "cell_id": pa.array([e.cell_id for e in found], pa.int64()),
            "setting": pa.array([e.setting for e in found], pa.string()).dictionary_encode(),
            "start": pa.array([e.start for e in found], pa.int64()),
            "end": pa.array([e.end for e in found], pa.int64()),
            "rule": pa.array([e.rule for e in found], pa.string()).dictionary_encode(),
        },
        schema=evidence.EVIDENCE,
    )


@settings(max_examples=300, deadline=None)
@given(exposures(), st.sets(st.integers(0, 8), max_size=3))
def test_the_columnar_merge_is_the_pure_merge(found: list[Exposure], exclude: set[int]) -> None:
    traced = evidence.merge(as_table(found), evidence.no_met(), exclude=exclude)
    assert traced.to_contacts() == merge(found, exclude=exclude)
    expected = merge(found, exclude=exclude)
    assert traced.counts() == {k: sum(c.kind == k for c in expected) for k in KINDS}


def test_cases_met_beyond_the_evidence_are_added() -> None:
    found = [
        Exposure(1, "close", 10, 10, 3, None, "work", 600, 1800, "close: work >= 15 min"),
        Exposure(2, "close", 11, 11, 3, None, "work", 0, 1800, "close: work >= 15 min"),
    ]
    met = pa.table({"contact_id": [1, 1, 2, 7], "case_id": [12, 10, 11, 13]}, schema=evidence.MET)
    contacts = evidence.merge(as_table(found), met, exclude=set()).to_contacts()
    # Person 7 was met only in ``met`` (no evidence): not a contact of its own.
    assert [(c.person_id, c.case_ids) for c in contacts] == [(2, {11}), (1, {10, 12})]
    assert [len(c.evidence) for c in contacts] == [1, 1]


@pytest.mark.parametrize("dense_from", [0, 1_000_000_000])
def test_look_ups_by_table_and_by_search_agree(
    monkeypatch: pytest.MonkeyPatch, dense_from: int
) -> None:
    monkeypatch.setattr(evidence, "DENSE_FROM", dense_from)
    ids = np.array([7, 3, 12, 0])
    values = np.array([3, 5, 0, 12, -1, 99, 7])
    assert evidence.position_of(ids)(values).tolist() == [1, -1, 3, 2, -1, -1, 0]


@pytest.mark.parametrize("largest", [50, 1 << 40])  # packed into one sort / too wide to pack
def test_stable_order_is_a_stable_sort_by_group_then_value(largest: int) -> None:
    rng = np.random.default_rng(7)
    group = rng.integers(0, largest, 2_000)
    group[::7] = group[0]  # ties
    value = rng.integers(0, 5, 2_000)
    expected = np.lexsort((np.arange(group.size), value, group))
    assert evidence.stable_order(group, value).tolist() == expected.tolist()
    assert evidence.stable_order(group).tolist() == np.argsort(group, kind="stable").tolist()


@settings(max_examples=60, deadline=None)
@example(size=20_000, people=3_000, count=5, seed=1)  # the table's way, for sure
@example(size=20_000, people=20_000, count=1, seed=2)
@given(
    size=st.integers(0, 6_000),
    people=st.integers(1, 3_000),
    count=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_earliest_few_is_each_persons_first_rows_by_start_rank_and_row(
    size: int, people: int, count: int, seed: int
) -> None:
    """Both ways (a table by id from DENSE_FROM rows, else a sort) against plain Python."""
    rng = np.random.default_rng(seed)
    person = rng.integers(0, people, size)
    start = rng.integers(10**9, 10**9 + 50, size)  # many ties: rank, then the row decide
    rank = rng.integers(0, 4, size)
    rows = evidence.earliest_few(person, start, rank, count)
    by_person: dict[int, list[tuple[int, int, int]]] = {}
    for row in range(size):
        by_person.setdefault(int(person[row]), []).append((int(start[row]), int(rank[row]), row))
    expected = [r for p in sorted(by_person) for _, _, r in sorted(by_person[p])[:count]]
    assert rows.tolist() == expected


# ~8 values a group (sorted in place), and ~80 (a library sort); more than one radix pass.
@pytest.mark.parametrize(("groups", "most"), [(5_000, 3), (500, 200)])
def test_each_groups_distinct_values_come_sorted(groups: int, most: int) -> None:
    rng = np.random.default_rng(most)
    group = rng.integers(0, groups, 40_000)
    value = rng.integers(0, most, group.size)
    offsets, values = kernels.distinct_per_group(group, value, groups)
    for g in range(0, groups, 7):
        assert values[offsets[g] : offsets[g + 1]].tolist() == sorted(set(value[group == g]))
    assert offsets[-1] == values.size == np.unique(group * most + value).size


def test_a_contact_met_by_more_cases_than_bits_in_a_word_keeps_them_all() -> None:
    """Up to 64 cases, one bit each; beyond, the cases are grouped by contact and sorted."""
    found = [Exposure(1, "close", 10, 10, 3, None, "work", 600, 1800, "close: work >= 15 min")]
    for cases in (range(100, 160), range(100, 200)):
        met = pa.table(
            {"contact_id": [1] * len(cases), "case_id": list(cases)}, schema=evidence.MET
        )
        [contact] = evidence.merge(as_table(found), met, exclude=set()).to_contacts()
        assert contact.case_ids == {10, *cases}
