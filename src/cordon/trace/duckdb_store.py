"""The movement store on a Parquet lake, queried with DuckDB (built in: no extension is
downloaded). Only the day files a window touches are read; the files are sorted by person, so a
per-person filter skips most row groups through their statistics."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cordon.errors import Problem, ValidationFailed

LAKE_SCHEMA_VERSION = 1
EVIDENCE_PER_PERSON = 5
# Large joins spill to disk instead of exhausting memory.
MEMORY_LIMIT = "4GB"
DAY = 86_400
TZ = ZoneInfo("Asia/Shanghai")


def _lake_error(message: str) -> ValidationFailed:
    return ValidationFailed(message, problems=[Problem("lake", message)])


class DuckDBStore:
    def __init__(self, folder: Path) -> None:
        manifest_path = folder / "manifest.json"
        if not manifest_path.is_file():
            raise _lake_error(f"{folder} is not a lake (no manifest.json)")
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("schema_version") != LAKE_SCHEMA_VERSION:
            raise _lake_error(
                f"lake schema {manifest.get('schema_version')}; this Cordon reads "
                f"{LAKE_SCHEMA_VERSION}"
            )
        self.folder = folder
        start = date.fromisoformat(manifest["start_date"])
        self.day0 = int(datetime.combine(start, time(0), tzinfo=TZ).timestamp())
        self.days = int(manifest["days"])
        self.db = duckdb.connect(config={"memory_limit": MEMORY_LIMIT})

    def _files(self, table: str, start: int, end: int) -> str:
        first = max(0, (start - self.day0) // DAY)
        last = min(self.days - 1, (end - 1 - self.day0) // DAY)
        paths = [
            self.folder / table / f"day={d:03d}" / "part-0.parquet" for d in range(first, last + 1)
        ]
        found = [str(p).replace("'", "''") for p in paths if p.exists()]
        return "[" + ", ".join(f"'{p}'" for p in found) + "]" if found else ""

    def _query(self, sql: str, **tables: pa.Table) -> pa.Table:
        for name, table in tables.items():
            self.db.register(name, table)
        try:
            return self.db.sql(sql).to_arrow_table()
        finally:
            for name in tables:
                self.db.unregister(name)

    def stays_of(self, person_ids: list[int], start: int, end: int) -> pa.Table:
        files = self._files("stays", start, end)
        if not files or not person_ids:
            return _empty_stays()
        wanted = pa.table({"person_id": pa.array(person_ids, pa.int32())})
        return self._query(
            f"""
            SELECT s.person_id, s.place_id, epoch(s.start)::BIGINT AS start,
                   epoch(s."end")::BIGINT AS "end", s.setting
            FROM read_parquet({files}) s SEMI JOIN wanted w USING (person_id)
            WHERE s."end" > to_timestamp({int(start)}) AND s.start < to_timestamp({int(end)})
            ORDER BY s.person_id, s.start
            """,
            wanted=wanted,
        )

    def co_present(self, stays: pa.Table, minimums: dict[str, int]) -> pa.Table:
        if stays.num_rows == 0 or not minimums:
            return _empty_overlaps("place_id")
        start = int(pc.min(stays.column("start")).as_py())
        end = int(pc.max(stays.column("end")).as_py())
        files = self._files("stays", start, end)
        if not files:
            return _empty_overlaps("place_id")
        rule = pa.table(
            {
                "setting": pa.array(list(minimums), pa.string()),
                "min_seconds": pa.array([60 * m for m in minimums.values()], pa.int64()),
            }
        )
        # The threshold is applied here and only each person's earliest EVIDENCE_PER_PERSON
        # overlaps leave the database: at a crowded place (a border trade zone of thousands)
        # the pairs run to hundreds of millions, and the engine needs a few per person.
        return self._query(
            f"""
            WITH pairs AS (
                SELECT s.person_id, q.source_id, s.place_id, q.setting,
                       greatest(epoch(s.start)::BIGINT, q.start) AS start,
                       least(epoch(s."end")::BIGINT, q."end") AS "end", r.min_seconds
                FROM read_parquet({files}) s
                JOIN q ON s.place_id = q.place_id
                      AND s.start < to_timestamp(q."end") AND s."end" > to_timestamp(q.start)
                JOIN rule r ON r.setting = q.setting
                WHERE s.person_id <> q.source_id
            )
            SELECT person_id, source_id, place_id, setting, start, "end"
            FROM pairs
            WHERE "end" - start >= greatest(min_seconds, 1)
            QUALIFY row_number() OVER (PARTITION BY person_id ORDER BY start, source_id)
                    <= {EVIDENCE_PER_PERSON}
            """,
            q=stays,
            rule=rule,
        )

    def co_cell(self, person_ids: list[int], start: int, end: int) -> pa.Table:
        files = self._files("cell_records", start, end)
        if not files or not person_ids:
            return _empty_overlaps("cell_id")
        wanted = pa.table({"person_id": pa.array(person_ids, pa.int32())})
        return self._query(
            f"""
            WITH mine AS (
                SELECT c.person_id AS source_id, c.cell_id,
                       greatest(epoch(c.start)::BIGINT, {int(start)}) AS start,
                       least(epoch(c."end")::BIGINT, {int(end)}) AS "end"
                FROM read_parquet({files}) c SEMI JOIN wanted w USING (person_id)
                WHERE c."end" > to_timestamp({int(start)}) AND c.start < to_timestamp({int(end)})
            )
            SELECT o.person_id, m.source_id, m.cell_id,
                   greatest(epoch(o.start)::BIGINT, m.start) AS start,
                   least(epoch(o."end")::BIGINT, m."end") AS "end"
            FROM read_parquet({files}) o
            JOIN mine m ON o.cell_id = m.cell_id
                       AND o.start < to_timestamp(m."end") AND o."end" > to_timestamp(m.start)
            WHERE o.person_id <> m.source_id
            """,
            wanted=wanted,
        )


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
