"""Contacts found by tracing, one row per traced case and person, with the evidence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cordon.db import Base, utcnow


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("case_id", "person_id", name="uq_contacts_case_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The case whose trace found this person first (earliest exposure among the traced cases).
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # close | secondary | companion
    first_exposure: Mapped[datetime] = mapped_column()
    # Home division and grid, copied when traced: scoping, filters and assist letters.
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), index=True)
    grid_code: Mapped[str | None] = mapped_column(
        ForeignKey("grids.code"), index=True, default=None
    )
    # The traced case's division: its investigators see the contact wherever the contact lives.
    case_division_code: Mapped[str] = mapped_column(String(12), index=True)
    case_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    evidence: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    pack: Mapped[str] = mapped_column(String(40))
    traced_at: Mapped[datetime] = mapped_column(default=utcnow)


class TraceJob(Base):
    """A batch trace running in the background; its row is the progress others poll."""

    __tablename__ = "trace_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|done|failed
    since: Mapped[datetime] = mapped_column()
    pack: Mapped[str] = mapped_column(String(40))
    jurisdiction: Mapped[str] = mapped_column(String(12))
    started_by: Mapped[str] = mapped_column(String(64))
    total_cases: Mapped[int] = mapped_column(default=0)
    done_cases: Mapped[int] = mapped_column(default=0)
    contacts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
