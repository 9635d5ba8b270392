"""Registered (and unregistered "three-no") fishing vessels."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from cordon.db import Base


class Vessel(Base):
    __tablename__ = "vessels"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(64))
    registration: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    owner_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id"), index=True, default=None
    )
    home_place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id"), default=None)
    beidou: Mapped[bool]
    three_no: Mapped[bool]
    crew_size: Mapped[int]
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), index=True)
