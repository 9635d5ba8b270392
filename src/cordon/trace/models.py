"""Contacts found by tracing, one row per traced case and person, with the evidence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
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
    # Exposure score (cordon.trace.score) and priority tier (none for companions).
    score: Mapped[float] = mapped_column(Float, default=0.0, index=True)
    tier: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    exposed_minutes: Mapped[float] = mapped_column(Float, default=0.0)
    days_exposed: Mapped[int] = mapped_column(Integer, default=0)
    # Set when the commander pushes the contact's tier: codes and orders follow from then on.
    push_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_pushes.id"), index=True, default=None
    )


class ContactPush(Base):
    """A commander's choice of the tiers of a trace to push to codes and orders, with what the
    preview said it would cost at that moment."""

    __tablename__ = "contact_pushes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_ids: Mapped[list[int]] = mapped_column(JSON)
    tiers: Mapped[list[int]] = mapped_column(JSON)
    companions: Mapped[bool] = mapped_column(Boolean)
    pack: Mapped[str] = mapped_column(String(40))
    people: Mapped[int] = mapped_column(Integer)
    preview: Mapped[dict[str, object]] = mapped_column(JSON)
    pushed_by: Mapped[str] = mapped_column(String(64))
    jurisdiction: Mapped[str] = mapped_column(String(12))
    pushed_at: Mapped[datetime] = mapped_column(default=utcnow)
