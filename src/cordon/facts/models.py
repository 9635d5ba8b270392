"""One row per fact about a person; facts are retracted, never deleted, so history stays."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cordon.db import Base, utcnow


class PersonFact(Base):
    __tablename__ = "person_facts"
    __table_args__ = (
        # One fact of a kind per person per source: writing the same source again updates it.
        UniqueConstraint("person_id", "kind", "source", name="uq_person_facts_person_kind_source"),
        Index("ix_person_facts_source_kind", "source", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    # Copied from the person when written, so scoping needs no join.
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column()
    attrs: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    # Who said so, e.g. "trace:case:12", "screening:tube:T0001234": the idempotency key.
    source: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    retracted_at: Mapped[datetime | None] = mapped_column(default=None)
