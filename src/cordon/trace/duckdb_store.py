"""The movement store on a Parquet lake, queried with DuckDB (built in: no extension is
downloaded).

Two ways to read the same lake, giving the same answers:

* **indexed** (the default): tracing's index in the lake (``lake.writer.INDEX``) holds stays and
  cell records sorted by person and by place (cell), as memory-mapped Arrow files; a question
  about a few people or places takes just their rows from each day of the window (a binary
  search on the sorted key), and DuckDB joins the few rows taken.
* **scan**: DuckDB reads every stay of the window's days from the Parquet files and filters
  (the first version, kept as the reference the indexed path is tested against).

Both rely on a layout rule of the lake (docs/lake.md): a stay or cell record never crosses local
midnight, so a day file holds everything that overlaps that day.
"""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cordon.errors import Problem, ValidationFailed
from cordon.lake.schemas import SCHEMA_VERSION
from cordon.lake.writer import index_file
from cordon.trace import intervals
from cordon.trace.backend import EarliestPer

LAKE_SCHEMA_VERSION = SCHEMA_VERSION
EVIDENCE_PER_PERSON = 5
# Large joins spill to disk instead of exhausting memory.
MEMORY_LIMIT = "4GB"
DAY = 86_400
TZ = ZoneInfo("Asia/Shanghai")

# The scan path's co-presence (the indexed path joins in numpy: intervals.py): overlaps of the
# given stays (q) with everyone else's (s) at the same place, meeting the setting's minimum;
# each person's earliest few (or earliest per source, for a batch). At school the setting is
# the classroom: pupils of different classes are not contacts (staff, without a class, meet
# everyone there). Decided in the join, before each person's earliest few are kept: a pupil of
# another class met at school every day is still a contact met at a market.
CO_PRESENT_SCAN = """
WITH pairs AS (
    SELECT s.person_id, q.source_id, s.place_id, q.setting,
           greatest(epoch(s.start)::BIGINT, q.start) AS start,
           least(epoch(s."end")::BIGINT, q."end") AS "end",
           r.min_seconds
    FROM {stays} s LEFT JOIN classes c ON c.person_id = s.person_id
    JOIN q ON s.place_id = q.place_id
          AND s.start < to_timestamp(q."end") AND s."end" > to_timestamp(q.start)
    JOIN rule r ON r.setting = q.setting
    WHERE s.person_id <> q.source_id
      AND (q.setting <> 'class' OR coalesce(c.class_id, -1) < 0 OR q.class_id < 0
           OR c.class_id = q.class_id)
)
SELECT person_id, source_id, place_id, setting, start, "end"
FROM pairs
WHERE "end" - start >= greatest(min_seconds, 1)
QUALIFY row_number() OVER (PARTITION BY {partition} ORDER BY start, source_id) <= {evidence}
"""

STAYS_OF = """
SELECT s.person_id, s.place_id, epoch(s.start)::BIGINT AS start,
       epoch(s."end")::BIGINT AS "end", s.setting
FROM {stays} s SEMI JOIN wanted w USING (person_id)
WHERE s."end" > to_timestamp({start}) AND s.start < to_timestamp({end})
ORDER BY s.person_id, s.start
"""

# The given people's cell records, clipped to each one's window (wanted: person_id, start, end).
MY_CELLS = """
SELECT c.person_id AS source_id, c.cell_id,
       greatest({c_start}, w.start) AS start, least({c_end}, w."end") AS "end"
FROM {records} c JOIN wanted w USING (person_id)
WHERE {c_end} > w.start AND {c_start} < w."end"
"""

# Phones in the same cell as the given people's, for longer than the rule's minimum.
CELL_PAIRS = """
WITH {mine}pairs AS (
    SELECT o.person_id, m.source_id, m.cell_id,
           greatest({o_start}, m.start) AS start, least({o_end}, m."end") AS "end"
    FROM {records} o
    JOIN mine m ON o.cell_id = m.cell_id AND {o_start} < m."end" AND {o_end} > m.start
    WHERE o.person_id <> m.source_id
)
"""
# Column forms: the lake's Parquet files hold timestamps, the index epoch seconds.
CELL_TIMESTAMPS = {
    "c_start": "epoch(c.start)::BIGINT",
    "c_end": 'epoch(c."end")::BIGINT',
    "o_start": "epoch(o.start)::BIGINT",
    "o_end": 'epoch(o."end")::BIGINT',
}
CELL_EPOCHS = {"c_start": "c.start", "c_end": 'c."end"', "o_start": "o.start", "o_end": 'o."end"'}
# Each person's earliest few overlaps, per person or per (person, cell): a cell at the border
# crossing holds thousands of phones a day, each with many records, and the engine needs a few
# of each person's (per cell for the residency filter). A window over the pairs: a case's cells
# give hundreds of thousands of them, which a window ranks several times faster than a top-N
# aggregate does.
CO_CELL = (
    CELL_PAIRS
    + """
SELECT person_id, source_id, cell_id, start, "end"
FROM pairs
WHERE "end" - start > {min_seconds}
QUALIFY row_number() OVER (PARTITION BY {group} ORDER BY start, source_id, cell_id) <= {evidence}
"""
)
# A batch of cases: each person's earliest overlap with each source (an aggregate with a fixed
# state per pair of them: twenty cases' cells give millions of pairs). A phone is in one cell at
# a time, and so is each source's: their overlaps start at distinct times, so the earliest is
# one row (scalar aggregates: faster than one over a struct).
CO_CELL_FIRSTS = (
    CELL_PAIRS
    + """
SELECT person_id, source_id, arg_min(cell_id, start) AS cell_id, min(start) AS start,
       arg_min("end", start) AS "end"
FROM pairs
WHERE "end" - start > {min_seconds}
GROUP BY person_id, source_id
"""
)
EARLIEST_PER = {"person": "person_id", "cell": "person_id, cell_id", "source": ""}


def _lake_error(message: str) -> ValidationFailed:
    return ValidationFailed(message, problems=[Problem("lake", message)])


class MappedDayFiles:
    """One of tracing's index folders (``lake.writer.INDEX``): a day-partitioned table sorted by
    ``key``, memory-mapped. Reading the rows of some keys is a binary search on the key column
    and a copy of those rows. Files are mapped once and kept."""

    def __init__(self, lake: Path, name: str, key: str) -> None:
        self.lake = lake
        self.name = name
        self.key = key
        self._open: dict[int, tuple[pa.Table, np.ndarray] | None] = {}

    def _file(self, day: int) -> tuple[pa.Table, np.ndarray] | None:
        if day not in self._open:
            path = index_file(self.lake, self.name, day)
            if not path.exists():
                self._open[day] = None
            else:
                table = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
                column = table.column(self.key)
                # One chunk (as the writer writes it): a view of the mapped file. Combining
                # chunks would copy it, even when there is one.
                keys = column.chunk(0).to_numpy() if column.num_chunks == 1 else column.to_numpy()
                self._open[day] = (table, keys)
        return self._open[day]

    def read(self, day: int, keys: np.ndarray, columns: list[str]) -> pa.Table | None:
        """Rows of ``day`` whose key is in ``keys`` (sorted, unique), or None if there are
        none."""
        opened = self._file(day)
        if opened is None or keys.size == 0:
            return None
        table, sorted_keys = opened
        wanted = keys.astype(sorted_keys.dtype)  # else numpy converts the whole column
        lo = np.searchsorted(sorted_keys, wanted, side="left")
        count = np.searchsorted(sorted_keys, wanted, side="right") - lo
        total = int(count.sum())
        if total == 0:
            return None
        rows = np.repeat(lo - (np.cumsum(count) - count), count) + np.arange(total)
        return table.select(columns).take(pa.array(rows))


class DuckDBStore:
    def __init__(self, folder: Path, *, scan: bool = False) -> None:
        manifest_path = folder / "manifest.json"
        if not manifest_path.is_file():
            raise _lake_error(f"{folder} is not a lake (no manifest.json)")
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("schema_version") != LAKE_SCHEMA_VERSION:
            raise _lake_error(
                f"lake schema {manifest.get('schema_version')}; this Cordon reads "
                f"{LAKE_SCHEMA_VERSION} (simulate the lake again with this version)"
            )
        self.folder = folder
        self.scan = scan
        start = date.fromisoformat(manifest["start_date"])
        self.day0 = int(datetime.combine(start, time(0), tzinfo=TZ).timestamp())
        self.days = int(manifest["days"])
        self.db = duckdb.connect(config={"memory_limit": MEMORY_LIMIT})
        # One cursor (a connection to the same database) per thread: a trace asks about
        # companions and about close contacts at once, and a connection runs one query.
        self._cursors = threading.local()
        self._stays_by_person = MappedDayFiles(folder, "stays_by_person", "person_id")
        self._stays_by_place = MappedDayFiles(folder, "stays_by_place", "place_id")
        self._cells_by_person = MappedDayFiles(folder, "cells_by_person", "person_id")
        self._cells_by_cell = MappedDayFiles(folder, "cells_by_cell", "cell_id")
        self._classes: np.ndarray | None = None

    # --- reading --------------------------------------------------------------------------

    def class_ids(self) -> np.ndarray:
        if self._classes is None and not (self.folder / "people.parquet").is_file():
            self._classes = np.zeros(0, dtype=np.int64)  # a lake of movements only: no classes
        if self._classes is None:
            people = pq.read_table(
                self.folder / "people.parquet", columns=["person_id", "class_id"]
            )
            ids = people.column("person_id").to_numpy()
            classes = np.full(int(ids.max()) + 1 if ids.size else 0, -1, dtype=np.int64)
            classes[ids] = people.column("class_id").fill_null(-1).to_numpy()
            self._classes = classes
        return self._classes

    def _classes_of(self, people: np.ndarray) -> np.ndarray:
        """Each person's class (-1 for none)."""
        classes = self.class_ids()
        if classes.size == 0:
            return np.full(people.size, -1, dtype=np.int64)
        known = (people >= 0) & (people < classes.size)
        return np.where(known, classes[np.where(known, people, 0)], -1)

    def _pupils(self) -> pa.Table:
        classes = self.class_ids()
        pupils = np.flatnonzero(classes >= 0)
        return pa.table({"person_id": pa.array(pupils), "class_id": pa.array(classes[pupils])})

    def _day_range(self, start: int, end: int) -> range:
        first = max(0, (start - self.day0) // DAY)
        last = min(self.days - 1, (end - 1 - self.day0) // DAY)
        return range(first, last + 1)

    def _files(self, table: str, start: int, end: int) -> str:
        paths = [
            self.folder / table / f"day={d:03d}" / "part-0.parquet"
            for d in self._day_range(start, end)
        ]
        found = [str(p).replace("'", "''") for p in paths if p.exists()]
        return "read_parquet([" + ", ".join(f"'{p}'" for p in found) + "])" if found else ""

    def _gather(
        self, files: MappedDayFiles, keys_by_day: dict[int, np.ndarray], columns: list[str]
    ) -> pa.Table | None:
        parts = [files.read(day, keys, columns) for day, keys in sorted(keys_by_day.items())]
        found = [p for p in parts if p is not None]
        return pa.concat_tables(found) if found else None

    def _by_person(
        self, files: MappedDayFiles, person_ids: list[int], start: int, end: int, columns: list[str]
    ) -> pa.Table | None:
        keys = np.unique(np.asarray(person_ids, dtype=np.int64))
        return self._gather(files, {d: keys for d in self._day_range(start, end)}, columns)

    def _keys_by_day(
        self, key: np.ndarray, starts: np.ndarray, ends: np.ndarray
    ) -> dict[int, np.ndarray]:
        """For each day, the keys of the intervals [starts, ends) that overlap it."""
        out: dict[int, np.ndarray] = {}
        if key.size == 0:
            return out
        first_day = (starts - self.day0) // DAY
        last_day = (ends - 1 - self.day0) // DAY
        for day in self._day_range(int(starts.min()), int(ends.max())):
            on_day = (first_day <= day) & (last_day >= day)
            if on_day.any():
                out[day] = np.unique(key[on_day])
        return out

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._cursors, "db", None)
        if cursor is None:
            cursor = self._cursors.db = self.db.cursor()
        return cursor

    def _query(self, sql: str, **tables: pa.Table) -> pa.Table:
        db = self._cursor()
        for name, table in tables.items():
            db.register(name, table)
        try:
            return db.sql(sql).to_arrow_table()
        finally:
            for name in tables:
                db.unregister(name)

    # --- the MovementStore questions ------------------------------------------------------

    def stays_of(self, person_ids: list[int], start: int, end: int) -> pa.Table:
        if not person_ids:
            return _empty_stays()
        wanted = pa.table({"person_id": pa.array(person_ids, pa.int32())})
        window = {"start": int(start), "end": int(end)}
        if self.scan:
            files = self._files("stays", start, end)
            if not files:
                return _empty_stays()
            return self._query(STAYS_OF.format(stays=files, **window), wanted=wanted)
        columns = ["person_id", "place_id", "start", "end", "setting"]
        rows = self._by_person(self._stays_by_person, person_ids, start, end, columns)
        if rows is None:
            return _empty_stays()
        inside = pc.and_(pc.greater(rows.column("end"), start), pc.less(rows.column("start"), end))
        rows = rows.filter(inside).sort_by([("person_id", "ascending"), ("start", "ascending")])
        return rows.set_column(4, "setting", rows.column("setting").cast(pa.string()))

    def hours_in_cells(self, pairs: pa.Table, start: int, end: int) -> pa.Table:
        if pairs.num_rows == 0:
            return pa.table({"person_id": [], "cell_id": [], "hours": []})
        people = np.unique(pairs.column("person_id").to_numpy()).tolist()
        columns = ["person_id", "cell_id", "start", "end"]
        rows = self._by_person(self._cells_by_person, people, start, end, columns)
        if rows is None:
            return pairs.append_column("hours", pa.array([0.0] * pairs.num_rows))
        return self._query(
            f"""
            SELECT p.person_id, p.cell_id, coalesce(sum(greatest(0,
                least(r."end", {int(end)}) - greatest(r.start, {int(start)})
            )), 0) / 3600.0 AS hours
            FROM pairs p LEFT JOIN rows r ON r.person_id = p.person_id AND r.cell_id = p.cell_id
            GROUP BY p.person_id, p.cell_id
            """,
            pairs=pairs,
            rows=rows,
        )

    def co_present(
        self, stays: pa.Table, minimums: dict[str, int], *, first_per_source: bool = False
    ) -> pa.Table:
        """See ``MovementStore.co_present``."""
        if stays.num_rows == 0 or not minimums:
            return _empty_overlaps("place_id")
        rule = pa.table(
            {
                "setting": pa.array(list(minimums), pa.string()),
                "min_seconds": pa.array([60 * m for m in minimums.values()], pa.int64()),
            }
        )
        # Sources outside the rule's settings never match (the join on rule drops them).
        stays = stays.filter(pc.is_in(stays.column("setting"), value_set=rule.column("setting")))
        if stays.num_rows == 0:
            return _empty_overlaps("place_id")
        shape = {
            "partition": "person_id, source_id" if first_per_source else "person_id",
            "evidence": 1 if first_per_source else EVIDENCE_PER_PERSON,
        }
        if self.scan:
            start = int(pc.min(stays.column("start")).as_py())
            end = int(pc.max(stays.column("end")).as_py())
            files = self._files("stays", start, end)
            if not files:
                return _empty_overlaps("place_id")
            sql = CO_PRESENT_SCAN.format(stays=files, **shape)
            source = stays.column("source_id").to_numpy()
            stays = stays.append_column("class_id", pa.array(self._classes_of(source)))
            return self._query(sql, q=stays, rule=rule, classes=self._pupils())
        sources = self._sources(stays, minimums)
        keys = self._keys_by_day(sources.place, sources.start, sources.end)
        days = []
        for day, wanted in sorted(keys.items()):
            rows = self._stays_by_place.read(day, wanted, ["person_id", "place_id", "start", "end"])
            if rows is not None:
                person = rows.column("person_id").to_numpy()
                days.append(
                    intervals.Others(
                        person=person,
                        place=rows.column("place_id").to_numpy(),
                        start=rows.column("start").to_numpy(),
                        end=rows.column("end").to_numpy(),
                        class_id=self._classes_of(person),
                        day_start=self.day0 + day * DAY,
                    )
                )
        return intervals.co_present(
            sources, days, evidence=EVIDENCE_PER_PERSON, per_source=first_per_source
        )

    def _sources(self, stays: pa.Table, minimums: dict[str, int]) -> intervals.Sources:
        """The stays asked about, cut at local midnight (a lake's never cross it; other input
        may), with their rule's minimum and, in a classroom, their class."""
        start = stays.column("start").to_numpy()
        end = stays.column("end").to_numpy()
        first = (start - self.day0) // DAY
        pieces = np.maximum((end - 1 - self.day0) // DAY - first + 1, 1)
        row = np.repeat(np.arange(start.size), pieces)
        day = first[row] + np.arange(row.size) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        day_start = self.day0 + day * DAY
        settings = stays.column("setting").combine_chunks().cast(pa.string()).dictionary_encode()
        names = settings.dictionary.to_pylist()
        code = settings.indices.to_numpy()[row]
        need = np.array([max(60 * minimums[n], 1) for n in names], np.int64)[code]
        source = stays.column("source_id").to_numpy()[row]
        in_class = np.array([n == "class" for n in names], bool)[code]
        return intervals.Sources(
            source=source,
            place=stays.column("place_id").to_numpy()[row].astype(np.int64),
            start=np.maximum(start[row], day_start),
            end=np.minimum(end[row], day_start + DAY),
            day_start=day_start,
            need=need,
            class_id=np.where(in_class, self._classes_of(source), -1),
            setting=code,
            settings=names,
        )

    def co_cell(
        self,
        windows: pa.Table,
        *,
        longer_than_minutes: float = 0,
        earliest_per: EarliestPer = "cell",
    ) -> pa.Table:
        """See ``MovementStore.co_cell``."""
        if windows.num_rows == 0:
            return _empty_overlaps("cell_id")
        wanted = pa.table(
            {
                "person_id": windows.column("person_id").cast(pa.int32()),
                "start": windows.column("start").cast(pa.int64()),
                "end": windows.column("end").cast(pa.int64()),
            }
        )
        start = int(pc.min(wanted.column("start")).as_py())
        end = int(pc.max(wanted.column("end")).as_py())
        shape = {
            "evidence": EVIDENCE_PER_PERSON,
            "min_seconds": float(60 * longer_than_minutes),
            "group": EARLIEST_PER[earliest_per],
        }
        query = CO_CELL_FIRSTS if earliest_per == "source" else CO_CELL
        if self.scan:
            files = self._files("cell_records", start, end)
            if not files:
                return _empty_overlaps("cell_id")
            mine_sql = MY_CELLS.format(records=files, **CELL_TIMESTAMPS)
            mine = f"mine AS ({mine_sql}), "
            sql = query.format(records=files, mine=mine, **shape, **CELL_TIMESTAMPS)
            return self._query(sql, wanted=wanted)
        columns = ["person_id", "cell_id", "start", "end"]
        people = wanted.column("person_id").to_numpy().tolist()
        own = self._by_person(self._cells_by_person, people, start, end, columns)
        if own is None:
            return _empty_overlaps("cell_id")
        mine = self._query(MY_CELLS.format(records="own", **CELL_EPOCHS), wanted=wanted, own=own)
        if mine.num_rows == 0:
            return _empty_overlaps("cell_id")
        keys = self._keys_by_day(
            mine.column("cell_id").to_numpy(),
            mine.column("start").to_numpy(),
            mine.column("end").to_numpy(),
        )
        others = self._gather(self._cells_by_cell, keys, columns)
        if others is None:
            return _empty_overlaps("cell_id")
        sql = query.format(records="others", mine="", **shape, **CELL_EPOCHS)
        return self._query(sql, mine=mine, others=others)


def _empty_stays() -> pa.Table:
    return pa.table(
        {
            "person_id": pa.array([], pa.int32()),
            "place_id": pa.array([], pa.int32()),
            "start": pa.array([], pa.int64()),
            "end": pa.array([], pa.int64()),
            "setting": pa.array([], pa.string()),
        }
    )


def _empty_overlaps(where: str) -> pa.Table:
    columns: dict[str, pa.Array] = {
        "person_id": pa.array([], pa.int32()),
        "source_id": pa.array([], pa.int32()),
        where: pa.array([], pa.int64() if where == "cell_id" else pa.int32()),
        "start": pa.array([], pa.int64()),
        "end": pa.array([], pa.int64()),
    }
    if where == "place_id":
        columns["setting"] = pa.array([], pa.string())
    return pa.table(columns)
