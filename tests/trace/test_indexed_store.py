"""The indexed reads (tracing's index: memory-mapped segments sorted by who and by where) and
batch tracing give exactly what the first version gave: a scan of every stay of the window's
days, one case at a time."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cordon.lake import index
from cordon.lake.index import BY_WHERE, INDEX, open_segments
from cordon.lake.reader import read_table
from cordon.protocols import packs
from cordon.sim import service as sim
from cordon.trace import intervals, kernels
from cordon.trace.backend import Residency
from cordon.trace.duckdb_store import PLACE_EVIDENCE_PER_PERSON, DuckDBStore
from cordon.trace.engine import EVIDENCE_PER_CONTACT, trace
from cordon.trace.rules import Contact, IndexCase, look_back_window, merge
from tests.trace.test_engine import IMPORTS, index_cases

PACKS = ("guangxi-2021-12", "e9-2022-06")


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("indexed") / "lake"
    # Without visitors, this seeded city has a contact met by more cases than its evidence keeps.
    city = {"city": {"visitor_share": 0.0}}
    sim.run(sim.RunRequest("dongxing-2021", 3_000, 8, 9, out, overrides={**IMPORTS, **city}))
    return out


@pytest.fixture(scope="module")
def cases(lake: Path) -> list[IndexCase]:
    found = index_cases(lake)
    assert len(found) >= 3, "the seeded city needs cases that infected others"
    return found


def flat(contacts: list[Contact]) -> list[tuple[object, ...]]:
    """Contacts with their evidence in a fixed order (evidence of equal kind and start may come
    in any order from the store)."""
    return [
        (
            c.person_id,
            c.kind,
            c.first_exposure,
            tuple(sorted(c.case_ids)),
            tuple(
                sorted(
                    (
                        e.kind,
                        e.start,
                        e.end,
                        e.index_id,
                        e.case_id,
                        e.place_id or -1,
                        e.cell_id or -1,
                        e.setting,
                        e.rule,
                    )
                    for e in c.evidence
                )
            ),
        )
        for c in contacts
    ]


def test_the_lake_holds_tracings_index_sorted_by_who_and_by_where(lake: Path) -> None:
    """One segment for the eight days, sorted by (id, start); the where-indexes' key finds a
    place's (cell's) rows of a day and time by binary search."""
    stays = read_table(lake, "stays")
    cells = read_table(lake, "cell_records")
    store = DuckDBStore(lake)
    for name, (source, id_column, columns) in INDEX.items():
        [segment] = open_segments(lake, name)
        assert (segment.first_day, segment.last_day, segment.start) == (0, 7, store.day0)
        assert segment.size == (stays if source == "stays" else cells).num_rows
        assert set(segment.columns) == set(columns) | ({"key"} if name in BY_WHERE else set())
        ids, start = segment.columns[id_column].astype(np.int64), segment.columns["start"]
        order = np.lexsort((start, ids))
        assert (order == np.arange(order.size)).all()
        if name in BY_WHERE:
            assert (segment.columns["key"] == segment.where(ids, start)).all()
            assert (np.diff(segment.columns["key"]) >= 0).all()
    # The same rows as the lake's day file, times in epoch seconds.
    [by_place] = open_segments(lake, "stays_by_place")
    day2 = pq.read_table(lake / "stays" / "day=002" / "part-0.parquet")
    seconds = day2.column("start").cast(pa.timestamp("s", tz="UTC")).cast(pa.int64()).to_numpy()
    on_day2 = (by_place.columns["start"] >= seconds.min()) & (
        by_place.columns["start"] <= seconds.max()
    )
    mine = sorted(
        zip(
            by_place.columns["person_id"][on_day2].tolist(),
            by_place.columns["start"][on_day2].tolist(),
            by_place.columns["place_id"][on_day2].tolist(),
            strict=True,
        )
    )
    theirs = zip(
        day2.column("person_id").to_pylist(),
        seconds.tolist(),
        day2.column("place_id").to_pylist(),
        strict=True,
    )
    assert mine == sorted(theirs)
    assert not (lake / "index-days").exists()


@pytest.mark.parametrize("pack_name", PACKS)
def test_one_case_at_a_time_the_indexed_store_finds_what_the_scan_finds(
    lake: Path, cases: list[IndexCase], pack_name: str
) -> None:
    pack = packs.load(pack_name)
    indexed, scan = DuckDBStore(lake), DuckDBStore(lake, scan=True)
    for case in cases:
        expected = flat(trace([case], pack, scan))
        assert expected, f"case {case.person_id} has contacts"
        assert flat(trace([case], pack, indexed)) == expected


def test_a_batch_finds_what_each_case_alone_finds(lake: Path, cases: list[IndexCase]) -> None:
    """Same contacts, kinds, first exposures and cases; the evidence of a companion is the
    earliest overlap with each case met, at most five of them; of a close contact, its
    earliest overlaps with any of the cases."""
    pack = packs.load()
    store = DuckDBStore(lake)
    ids = {c.person_id for c in cases}
    alone = [e for case in cases for c in trace([case], pack, store) for e in c.evidence]
    for kinds in ({"close"}, {"close", "companion"}):
        expected = {
            c.person_id: c for c in merge([e for e in alone if e.kind in kinds], exclude=ids)
        }
        batch = {c.person_id: c for c in trace(cases, pack, store, kinds=kinds)}
        assert batch.keys() == expected.keys()
        assert any(len(c.case_ids) > EVIDENCE_PER_CONTACT for c in batch.values())
        for person, contact in batch.items():
            want = expected[person]
            assert (contact.kind, contact.first_exposure, contact.case_ids) == (
                want.kind,
                want.first_exposure,
                want.case_ids,
            )
            # Close contacts: the earliest overlaps with any of the cases, as many as one case
            # keeps (what the score adds up), each also found by its case alone.
            close = [e for e in contact.evidence if e.kind == "close"]
            alone_close = [e for e in want.evidence if e.kind == "close"]
            assert len(close) == min(PLACE_EVIDENCE_PER_PERSON, len(alone_close))
            assert set(close) <= set(alone_close)
            if close:
                latest = sorted(e.start for e in alone_close)[len(close) - 1]
                assert max(e.start for e in close) <= latest
            # Companions likewise: the earliest overlap with each case met, at most five.
            near = [e for e in contact.evidence if e.kind == "companion"]
            cases_near = {e.case_id for e in want.evidence if e.kind == "companion"}
            assert len(near) == min(EVIDENCE_PER_CONTACT, len(cases_near))
            assert set(near) <= set(want.evidence)
            for e in near:
                assert e.start == min(
                    w.start
                    for w in want.evidence
                    if w.kind == "companion" and w.case_id == e.case_id
                )


def test_a_person_listed_twice_is_traced_for_each_window(
    lake: Path, cases: list[IndexCase]
) -> None:
    case = cases[0]
    later = IndexCase(case.person_id, case.onset, case.sampled, case.isolated + 86_400)
    twice = trace([case, later], packs.load(), DuckDBStore(lake), kinds={"close"})
    assert {c.person_id for c in twice} >= {
        c.person_id for c in trace([case], packs.load(), DuckDBStore(lake), kinds={"close"})
    }


def test_a_batch_with_secondary_contacts_matches_the_scan(
    lake: Path, cases: list[IndexCase]
) -> None:
    pack = packs.load()
    indexed = trace(cases, pack, DuckDBStore(lake))
    assert {c.kind for c in indexed} == {"close", "secondary", "companion"}
    assert flat(indexed) == flat(trace(cases, pack, DuckDBStore(lake, scan=True)))


def test_store_reads_agree_with_the_scan(lake: Path, cases: list[IndexCase]) -> None:
    indexed, scan = DuckDBStore(lake), DuckDBStore(lake, scan=True)
    people = [c.person_id for c in cases] + [0, 1, 2_999, 5_000_000]
    start, end = indexed.day0 + 3_600, indexed.day0 + 5 * 86_400 - 60
    assert indexed.stays_of(people, start, end).equals(scan.stays_of(people, start, end))

    def by_row(table: pa.Table) -> list[dict[str, object]]:
        return sorted(table.to_pylist(), key=lambda r: tuple(map(str, r.values())))

    def windows(start: int, end: int) -> pa.Table:
        n = len(people)
        return pa.table({"person_id": people, "start": [start] * n, "end": [end] * n})

    for per in ("person", "cell", "source"):
        for residency in (None, Residency(min_hours=10, within_days=14)):
            asked = {"longer_than_minutes": 10, "earliest_per": per, "residency": residency}
            found = indexed.co_cell(windows(start, end), **asked)
            assert found.num_rows and by_row(found) == by_row(
                scan.co_cell(windows(start, end), **asked)
            )
            if residency is not None:  # the filter drops someone here
                assert (
                    found.num_rows
                    < indexed.co_cell(windows(start, end), **asked | {"residency": None}).num_rows
                )
    assert indexed.stays_of([], start, end).num_rows == 0
    later = windows(end + 30 * 86_400, end + 31 * 86_400)
    assert indexed.co_cell(later).num_rows == 0


def test_runs_of_sorted_people_are_those_a_binary_search_finds(lake: Path) -> None:
    """The residency filter finds people's records by galloping through the by-person index
    (``kernels.runs_of_sorted``): the same runs as numpy's binary search, for people with and
    without records, before the first and after the last."""
    [segment] = open_segments(lake, "cells_by_person")
    keys = segment.columns["person_id"]
    wanted = np.unique(np.r_[-5, 0, 1, 2, 17, 18, 19, 700, 2_998, 2_999, 3_000, 10**7])
    lo, count = np.empty(wanted.size, np.int64), np.empty(wanted.size, np.int64)
    kernels.runs_of_sorted(keys, wanted, lo, count)
    expected = intervals.runs_of(keys, wanted)
    assert (lo == expected[0]).all() and (count == expected[1]).all() and count.any()


def test_close_contacts_are_everyone_a_plain_join_finds(lake: Path, cases: list[IndexCase]) -> None:
    """Against a brute-force pandas join of every stay: the same close contacts, one case at a
    time and as a batch. (A store keeping each person's earliest few overlaps before the
    classroom rule lost a pupil of another class met at school every day and later at a
    market.)"""
    pack = packs.load()
    rule = pack.close_contact
    table = read_table(lake, "stays")
    for column in ("start", "end"):
        seconds = table.column(column).cast(pa.timestamp("s", tz="UTC")).cast(pa.int64())
        table = table.set_column(table.schema.get_field_index(column), column, seconds)
    stays = table.to_pandas()
    people = read_table(lake, "people").to_pandas()
    class_of = dict(
        zip(people["person_id"], people["class_id"].fillna(-1).astype(int), strict=True)
    )
    store = DuckDBStore(lake)

    def expected(batch: list[IndexCase]) -> set[int]:
        found: set[int] = set()
        for case in batch:
            start, end = look_back_window(case, days_before_onset=2, days_before_sampling=2)
            own = stays[(stays.person_id == case.person_id) & (stays.end > start)]
            own = own[(own.start < end) & own.setting.isin(rule.settings)]
            pairs = own.merge(stays, on="place_id", suffixes=("_case", ""))
            begin = pairs[["start", "start_case"]].max(axis=1).clip(lower=start)
            finish = pairs[["end", "end_case"]].min(axis=1).clip(upper=end)
            minutes = (finish - begin) / 60
            need = [rule.min_overlap_minutes[s] for s in pairs.setting_case]
            mine = np.array([class_of.get(p, -1) for p in pairs.person_id])
            theirs = np.array([class_of.get(p, -1) for p in pairs.person_id_case])
            other_class = (pairs.setting_case == "class").to_numpy() & (mine >= 0) & (theirs >= 0)
            other_class &= mine != theirs
            met = pairs[(minutes > 0).to_numpy() & (minutes >= need).to_numpy() & ~other_class]
            found |= set(met.person_id.astype(int))
        return found - {c.person_id for c in batch}

    for case in cases:
        ours = {c.person_id for c in trace([case], pack, store, kinds={"close"})}
        assert ours == expected([case])
    ours = {c.person_id for c in trace(cases, pack, store, kinds={"close"})}
    assert ours == expected(cases)


def test_an_index_in_several_segments_gives_the_same_answers(
    lake: Path, cases: list[IndexCase], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A window across segments (a lake longer than a segment, or loaded a stretch at a time):
    the same contacts and evidence as one segment."""
    copy = tmp_path / "lake"
    shutil.copytree(lake, copy, ignore=shutil.ignore_patterns(index.FOLDER))
    monkeypatch.setattr(index, "MAX_SEGMENT_DAYS", 3)
    for day in range(8):
        for table in ("stays", "cell_records"):
            rows = pq.read_table(copy / table / f"day={day:03d}" / "part-0.parquet")
            index.stage_day(copy, table, day, rows)
    store = DuckDBStore(copy)
    index.publish(copy, [store.day0 + day * 86_400 for day in range(8)])
    for name in index.INDEX:
        days = [(s.first_day, s.last_day) for s in open_segments(copy, name)]
        assert days == [(0, 2), (3, 5), (6, 7)]
    pack = packs.load()
    assert flat(trace(cases, pack, store)) == flat(trace(cases, pack, DuckDBStore(lake)))
    for case in cases[:2]:
        assert flat(trace([case], pack, store)) == flat(trace([case], pack, DuckDBStore(lake)))
