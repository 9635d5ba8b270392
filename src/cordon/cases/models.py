"""Cases: one row per infected person the command centre knows of."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from cordon.db import Base, utcnow


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), unique=True)
    # Copied from the person when registered, so scoping needs no join.
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # confirmed | asymptomatic
    severity: Mapped[str] = mapped_column(String(16))  # none | mild | moderate | severe | critical
    onset_date: Mapped[date | None] = mapped_column(default=None)
    sampled_at: Mapped[datetime | None] = mapped_column(default=None)
    found_by: Mapped[str] = mapped_column(
        String(16)
    )  # routine_test | screening | symptoms | tracing
    reported_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    isolated_at: Mapped[datetime | None] = mapped_column(default=None)
    facility: Mapped[str] = mapped_column(String(100), default="")
    core_done_at: Mapped[datetime | None] = mapped_column(default=None)
    full_done_at: Mapped[datetime | None] = mapped_column(default=None)


class Transfer(Base):
    """A patient moved between treatment facilities (or admitted to the first one)."""

    __tablename__ = "case_transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    from_facility: Mapped[str] = mapped_column(String(100), default="")
    to_facility: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column()
    reason: Mapped[str] = mapped_column(String(200), default="")
    recorded_by: Mapped[str] = mapped_column(String(64))


class TreatmentPlan(Base):
    """The one current treatment plan of a patient; each revision bumps the version."""

    __tablename__ = "treatment_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    version: Mapped[int] = mapped_column(default=1)
    plan: Mapped[str] = mapped_column(String(4000))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64))
