"""The movement store on a Parquet lake, queried with DuckDB (built in: no extension is
downloaded).

Two ways to read the same lake, giving the same answers:

* **indexed** (the default): tracing's index in the lake (``lake.index``) holds stays and cell
  records sorted by person and by place (cell), as memory-mapped Arrow files; a person's rows
  are a binary search away, and co-presence is an interval join in numpy on the mapped
  where-index (``intervals.py``).
* **scan**: DuckDB reads every stay of the window's days from the Parquet files and filters
  (the first version, kept as the reference the indexed path is tested against).

Both rely on a layout rule of the lake (docs/lake.md): a stay or cell record never crosses local
midnight, so a day file holds everything that overlaps that day.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cordon.errors import Problem, ValidationFailed
from cordon.lake.index import Segment, open_segments
from cordon.lake.schemas import SCHEMA_VERSION, day_start
from cordon.trace import intervals, kernels
from cordon.trace.backend import EarliestPer, Residency

LAKE_SCHEMA_VERSION = SCHEMA_VERSION
EVIDENCE_PER_PERSON = 5
# Overlaps at places kept per person: a contact's exposure score adds up its evidence, so it
# needs the days of a window (a housemate: night and evening, every day), not the first few.
PLACE_EVIDENCE_PER_PERSON = 20
# Large joins spill to disk instead of exhausting memory.
MEMORY_LIMIT = "4GB"
DAY = 86_400

# The scan path's co-presence (the indexed path joins in numpy: intervals.py): overlaps of the
# given stays (q) with everyone else's (s) at the same place, meeting the setting's minimum;
# each person's earliest few (or earliest per source, for a batch). Where together means the
# same class (q.class_id >= 0), pupils of different classes are not contacts (staff, without a
# class, meet everyone there); where it means co-workers (q.team >= 0), only people who work
# at that place are. Decided in the join, before each person's earliest few are kept: a pupil
# of another class met at school every day is still a contact met at a market.
CO_PRESENT_SCAN = """
WITH pairs AS (
    SELECT s.person_id, q.source_id, s.place_id, q.setting,
           greatest(epoch(s.start)::BIGINT, q.start) AS start,
           least(epoch(s."end")::BIGINT, q."end") AS "end",
           r.min_seconds
    FROM {stays} s LEFT JOIN classes c ON c.person_id = s.person_id
    LEFT JOIN works w ON w.person_id = s.person_id
    JOIN q ON s.place_id = q.place_id
          AND s.start < to_timestamp(q."end") AND s."end" > to_timestamp(q.start)
    JOIN rule r ON r.setting = q.setting
    WHERE s.person_id <> q.source_id
      AND (q.class_id < 0 OR coalesce(c.class_id, -1) < 0 OR c.class_id = q.class_id)
      AND (q.team < 0 OR w.person_id IS NULL OR w.work_place_id = q.team)
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

# Phones in the same cell as the given people's (``kept``: their records), for longer than the
# rule's minimum.
CELL_PAIRS = """
WITH {mine}pairs AS (
    SELECT o.person_id, m.source_id, m.cell_id,
           greatest({o_start}, m.start) AS start, least({o_end}, m."end") AS "end"
    FROM {records} o
    JOIN {kept} m ON o.cell_id = m.cell_id AND {o_start} < m."end" AND {o_end} > m.start
    WHERE o.person_id <> m.source_id{apart}
)
"""
# The residency filter on the scan path: the phones that spent more than {limit} seconds in a
# source's cell in the {days} seconds before its window closes (``spent``, the source's own
# among them); the source's records in a cell it lives in are dropped (``kept``), and so are
# the pairs with a phone that lives in the cell (``APART``).
RESIDENTS = """spent AS (
    SELECT r.person_id, m.source_id, m.cell_id
    FROM {history} r
    JOIN (SELECT DISTINCT source_id, cell_id FROM mine) m ON r.cell_id = m.cell_id
    JOIN wanted w ON w.person_id = m.source_id
    WHERE {r_end} > w."end" - {days} AND {r_start} < w."end"
    GROUP BY r.person_id, m.source_id, m.cell_id, w."end"
    HAVING sum(least({r_end}, w."end") - greatest({r_start}, w."end" - {days})) > {limit}
), kept AS (
    SELECT m.* FROM mine m ANTI JOIN spent s
        ON s.person_id = m.source_id AND s.source_id = m.source_id AND s.cell_id = m.cell_id
), """
APART = """
      AND NOT EXISTS (SELECT 1 FROM spent s WHERE s.person_id = o.person_id
                      AND s.source_id = m.source_id AND s.cell_id = m.cell_id)"""
# The lake's Parquet files hold timestamps; the queries compare epoch seconds.
CELL_TIMESTAMPS = {
    f"{alias}_{end}": f'epoch({alias}."{end}")::BIGINT'
    for alias in ("c", "o", "r")
    for end in ("start", "end")
}
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
PER: dict[EarliestPer, intervals.Per] = {"person": "person", "cell": "place", "source": "source"}


def _lake_error(message: str) -> ValidationFailed:
    return ValidationFailed(message, problems=[Problem("lake", message)])


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
        self.day0 = day_start(start, 0)
        self.days = int(manifest["days"])
        self.db = duckdb.connect(config={"memory_limit": MEMORY_LIMIT})
        # One cursor (a connection to the same database) per thread: a trace asks about
        # companions and about close contacts at once, and a connection runs one query.
        self._cursors = threading.local()
        self._index: dict[str, list[Segment]] = {}
        self._opening = threading.Lock()
        self._by_person: dict[str, np.ndarray] = {}  # people's classes and work places by id
        if not scan:
            kernels.warm()  # once a process: the first trace should not pay for it

    # --- reading --------------------------------------------------------------------------

    def class_ids(self) -> np.ndarray:
        """Each person's class by id (-1 for none; empty for a lake without people)."""
        return self._people_column("class_id")

    def work_places(self) -> np.ndarray:
        """Each person's work place by id (-1 for none; empty for a lake without people)."""
        return self._people_column("work_place_id")

    def _people_column(self, name: str) -> np.ndarray:
        with self._opening:
            if name not in self._by_person:
                self._by_person[name] = self._read_people_column(name)
        return self._by_person[name]

    def _read_people_column(self, name: str) -> np.ndarray:
        if not (self.folder / "people.parquet").is_file():
            return np.zeros(0, dtype=np.int64)  # a lake of movements only
        people = pq.read_table(self.folder / "people.parquet", columns=["person_id", name])
        ids = people.column("person_id").to_numpy()
        values = np.full(int(ids.max()) + 1 if ids.size else 0, -1, dtype=np.int64)
        values[ids] = people.column(name).fill_null(-1).to_numpy()
        return values

    def _of(self, values: np.ndarray, people: np.ndarray) -> np.ndarray:
        """Each person's value in a table by person id (-1 beyond it)."""
        if values.size == 0:
            return np.full(people.size, -1, dtype=np.int64)
        known = (people >= 0) & (people < values.size)
        return np.where(known, values[np.where(known, people, 0)], -1)

    def _by_id(self, values: np.ndarray, name: str, *, only_known: bool) -> pa.Table:
        """A table by person id as a DuckDB table (person_id, ``name``): only those with a value,
        or everyone in the table (as the compiled loop reads it: -1 for none)."""
        ids = np.flatnonzero(values >= 0) if only_known else np.arange(values.size)
        return pa.table({"person_id": pa.array(ids), name: pa.array(values[ids])})

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

    def _segments(self, name: str, start: int, end: int) -> list[Segment]:
        """The segments of one index that hold days of [start, end); mapped once and kept."""
        with self._opening:
            if name not in self._index:
                self._index[name] = open_segments(self.folder, name)
        days = self._day_range(start, end)
        return [
            s
            for s in self._index[name]
            if s.first_day <= days.stop - 1 and s.last_day >= days.start
        ]

    def _rows_of(
        self, name: str, ids: np.ndarray, start: int, end: int, columns: list[str]
    ) -> pa.Table | None:
        """The rows of these people of [start, end) from a by-person index, sorted by (person,
        start); a dictionary column as strings."""
        wanted = np.unique(ids)
        parts = []
        for segment in self._segments(name, start, end):
            rows = intervals.rows_in(*intervals.runs_of(segment.columns["person_id"], wanted))
            rows = rows[
                (segment.columns["end"][rows] > start) & (segment.columns["start"][rows] < end)
            ]
            if rows.size:
                part = {c: pa.array(segment.columns[c][rows]) for c in columns}
                for c in segment.names.keys() & set(columns):
                    part[c] = pa.array(segment.names[c], pa.string()).take(part[c])
                parts.append(pa.table(part))
        if len(parts) > 1:  # segment after segment: by person again
            return pa.concat_tables(parts).sort_by(
                [("person_id", "ascending"), ("start", "ascending")]
            )
        return parts[0] if parts else None

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
        people = np.asarray(person_ids, np.int64)
        rows = self._rows_of("stays_by_person", people, start, end, columns)
        return _empty_stays() if rows is None else rows

    def co_present(
        self,
        stays: pa.Table,
        minimums: dict[str, int],
        *,
        within: Mapping[str, str],
        first_per_source: bool = False,
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
            "evidence": 1 if first_per_source else PLACE_EVIDENCE_PER_PERSON,
        }
        if self.scan:
            start = int(pc.min(stays.column("start")).as_py())
            end = int(pc.max(stays.column("end")).as_py())
            files = self._files("stays", start, end)
            if not files:
                return _empty_overlaps("place_id")
            sql = CO_PRESENT_SCAN.format(stays=files, **shape)
            source = stays.column("source_id").to_numpy()
            setting = stays.column("setting").to_pylist()
            place = stays.column("place_id").to_numpy().astype(np.int64)
            in_class = np.array([within[s] == "class" for s in setting], bool)
            in_team = np.array([within[s] == "team" for s in setting], bool)
            classes = np.where(in_class, self._of(self.class_ids(), source), -1)
            stays = stays.append_column("class_id", pa.array(classes, pa.int64()))
            stays = stays.append_column("team", pa.array(np.where(in_team, place, -1)))
            return self._query(
                sql,
                q=stays,
                rule=rule,
                classes=self._by_id(self.class_ids(), "class_id", only_known=True),
                works=self._by_id(self.work_places(), "work_place_id", only_known=False),
            )
        sources, settings = self._sources(stays, minimums, within)
        found = intervals.co_present(
            sources,
            self._segments("stays_by_place", int(sources.start.min()), int(sources.end.max())),
            where="place_id",
            classes=self.class_ids(),
            works_at=self.work_places(),
            evidence=PLACE_EVIDENCE_PER_PERSON,
            per="source" if first_per_source else "person",
        )
        return pa.table(
            {
                "person_id": pa.array(found.person.astype(np.int32)),
                "source_id": pa.array(found.source.astype(np.int32)),
                "place_id": pa.array(found.place.astype(np.int32)),
                "setting": pa.array(settings, pa.string()).take(pa.array(found.setting)),
                "start": pa.array(found.start.astype(np.int64)),
                "end": pa.array(found.end.astype(np.int64)),
            }
        )

    def _sources(
        self, stays: pa.Table, minimums: dict[str, int], within: Mapping[str, str]
    ) -> tuple[intervals.Sources, list[str]]:
        """The stays asked about, cut at local midnight (a lake's never cross it; other input
        may), with their rule's minimum and what together means there: in a classroom their
        class, among co-workers their place; and the names of their settings
        (``Sources.setting`` numbers them)."""
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
        place = stays.column("place_id").to_numpy()[row].astype(np.int64)
        in_class = np.array([within[n] == "class" for n in names], bool)[code]
        in_team = np.array([within[n] == "team" for n in names], bool)[code]
        sources = intervals.Sources(
            source=source,
            place=place,
            start=np.maximum(start[row], day_start),
            end=np.minimum(end[row], day_start + DAY),
            day_start=day_start,
            need=need,
            class_id=np.where(in_class, self._of(self.class_ids(), source), -1),
            team=np.where(in_team, place, -1),
            setting=code,
        )
        return sources, names

    def co_cell(
        self,
        windows: pa.Table,
        *,
        longer_than_minutes: float = 0,
        earliest_per: EarliestPer = "cell",
        residency: Residency | None = None,
    ) -> pa.Table:
        """See ``MovementStore.co_cell``."""
        if windows.num_rows == 0:
            return _empty_overlaps("cell_id")
        if residency is not None and pc.count_distinct(windows.column("person_id")).as_py() < (
            windows.num_rows
        ):
            raise ValueError("the residency filter takes one window per person")
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
            mine = f"mine AS ({MY_CELLS.format(records=files, **CELL_TIMESTAMPS)}), "
            kept, apart = "mine", ""
            if residency is not None:
                back = residency.within_days * DAY
                first = int(pc.min(wanted.column("end")).as_py()) - back
                mine += RESIDENTS.format(
                    history=self._files("cell_records", first, end),
                    days=back,
                    limit=3600.0 * residency.min_hours,
                    **CELL_TIMESTAMPS,
                )
                kept, apart = "kept", APART
            sql = query.format(
                records=files, mine=mine, kept=kept, apart=apart, **shape, **CELL_TIMESTAMPS
            )
            return self._query(sql, wanted=wanted)
        # By person: each person's own records then come in time order (see intervals).
        wanted = wanted.take(np.argsort(wanted.column("person_id").to_numpy(), kind="stable"))
        people = wanted.column("person_id").to_numpy().astype(np.int64)
        ends = wanted.column("end").to_numpy()
        columns = ["person_id", "cell_id", "start", "end"]
        own = self._rows_of("cells_by_person", people, start, end, columns)
        if own is None:
            return _empty_overlaps("cell_id")
        # Each window's own records (the windows' people may repeat), clipped to it.
        lo, count = intervals.runs_of(own.column("person_id").to_numpy(), people)
        window = np.repeat(np.arange(people.size), count)
        row = intervals.rows_in(lo, count)
        opens = np.maximum(
            own.column("start").to_numpy()[row], wanted.column("start").to_numpy()[window]
        )
        closes = np.minimum(own.column("end").to_numpy()[row], ends[window])
        cell = own.column("cell_id").to_numpy().astype(np.int64)[row]
        inside = closes > opens
        if residency is not None:  # no pair in a cell the window's own phone lives in
            inside[inside] = ~self._lives_in(
                people[window[inside]], cell[inside], ends[window[inside]], residency
            )
        window, opens, closes, cell = window[inside], opens[inside], closes[inside], cell[inside]
        if window.size == 0:
            return _empty_overlaps("cell_id")
        per = PER[earliest_per]
        segments = self._segments("cells_by_cell", int(opens.min()), int(closes.max()))
        source, task, first_task = people[window], np.empty(0, np.int64), 0
        if residency is not None:
            if per == "source":
                # Each (window, cell) a source of its own, so that each person's earliest
                # overlap with each is kept: those in a cell the person lives in are dropped
                # below, and the earliest of the others is the window's. Numbered after every
                # person id (a source that is nobody: the own phone's records are met too,
                # and dropped below).
                first_task = max([int(people.max()) + 1] + [s.people for s in segments])
                task, at = np.unique((window.astype(np.int64) << 32) | cell, return_inverse=True)
                order = np.lexsort((opens, at))
                window, opens, closes, cell = (
                    window[order],
                    opens[order],
                    closes[order],
                    cell[order],
                )
                source = first_task + at[order]
            else:  # each person's earliest few in each cell, filtered, then as asked
                per = "place"
        sources = intervals.Sources(
            source=source,
            place=cell,
            start=opens,
            end=closes,
            day_start=self.day0 + (opens - self.day0) // DAY * DAY,
            # Longer than the minimum, in whole seconds.
            need=np.full(window.size, math.floor(60 * longer_than_minutes) + 1, np.int64),
            class_id=np.full(window.size, -1, np.int64),
            team=np.full(window.size, -1, np.int64),
            setting=np.zeros(window.size, np.int64),
        )
        found = intervals.co_present(
            sources,
            segments,
            where="cell_id",
            classes=intervals.NOBODY,
            evidence=EVIDENCE_PER_PERSON,
            per=per,
        )
        rows: tuple[np.ndarray, ...] = (
            found.person,
            found.source,
            found.place,
            found.setting,
            found.start,
            found.end,
        )
        if residency is not None:
            if task.size:
                of = task[found.source - first_task] >> 32
            else:
                of = np.searchsorted(people, found.source)
            met = people[of]
            apart = (found.person != met) & ~self._lives_in(
                found.person, found.place, ends[of], residency
            )
            rows = (found.person, met, found.place, found.setting, found.start, found.end)
            rows = intervals.kept_as(
                tuple(c[apart] for c in rows), evidence=EVIDENCE_PER_PERSON, per=PER[earliest_per]
            )
        person, source, place, _setting, opens, closes = rows
        return pa.table(
            {
                "person_id": pa.array(person.astype(np.int32)),
                "source_id": pa.array(source.astype(np.int32)),
                "cell_id": pa.array(place.astype(np.int64)),
                "start": pa.array(opens.astype(np.int64)),
                "end": pa.array(closes.astype(np.int64)),
            }
        )

    def _lives_in(
        self, person: np.ndarray, cell: np.ndarray, ends: np.ndarray, residency: Residency
    ) -> np.ndarray:
        """Whether each person's phone spent more than the filter's hours in that cell in its
        days before ``ends`` (a resident of the cell, or someone who works there)."""
        if person.size == 0:
            return np.zeros(0, bool)
        opens = ends - residency.within_days * DAY
        segments = self._segments("cells_by_person", int(opens.min()), int(ends.max()))
        spent = intervals.time_in_cells(person, cell, opens, ends, segments)
        return spent > 3600.0 * residency.min_hours


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
