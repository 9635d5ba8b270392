"""The overview page: registered people per county and per Dongxing town, on a map."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse

from cordon.auth.schemas import Actor
from cordon.geo import flows, service
from cordon.sim import service as sim_service
from cordon.web.deps import DbSession
from cordon.web.i18n import N_
from cordon.web.nav import NavEntry
from cordon.web.page_deps import page_require
from cordon.web.templating import render, translator

router = APIRouter(include_in_schema=False)
NAV = [NavEntry("/", N_("Overview"), "overview:view", order=10)]

Viewer = Annotated[Actor, Depends(page_require("overview:view"))]
BOUNDARIES_URL = "/overview/boundaries.json"


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, actor: Viewer, session: DbSession) -> HTMLResponse:
    _ = translator(request)
    data = flows.overview_counts(session=session, actor=actor)
    chart = {
        **data,
        "boundaries_url": BOUNDARIES_URL,
        "labels": {
            "people": _("Registered people"),
            "towns": _("Dongxing towns"),
            "high": _("More"),
            "low": _("Fewer"),
            "failed": _("The map could not be loaded."),
        },
    }
    settings = request.app.state.settings
    own = service.get_division(session=session, code=actor.jurisdiction)
    context = {
        "jurisdiction_name": own.name if own else actor.jurisdiction,
        "outbreak": sim_service.outbreak_status(settings.lake_dir),
        "counties": data["counties"],
        "towns": data["towns"],
        "total": sum(c["count"] for c in data["counties"]),
        "chart": chart,
    }
    return render(request, "geo/overview.html", context)


@router.get(BOUNDARIES_URL)
def boundaries(actor: Viewer) -> JSONResponse:
    """County outlines for the map; they never change while the server runs."""
    return JSONResponse(
        service.boundary_geojson(), headers={"Cache-Control": "private, max-age=86400"}
    )
