"""Administrative divisions and community grids."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cordon.db import Base


class Division(Base):
    __tablename__ = "divisions"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(12))
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("divisions.code"), index=True, default=None
    )


class Grid(Base):
    """A community grid (网格): the unit a grid worker looks after, inside one village."""

    __tablename__ = "grids"

    code: Mapped[str] = mapped_column(String(15), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), index=True)
    lon: Mapped[float | None] = mapped_column(Float, default=None)
    lat: Mapped[float | None] = mapped_column(Float, default=None)
    # GeoJSON geometry (Polygon) when the grid's outline is known.
    polygon: Mapped[str | None] = mapped_column(Text, default=None)
