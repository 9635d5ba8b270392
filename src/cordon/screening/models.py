"""Mass screening: rounds, their roster and sites, pooled tubes, samples, lab imports, grid
workers' follow-up tasks and case proposals.

The roster is the round's expected population, copied from the registry when the round is
planned, so coverage, the missing-people list and pooling by zone read only these tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cordon.db import Base, utcnow, wall_utcnow


class ScreeningRound(Base):
    __tablename__ = "screening_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # The area screened: every resident whose division code starts with it.
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), index=True)
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    result_hours: Mapped[int] = mapped_column(default=24)  # sampling-to-result target
    # Pool size per zone level, and whether sealed zones pool by household.
    pooling: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    sealed_by_household: Mapped[bool] = mapped_column(default=False)
    # Zone level per grid or division code (longest prefix wins); unlisted areas are "other".
    zones: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RosterEntry(Base):
    """One person expected in a round, with where they live and their zone level."""

    __tablename__ = "screening_roster"
    __table_args__ = (
        UniqueConstraint("round_id", "person_id", name="uq_screening_roster_round_person"),
        Index("ix_screening_roster_round_grid", "round_id", "grid_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("screening_rounds.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    division_code: Mapped[str] = mapped_column(String(12))
    grid_code: Mapped[str | None] = mapped_column(String(15), default=None)
    household_id: Mapped[int | None] = mapped_column(default=None)
    zone_level: Mapped[str] = mapped_column(String(12), default="other")
    bedbound: Mapped[bool] = mapped_column(default=False)


class Site(Base):
    __tablename__ = "screening_sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("screening_rounds.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(12), default="fixed")  # fixed | mobile
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"))
    lon: Mapped[float | None] = mapped_column(default=None)
    lat: Mapped[float | None] = mapped_column(default=None)
    tables: Mapped[int] = mapped_column(default=1)
    opens: Mapped[str] = mapped_column(String(5), default="07:00")
    closes: Mapped[str] = mapped_column(String(5), default="19:00")
    capacity_per_table: Mapped[int] = mapped_column(default=700)  # people a table samples a day
    grids: Mapped[list[str]] = mapped_column(JSON, default=list)


class Tube(Base):
    __tablename__ = "screening_tubes"

    id: Mapped[int] = mapped_column(primary_key=True)
    barcode: Mapped[str] = mapped_column(String(40), unique=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("screening_rounds.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("screening_sites.id"), default=None)
    purpose: Mapped[str] = mapped_column(String(12), default="screening")  # screening | retest
    zone_level: Mapped[str] = mapped_column(String(12), default="other")
    household_id: Mapped[int | None] = mapped_column(default=None)
    capacity: Mapped[int] = mapped_column()
    filled: Mapped[int] = mapped_column(default=0)
    division_code: Mapped[str] = mapped_column(String(12))  # of its first swab, for scoping
    opened_at: Mapped[datetime] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    received_at: Mapped[datetime | None] = mapped_column(default=None)
    lab: Mapped[str | None] = mapped_column(String(64), default=None)
    result: Mapped[str | None] = mapped_column(String(12), default=None, index=True)
    resulted_at: Mapped[datetime | None] = mapped_column(default=None)
    import_id: Mapped[int | None] = mapped_column(default=None)


class Sample(Base):
    """One person's swab in one tube. Screening samples are once per person and round;
    retests (single tubes after a positive pool) are extra rows with purpose "retest"."""

    __tablename__ = "screening_samples"
    __table_args__ = (
        UniqueConstraint("round_id", "person_id", "purpose", "tube_id", name="uq_screening_sample"),
        Index("ix_screening_samples_round_person", "round_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("screening_rounds.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    tube_id: Mapped[int] = mapped_column(ForeignKey("screening_tubes.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(default=None)
    purpose: Mapped[str] = mapped_column(String(12), default="screening")
    sampled_at: Mapped[datetime] = mapped_column()
    sampled_by: Mapped[str] = mapped_column(String(64), default="")
    # After a positive pool: flagged, then cleared by a negative retest or confirmed.
    pool_flag: Mapped[str | None] = mapped_column(String(12), default=None)


class LabImport(Base):
    __tablename__ = "screening_lab_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("screening_rounds.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64), index=True)
    lab: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column()
    changed: Mapped[int] = mapped_column()
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class Task(Base):
    """Work for a grid worker: retest a person with a single tube, or isolate them."""

    __tablename__ = "screening_tasks"
    __table_args__ = (
        UniqueConstraint("kind", "person_id", "tube_barcode", name="uq_screening_task"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("screening_rounds.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # retest | isolate
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True, default=None)
    tube_barcode: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | done
    due_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(default=None)


class CaseProposal(Base):
    """A positive single tube: an epidemiologist decides whether to register the case."""

    __tablename__ = "screening_case_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("screening_rounds.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    tube_barcode: Mapped[str] = mapped_column(String(40), unique=True)
    sampled_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | accepted | dismissed
    case_id: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LookupAttempt(Base):
    """A resident's lookup of their own results: counted to slow down guessing."""

    __tablename__ = "screening_lookups"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_addr: Mapped[str] = mapped_column(String(64), index=True)
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
    found: Mapped[bool] = mapped_column()
    at: Mapped[datetime] = mapped_column(default=wall_utcnow, index=True)
