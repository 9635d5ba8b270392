"""Health-code API: recompute, explain, counts, what-if (staff); lookup and verify (public)."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request

from cordon.codes import packs, service, tokens
from cordon.codes.schemas import (
    ExplainOut,
    LookupIn,
    LookupOut,
    PlaceCount,
    RecomputeOut,
    VerifyIn,
    VerifyOut,
    WhatIfOut,
)
from cordon.errors import TooManyAttempts
from cordon.web.deps import (
    Cipher,
    CurrentActor,
    DbSession,
    RecordId,
    SettingsDep,
    client_addr,
    route_transaction,
)
from cordon.web.ratelimit import SlidingWindow

router = APIRouter(prefix="/codes", tags=["codes"])
PackName = Annotated[str | None, Query(max_length=40, description="Rule pack (default: in force)")]


def lookup_brake(request: Request) -> None:
    """Refuse a burst of lookups from one address before anything else runs (429)."""
    state = request.app.state
    limit = state.settings.code_lookup_per_minute
    window: SlidingWindow | None = getattr(state, "code_lookup_window", None)
    if window is None or window.limit != limit:
        window = state.code_lookup_window = SlidingWindow(limit=limit, seconds=60)
    wait = window.hit(client_addr(request) or "-")
    if wait is not None:
        seconds = math.ceil(wait)
        raise TooManyAttempts(
            "too many code lookups from your address; try again in %(seconds)s s",
            params=dict(seconds=seconds),
            retry_after=seconds,
        )


@router.post(
    "/lookup",
    response_model=LookupOut,
    responses={404: {"description": "no match"}, 429: {"description": "slow down"}},
)
def lookup(
    request: Request,
    data: Annotated[LookupIn, Body()],
    cipher: Cipher,
    settings: SettingsDep,
) -> LookupOut:
    """A resident's own code by identity number and name (no login; rate-limited, audited).

    The answer is masked and carries a signed token for the QR code. A wrong name and an
    unknown number get the same 404."""
    lookup_brake(request)
    with route_transaction(request) as session:
        return service.lookup(
            session=session,
            cipher=cipher,
            settings=settings,
            data=data,
            client_addr=client_addr(request),
        )


@router.post("/verify", response_model=VerifyOut)
def verify(data: VerifyIn, settings: SettingsDep) -> VerifyOut:
    """Check a token with the public key only, as a checkpoint does offline."""
    try:
        claims = tokens.verify(data.token, service.public_key(settings))
    except tokens.TokenRefused as refused:
        return VerifyOut(valid=False, message=str(refused))
    return VerifyOut(
        valid=True,
        message="authentic and current",
        colour=claims.colour,  # type: ignore[arg-type]
        name=claims.name,
        id_number=claims.id_number,
        expires_at=claims.expires_at,
    )


@router.get("/public-key", response_model=str)
def public_key(settings: SettingsDep) -> str:
    """The Ed25519 public key (PEM) checkpoints verify tokens with."""
    return service.public_key_pem(settings)


@router.post("/recompute", response_model=RecomputeOut)
def recompute(
    actor: CurrentActor,
    session: DbSession,
    settings: SettingsDep,
    pack: PackName = None,
    full: bool = False,
) -> RecomputeOut:
    """Recompute codes in your jurisdiction (changed and due people, or everyone with full)."""
    return service.recompute(
        session=session,
        actor=actor,
        pack_name=pack or settings.code_pack,
        full=full,
        tz_name=settings.timezone,
    )


@router.get("/people/{person_id}", response_model=ExplainOut)
def explain(
    person_id: RecordId,
    actor: CurrentActor,
    session: DbSession,
    settings: SettingsDep,
    pack: PackName = None,
) -> ExplainOut:
    """A person's code now, with reasons, next conversion and history."""
    return service.explain(
        session=session,
        actor=actor,
        person_id=person_id,
        pack_name=pack or settings.code_pack,
        tz_name=settings.timezone,
    )


@router.get("/counts", response_model=list[PlaceCount])
def counts(
    actor: CurrentActor, session: DbSession, level: Literal["town", "grid"] = "town"
) -> list[PlaceCount]:
    """People per colour in each town or grid of your jurisdiction."""
    return service.counts(session=session, actor=actor, level=level)


@router.get("/catalogue")
def catalogue(actor: CurrentActor) -> dict[str, object]:
    """Facts, attributes and operators a rule may use (for rule editors)."""
    return packs.catalogue()


@router.post("/whatif", response_model=WhatIfOut)
def whatif(
    actor: CurrentActor,
    session: DbSession,
    settings: SettingsDep,
    draft: Annotated[str, Body(media_type="text/plain", max_length=200_000)],
) -> WhatIfOut:
    """Evaluate a draft pack (YAML in the body) against the pack in force; nothing is stored."""
    return service.whatif(
        session=session,
        actor=actor,
        draft=packs.parse_text(draft, source="draft"),
        current_name=settings.code_pack,
        tz_name=settings.timezone,
    )
