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
