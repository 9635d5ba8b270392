"""Tracing's index in a lake: the rows of stays and cell records again, sorted once by who and
once by where ("who else was at these places / in these cells then"), as uncompressed Arrow IPC
files with times in epoch seconds, which readers memory-map.

Each file is a **segment**: the rows of a stretch of days (``days=000-013.arrow``), sorted by
(id, start). A writer stages one file per day as the days are written and merges them into
segments of up to ``MAX_SEGMENT_DAYS`` when the lake is published, so that finding a few
people's or places' rows over a whole window is one binary search, not one per day (each day
file cost ~50 µs of fixed work per question: most of what twenty cases' close contacts took).

The where-indexes carry ``key``: ``id << KEY_BITS | seconds since the segment's first
midnight``. A stay or cell record never crosses local midnight (the lake's layout rule), so the
rows that can overlap a stay at a place on a day are one contiguous run of keys: from the
place's first row that day to its last starting before the stay ends, found by binary search
on the mapped file without copying anything first.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pyarrow as pa

FOLDER = "index"
STAGING = "index-days"
# Folder under index/ -> (table, id column, columns). Sorted by (id, start).
INDEX = {
    "stays_by_person": ("stays", "person_id", ("person_id", "place_id", "start", "end", "setting")),
    "stays_by_place": ("stays", "place_id", ("person_id", "place_id", "start", "end")),
    "cells_by_person": ("cell_records", "person_id", ("person_id", "cell_id", "start", "end")),
    "cells_by_cell": ("cell_records", "cell_id", ("person_id", "cell_id", "start", "end")),
}
BY_WHERE = frozenset({"stays_by_place", "cells_by_cell"})
KEY_BITS = 24  # seconds since the segment's first midnight: up to 194 days
MAX_SEGMENT_DAYS = 128
MAX_ID = 1 << (62 - KEY_BITS)  # place and cell ids (cells: < 2**28) stay well inside
DAY = 86_400
SEGMENT_NAME = re.compile(r"days=(\d{3,})-(\d{3,})\.arrow")


def segment_path(lake: Path, name: str, first: int, last: int) -> Path:
    return lake / FOLDER / name / f"days={first:03d}-{last:03d}.arrow"


def _staged(lake: Path, name: str, day: int) -> Path:
    return lake / STAGING / name / f"day={day:03d}.arrow"


def _write(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        # One record batch: readers take zero-copy numpy views of its columns.
        writer.write_table(table, max_chunksize=max(1, table.num_rows))


def stage_day(lake: Path, source: str, day: int, table: pa.Table) -> None:
    """One day of ``source`` (stays or cell records) into each of its indexes, sorted by
    (id, start), times as epoch seconds."""
    for name, (table_name, id_column, columns) in INDEX.items():
        if table_name != source:
            continue
        rows = table.sort_by([(id_column, "ascending"), ("start", "ascending")])
        rows = rows.select(list(columns))
        for column in ("start", "end"):
            at = rows.schema.get_field_index(column)
            times = rows.column(column)
            if pa.types.is_timestamp(times.type):  # Parquet gives them back in milliseconds
                times = times.cast(pa.timestamp("s", tz="UTC"))
            rows = rows.set_column(at, column, times.cast(pa.int64()))
        if "setting" in columns:
            at = rows.schema.get_field_index("setting")
            rows = rows.set_column(at, "setting", rows.column("setting").cast(pa.string()))
        _write(_staged(lake, name, day), rows.combine_chunks())


def publish(lake: Path, midnights: list[int]) -> None:
    """Merge the staged day files into segments (``midnights``: epoch seconds of each day's
    local midnight, day 0 first) and remove them."""
    for name, (_table, id_column, _columns) in INDEX.items():
        days = len(midnights)
        for first in range(0, days, MAX_SEGMENT_DAYS):
            last = min(first + MAX_SEGMENT_DAYS, days) - 1
            parts = [
                pa.ipc.open_file(pa.memory_map(str(path))).read_all()
                for path in (_staged(lake, name, d) for d in range(first, last + 1))
                if path.exists()
            ]
            if parts:
                merged = _segment(name, pa.concat_tables(parts), id_column, midnights[first])
                _write(segment_path(lake, name, first, last), merged)
    shutil.rmtree(lake / STAGING, ignore_errors=True)


def _segment(name: str, rows: pa.Table, id_column: str, start: int) -> pa.Table:
    """The rows of consecutive days sorted by (id, start), with the where-indexes' key."""
    ids = rows.column(id_column).to_numpy().astype(np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= MAX_ID):
        raise ValueError(f"{name}: {id_column} outside 0..{MAX_ID - 1}")
    key = (ids << KEY_BITS) | (rows.column("start").to_numpy() - start)
    # Each day's rows are already in this order: a stable sort merges the runs.
    order = np.argsort(key, kind="stable")
    rows = rows.take(pa.array(order))
    if "setting" in rows.schema.names:
        at = rows.schema.get_field_index("setting")
        rows = rows.set_column(at, "setting", rows.column("setting").dictionary_encode())
    if name in BY_WHERE:
        rows = rows.append_column("key", pa.array(key[order]))
    rows = rows.combine_chunks()
    return rows.replace_schema_metadata({"start": str(start)})


@dataclass(frozen=True)
class Segment:
    """One mapped segment: zero-copy numpy views of its columns (a dictionary column as its
    codes into ``names``), its days and the epoch second of its first midnight."""

    first_day: int
    last_day: int
    start: int
    columns: dict[str, np.ndarray]
    names: dict[str, list[str]]

    @property
    def size(self) -> int:
        return next(iter(self.columns.values())).size

    @cached_property
    def people(self) -> int:
        """One more than the largest person id (a table by person id has this size)."""
        person = self.columns["person_id"]
        return int(person.max()) + 1 if person.size else 0

    def where(self, ids: np.ndarray, at: np.ndarray) -> np.ndarray:
        """The key of (id, instant) pairs: where rows of that id starting then would sit."""
        return (ids.astype(np.int64) << KEY_BITS) | (at - self.start)


def _map(path: Path, first: int, last: int) -> Segment:
    table = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
    columns, names = {}, {}
    for field, column in zip(table.schema, table.columns, strict=True):
        # One chunk (as written): a view of the mapped file; combining chunks would copy it.
        array = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
        if pa.types.is_dictionary(field.type):
            columns[field.name] = array.indices.to_numpy()
            names[field.name] = array.dictionary.to_pylist()
        else:
            columns[field.name] = array.to_numpy()
    start = int((table.schema.metadata or {}).get(b"start", b"0"))
    return Segment(first, last, start, columns, names)


def open_segments(lake: Path, name: str) -> list[Segment]:
    """The segments of one index, in day order."""
    folder = lake / FOLDER / name
    found = []
    for path in sorted(folder.glob("days=*.arrow")) if folder.is_dir() else []:
        match = SEGMENT_NAME.fullmatch(path.name)
        if match:
            found.append((int(match[1]), int(match[2]), path))
    return [_map(path, first, last) for first, last, path in sorted(found)]
