"""Divisions, grids and the map data of the overview."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from cordon.errors import NotFound
from cordon.geo import service
from cordon.geo.schemas import DivisionOut, GridOut
from cordon.web.deps import CurrentActor, DbSession

router = APIRouter(prefix="/geo", tags=["geo"])


@router.get("/divisions/{code}", response_model=DivisionOut)
def division(code: str, actor: CurrentActor, session: DbSession) -> DivisionOut:
    found = service.require_division(session=session, code=code, field="code")
    return DivisionOut.model_validate(found)


@router.get("/divisions/{code}/children", response_model=list[DivisionOut])
def children(code: str, actor: CurrentActor, session: DbSession) -> list[DivisionOut]:
    parent = service.require_division(session=session, code=code, field="code")
    return [
        DivisionOut.model_validate(d) for d in service.children(session=session, code=parent.code)
    ]


@router.get("/grids", response_model=list[GridOut])
def grids(actor: CurrentActor, session: DbSession) -> list[GridOut]:
    """Grids inside the caller's jurisdiction."""
    return [
        GridOut.model_validate(g)
        for g in service.grids_within(session=session, code=actor.jurisdiction)
    ]


@router.get("/grids/{code}", response_model=GridOut)
def grid(code: str, actor: CurrentActor, session: DbSession) -> GridOut:
    found = service.get_grid(session=session, code=code)
    if found is None or not found.code.startswith(actor.jurisdiction):
        raise NotFound("no grid %(code)s", params=dict(code=code))
    return GridOut.model_validate(found)


@router.get("/boundaries/fangchenggang")
def boundaries(actor: CurrentActor) -> dict[str, Any]:
    """GeoJSON of Fangchenggang's counties (WGS84)."""
    return service.boundary_geojson()
