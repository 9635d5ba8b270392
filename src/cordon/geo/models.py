"""Administrative divisions and community grids."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, String, Text
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


class Place(Base):
    """A place people stay at: homes, workplaces, schools, venues, harbours, vessels…

    Loaded from the simulator's lake (same ids) or registered by hand; the lake's stays refer
    to places by ``id``."""

    __tablename__ = "places"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    name: Mapped[str] = mapped_column(String(100))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    cell_id: Mapped[int] = mapped_column(BigInteger, index=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), index=True)
    grid_code: Mapped[str | None] = mapped_column(
        ForeignKey("grids.code"), index=True, default=None
    )
    capacity: Mapped[int | None] = mapped_column(default=None)
