"""Reading lake tables with pyarrow (the tracing engine's DuckDB backend reads the same files)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from cordon.lake.schemas import BY_DAY, TABLES


def read_table(folder: Path, name: str) -> pa.Table:
    if name not in TABLES:
        raise KeyError(f"no lake table {name!r}")
    if name in BY_DAY:
        path = folder / name
        if not path.exists():
            return TABLES[name].empty_table()
        # The files carry ``day`` themselves; the day=NNN folders only help humans and pruning.
        dataset = ds.dataset(path, format="parquet", partitioning=None, schema=TABLES[name])
        return dataset.to_table()
    return pq.read_table(folder / f"{name}.parquet").cast(TABLES[name])
