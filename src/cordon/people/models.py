"""Persons and households. Identity numbers and phones are stored encrypted, with a keyed hash
for exact lookup and the parts a masked search may match (region prefix and last four)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cordon.db import Base, utcnow


class Household(Base):
    __tablename__ = "households"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # 户号
    address: Mapped[str] = mapped_column(String(200), default="")
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), index=True)
    grid_code: Mapped[str | None] = mapped_column(
        ForeignKey("grids.code"), index=True, default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    id_number_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_region: Mapped[str] = mapped_column(String(6), index=True)
    id_last4: Mapped[str] = mapped_column(String(4), index=True)
    sex: Mapped[str] = mapped_column(String(1))  # M | F
    birth_date: Mapped[date]
    phone_cipher: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    address: Mapped[str] = mapped_column(String(200), default="")
    household_id: Mapped[int | None] = mapped_column(
        ForeignKey("households.id"), index=True, default=None
    )
    # Where the person lives: a village (or a coarser division when that is all that is known).
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), index=True)
    grid_code: Mapped[str | None] = mapped_column(
        ForeignKey("grids.code"), index=True, default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
