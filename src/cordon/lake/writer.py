"""Writing a lake: registry tables as one Parquet file each, large tables one file per day.

A lake is written into a temporary sibling folder and renamed into place only when complete,
so a run that fails or is killed leaves no half-written lake behind, and an existing lake is
never mixed with a new one.
"""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cordon.errors import Invalid
from cordon.lake import index
from cordon.lake.schemas import BY_DAY, TABLES, day_start

MANIFEST = "manifest.json"
# Registry tables: row groups of ~128k rows.
ROW_GROUP = 131_072
# Day files: small row groups (a day of stays for 1,000,000 people is ~250 of them), so a reader
# looking for one person decodes a few thousand rows, not a hundred thousand; the per-group
# statistics (min/max of the sort key) are what lets it find them.
DAY_ROW_GROUP = 16_384


# Day files are sorted so that one person's (or vessel's) rows sit together: a reader looking for
# one case's stays touches a row group or two, not the whole day.
SORT_KEYS = {
    "stays": ("person_id", "start"),
    "checkins": ("person_id", "time"),
    "cell_records": ("person_id", "start"),
    "vessel_fixes": ("vessel_id", "time"),
}


class LakeExists(Invalid):
    """The output folder already holds something that is not this run's lake."""


def is_lake(folder: Path) -> bool:
    return (folder / MANIFEST).is_file()


def check_target(folder: Path) -> None:
    """Refuse a folder that holds a lake or any other files; an empty or absent one is fine."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        if is_lake(folder):
            raise LakeExists(
                "%(folder)s already holds a lake; choose an empty or new folder",
                params=dict(folder=str(folder)),
            )
        raise LakeExists(
            "%(folder)s already holds other files; choose an empty or new folder",
            params=dict(folder=str(folder)),
        )


class LakeWriter:
    """Collects a run's tables in a temporary folder, then publishes them at ``target``."""

    def __init__(self, target: Path) -> None:
        check_target(target)
        self.target = target
        self.staging = target.parent / f".{target.name}.writing-{uuid.uuid4().hex[:8]}"
        self.staging.mkdir(parents=True)
        self.rows: dict[str, int] = {name: 0 for name in TABLES}

    def _check(self, name: str, table: pa.Table) -> pa.Table:
        schema = TABLES[name]
        if not table.schema.equals(schema):
            table = table.cast(schema)  # raises if the columns do not match
        return table

    def write(self, name: str, table: pa.Table) -> None:
        """A whole registry table (one file)."""
        if name in BY_DAY:
            raise ValueError(f"{name} is written per day")
        table = self._check(name, table)
        pq.write_table(table, self.staging / f"{name}.parquet", row_group_size=ROW_GROUP)
        self.rows[name] += table.num_rows

    def write_day(self, name: str, day: int, table: pa.Table) -> None:
        """One day's partition of a large table, sorted by person for fast per-person reads
        (and, for stays and cell records, tracing's index)."""
        if name not in BY_DAY:
            raise ValueError(f"{name} is not partitioned by day")
        table = self._check(name, table)
        self._write_sorted(name, day, table, SORT_KEYS[name])
        index.stage_day(self.staging, name, day, table)
        self.rows[name] += table.num_rows

    def _write_sorted(
        self, folder_name: str, day: int, table: pa.Table, keys: tuple[str, ...]
    ) -> None:
        table = table.sort_by([(column, "ascending") for column in keys])
        folder = self.staging / folder_name / f"day={day:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / "part-0.parquet", row_group_size=DAY_ROW_GROUP)

    def publish(self, manifest: dict[str, Any]) -> Path:
        """Write the manifest and move the finished lake into place."""
        for name in TABLES:
            if name not in BY_DAY and not (self.staging / f"{name}.parquet").exists():
                raise ValueError(f"table {name} was never written")
        start = date.fromisoformat(manifest["start_date"])
        index.publish(self.staging, [day_start(start, d) for d in range(manifest["days"])])
        body = {**manifest, "row_counts": self.rows}
        (self.staging / MANIFEST).write_text(
            json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        )
        check_target(self.target)
        if self.target.exists():
            self.target.rmdir()  # empty, checked above
        self.staging.rename(self.target)
        return self.target

    def abandon(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def read_manifest(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
    return data
