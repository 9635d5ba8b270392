"""Inserting many rows at once, for imports at city scale (a million swabs, their facts).

PostgreSQL gets COPY through the session's own connection (same transaction). SQLite gets one
DBAPI executemany with values already in the form SQLAlchemy stores them (instants as UTC
text, JSON as text, booleans as 0/1): SQLAlchemy's per-value type processing costs more than
the insert itself. Callers give every column a value (Python-side defaults do not run).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

BATCH = 50_000
ANALYZE_FROM = 10_000
# SQLAlchemy's SQLite DATETIME storage format.
SQLITE_INSTANT = "%Y-%m-%d %H:%M:%S.%f"


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).strftime(SQLITE_INSTANT)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return int(value)
    return value


def insert_rows(session: Session, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys, the column names) into ``table``."""
    if not rows:
        return
    columns = list(rows[0])
    if session.get_bind().dialect.name == "postgresql":
        # JSON columns are known from the first row; only they need converting.
        as_json = {c for c in columns if isinstance(rows[0][c], dict | list)}
        raw = session.connection().connection.driver_connection
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(
                    [
                        json.dumps(row[c], ensure_ascii=False) if c in as_json else row[c]
                        for c in columns
                    ]
                )
        if len(rows) >= ANALYZE_FROM:
            # Fresh statistics: without them the planner takes a table loaded a moment ago
            # for empty and joins it row by row (coverage of a million people: 3x slower).
            session.connection().exec_driver_sql(f"ANALYZE {table}")
        return
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    )
    connection = session.connection()
    for start in range(0, len(rows), BATCH):
        connection.exec_driver_sql(
            statement,
            [tuple(_sqlite_value(r[c]) for c in columns) for r in rows[start : start + BATCH]],
        )
