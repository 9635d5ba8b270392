"""Health-code API: recompute, explain, counts, what-if (staff); lookup and verify (public)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query, Request

from cordon.auth.schemas import Actor
from cordon.codes import jobs, packs, service, tokens
from cordon.codes.schemas import (
    ExplainOut,
    LookupIn,
    LookupOut,
    PlaceCount,
    VerifyIn,
    VerifyOut,
    WhatIfOut,
)
from cordon.errors import TooManyAttempts
from cordon.jobs.flows import dispatch
from cordon.jobs.schemas import JobOut
from cordon.web.deps import (
    CurrentActor,
    DbSession,
    RecordId,
    SettingsDep,
    client_addr,
    require,
    route_reads,
)
from cordon.web.ratelimit import Limit

router = APIRouter(prefix="/codes", tags=["codes"])
PackName = Annotated[str | None, Query(max_length=40, description="Rule pack (default: in force)")]


def lookup_brake(request: Request) -> None:
    """Refuse a burst of lookups from one address before anything else runs (429).

    Counted in the limiter every worker shares (Redis, or a small SQLite file), so the limit
    is one limit however many worker processes serve."""
    state = request.app.state
    addr = client_addr(request) or "-"
    limit = Limit(f"codes:addr:{addr}", state.settings.code_lookup_per_minute, 60)
    wait = state.limiter.hit([limit])
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
async def lookup(request: Request, data: Annotated[LookupIn, Body()]) -> LookupOut:
    """A resident's own code by identity number and name (no login; rate-limited, audited).

    The answer is masked and carries a signed token for the QR code. A wrong name and an
    unknown number get the same 404."""
    # The hottest route runs on the worker's event loop, not in a thread: a lookup is about a
    # millisecond of CPU and two indexed reads, and the three thread hops a sync route and its
    # sync dependencies cost were a third of that. The worker is CPU-bound either way (one
    # Python thread runs at a time); other workers take the other connections.
    state = request.app.state
    lookup_brake(request)
    # No write on this path: the audit entry (a miss's too, see app.py) is queued and written
    # in a batch; the session only reads, in autocommit mode.
    request.state.audit_batched = True
    with route_reads(request) as session:
        return service.lookup(
            session=session,
            cipher=state.cipher,
            settings=state.settings,
            data=data,
            client_addr=client_addr(request),
            audit_record=state.audit.record,
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


@router.post("/recompute", response_model=JobOut, status_code=202)
def recompute(
    request: Request,
    actor: CurrentActor,
    session: DbSession,
    pack: PackName = None,
    full: bool = False,
) -> JobOut:
    """Recompute codes in your jurisdiction (changed and due people, or everyone with full) as
    a job, answered at once: poll GET /jobs/{id}; its result is the recompute's summary.
    Codes of people whose facts change are also decided again by themselves."""
    job = jobs.start_recompute(session=session, actor=actor, full=full, pack_name=pack)
    dispatch(request.app, session, job)
    return job


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
    actor: Annotated[Actor, Depends(require("codes:manage"))],
    session: DbSession,
    settings: SettingsDep,
    draft: Annotated[str, Body(media_type="text/plain", max_length=200_000)],
    at: Annotated[
        datetime | None,
        Query(description="Evaluate as of this time (ISO 8601; default: the clock's now)."),
    ] = None,
) -> WhatIfOut:
    """Evaluate a draft pack (YAML in the body) against the pack in force, as of ``at``;
    nothing is stored."""
    return service.whatif(
        session=session,
        actor=actor,
        draft=packs.parse_text(draft, source="draft"),
        current_name=settings.code_pack,
        now=service.as_of(at, settings.timezone),
        tz_name=settings.timezone,
    )
