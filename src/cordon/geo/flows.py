"""Views that combine geography with other slices' data."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cordon.auth.schemas import Actor
from cordon.geo import service
from cordon.people import service as people_service


def overview_counts(*, session: Session, actor: Actor) -> dict[str, Any]:
    """Registered people per Fangchenggang county (the boundary file's features) and per
    Dongxing town (at its seat), counted inside the actor's jurisdiction. Divisions outside it
    count 0 rather than disappear, so the map keeps its shape for every user."""
    by_county = people_service.count_by_prefix(session=session, actor=actor, digits=6)
    by_town = people_service.count_by_prefix(session=session, actor=actor, digits=9)
    seats = service.town_seats()
    features = service.boundary_geojson()["features"]
    county_codes = [str(f["properties"]["adcode"]) for f in features]
    names = service.divisions_named(session=session, codes=[*county_codes, *seats])
    counties = [
        {
            "code": code,
            # The map matches regions by the boundary file's own name, so keep it.
            "name": str(feature["properties"]["name"]),
            "count": by_county.get(code, 0),
        }
        for code, feature in zip(county_codes, features, strict=True)
    ]
    towns = [
        {
            "code": code,
            "name": names.get(code, code),
            "lon": lon,
            "lat": lat,
            "count": by_town.get(code, 0),
        }
        for code, (lon, lat) in sorted(seats.items())
    ]
    return {"counties": counties, "towns": towns}
