"""Each person's current health code, every change of it, and the recompute runs.

A person without a row has no rule holding them: green. Rows are kept when the code turns
green again, so history and the "next change" sweep stay simple.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cordon.db import Base, utcnow


class HealthCode(Base):
    __tablename__ = "health_codes"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    # Copied from the person when decided, so counts per town and grid need no join.
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), index=True)
    grid_code: Mapped[str | None] = mapped_column(
        ForeignKey("grids.code"), index=True, default=None
    )
    colour: Mapped[str] = mapped_column(String(8), index=True)
    pack: Mapped[str] = mapped_column(String(40))
    rules: Mapped[list[str]] = mapped_column(JSON, default=list)
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    conversion: Mapped[dict[str, str | None] | None] = mapped_column(JSON, default=None)
    # When a phase ends and the code must be looked at again without any new fact.
    next_change_at: Mapped[datetime | None] = mapped_column(index=True, default=None)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class HealthCodeChange(Base):
    __tablename__ = "health_code_changes"
    __table_args__ = (Index("ix_health_code_changes_person_at", "person_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), index=True)
    colour_from: Mapped[str | None] = mapped_column(String(8), default=None)
    colour_to: Mapped[str] = mapped_column(String(8))
    pack: Mapped[str] = mapped_column(String(40))
    rules: Mapped[list[str]] = mapped_column(JSON, default=list)
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    conversion: Mapped[dict[str, str | None] | None] = mapped_column(JSON, default=None)
    at: Mapped[datetime] = mapped_column()  # the moment the decision holds for
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class CodeRun(Base):
    __tablename__ = "health_code_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    pack: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(12))  # full | incremental
    at: Mapped[datetime] = mapped_column()  # the moment decided for
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    evaluated: Mapped[int] = mapped_column(default=0)
    changed: Mapped[int] = mapped_column(default=0)
    username: Mapped[str] = mapped_column(String(64), default="")
    jurisdiction: Mapped[str] = mapped_column(String(12), default="")


class DirtyPerson(Base):
    """A person whose facts changed since their code was last decided (written with the facts,
    in the same transaction); the code refresh job decides them again and removes the rows."""

    __tablename__ = "health_code_dirty"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(index=True)
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)
