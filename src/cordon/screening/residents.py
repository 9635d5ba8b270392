"""A resident looks up their own screening results with their identity number and name.

No login: the answer is masked, every lookup is audited, and lookups are slowed down per
address and per identity number so that nobody can walk through the registry. The brake is
the shared limiter's (``web.ratelimit``: one atomic check-and-count for both limits, the same
for every worker process), and the audit entries go to the batched trail, so a lookup reads
the database and writes nothing on its own path (a burst of them once locked SQLite for
everyone).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cordon.auth.schemas import Actor
from cordon.errors import TooManyAttempts
from cordon.people import service as people_service
from cordon.screening.models import Sample, ScreeningRound, Tube
from cordon.screening.schemas import LookupIn, LookupOut, OwnResult
from cordon.security.crypto import FieldCipher
from cordon.security.masking import mask_id_number
from cordon.web.ratelimit import Limit, Limiter

WINDOW = timedelta(minutes=15)
PER_ADDRESS = 10
PER_NUMBER = 5


def brake(*, limiter: Limiter, client_addr: str | None, digest: str) -> None:
    """Count the attempt against its address and its number, or refuse it (429)."""
    addr = (client_addr or "unknown")[:64]
    seconds = WINDOW.total_seconds()
    wait = limiter.hit(
        [
            Limit(f"screening:addr:{addr}", PER_ADDRESS, seconds),
            Limit(f"screening:number:{digest}", PER_NUMBER, seconds),
        ]
    )
    if wait is not None:
        retry = math.ceil(wait)
        raise TooManyAttempts(
            "too many lookups; try again in %(minutes)s minutes",
            params=dict(minutes=math.ceil(retry / 60)),
            retry_after=retry,
        )


def own_results(
    *,
    session: Session,
    cipher: FieldCipher,
    query: LookupIn,
    client_addr: str | None,
    limiter: Limiter,
    audit_record: Callable[..., object],
) -> LookupOut:
    """The resident's samples and results, newest first; answered "not found" alike for an
    unknown number and a wrong name. The attempt is counted even when it fails, and audited
    (a miss as denied)."""
    number = query.id_number.strip().upper()
    brake(limiter=limiter, client_addr=client_addr, digest=people_service.id_hash(cipher, number))
    resident = Actor(
        user_id=None,
        username=f"resident:{mask_id_number(number)}",
        role="resident",
        jurisdiction="",
        client_addr=client_addr,
    )
    match = people_service.match_identity(
        session=session, cipher=cipher, id_number=number, name=query.name
    )
    if match is None:
        audit_record(
            actor=resident,
            action="resident_lookup",
            entity="screening_results",
            entity_id="-",
            outcome="denied",
            detail={"reason": "no match"},
        )
        return LookupOut(found=False, name="", id_number="", results=[])
    rows = session.execute(
        select(ScreeningRound.name, Sample.sampled_at, Sample.pool_flag, Tube.barcode, Tube.result)
        .join(Tube, Tube.id == Sample.tube_id)
        .join(ScreeningRound, ScreeningRound.id == Sample.round_id)
        .where(Sample.person_id == match.person_id)
        .order_by(Sample.sampled_at.desc())
    ).all()
    results = []
    for round_name, sampled_at, flag, barcode, result in rows:
        shown = result or "pending"
        if result == "positive" and flag == "flagged":
            shown = "retest_due"
        elif result == "positive" and flag == "cleared":
            shown = "cleared"
        results.append(
            OwnResult(round_name=round_name, sampled_at=sampled_at, result=shown, tube=barcode)
        )
    for entity in ("person", "screening_results"):
        audit_record(
            actor=resident, action="resident_lookup", entity=entity, entity_id=match.person_id
        )
    return LookupOut(
        found=True, name=match.masked_name, id_number=match.masked_id_number, results=results
    )
