"""Vessel registry."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from cordon.border.models import Vessel


def add_vessels(*, session: Session, rows: list[dict[str, Any]]) -> int:
    """Bulk insert vessels (from the simulator's lake); ids are kept."""
    if rows:
        session.execute(insert(Vessel), rows)
    return len(rows)


def count_vessels(*, session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Vessel)) or 0)
