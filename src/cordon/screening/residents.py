"""A resident looks up their own screening results with their identity number and name.

No login: the answer is masked, every lookup is audited, and lookups are slowed down per
address and per identity number so that nobody can walk through the registry.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cordon.audit import service as audit
from cordon.auth.schemas import Actor
from cordon.db import utcnow
from cordon.errors import TooManyAttempts
from cordon.people import service as people_service
from cordon.screening.models import LookupAttempt, Sample, ScreeningRound, Tube
from cordon.screening.schemas import LookupIn, LookupOut, OwnResult
from cordon.security.crypto import FieldCipher
from cordon.security.masking import mask_id_number, mask_name

WINDOW = timedelta(minutes=15)
PER_ADDRESS = 10
PER_NUMBER = 5


def _recent(session: Session, *conditions: object) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(LookupAttempt)
            .where(LookupAttempt.at >= utcnow() - WINDOW, *conditions)  # type: ignore[arg-type]
        )
        or 0
    )


def own_results(
    *,
    session: Session,
    cipher: FieldCipher,
    query: LookupIn,
    client_addr: str | None,
    now: datetime | None = None,
) -> LookupOut:
    """The resident's samples and results, newest first; answered "not found" alike for an
    unknown number and a wrong name. The attempt is counted even when it fails."""
    addr = (client_addr or "unknown")[:64]
    digest = people_service.id_hash(cipher, query.id_number.strip().upper())
    if (
        _recent(session, LookupAttempt.client_addr == addr) >= PER_ADDRESS
        or _recent(session, LookupAttempt.id_hash == digest) >= PER_NUMBER
    ):
        raise TooManyAttempts(
            "too many lookups; try again in %(minutes)s minutes",
            params=dict(minutes=WINDOW.seconds // 60),
        )
    resident = Actor(
        user_id=None,
        username=f"resident:{mask_id_number(query.id_number.strip())}",
        role="resident",
        jurisdiction="",
        permissions=frozenset({"people:view"}),
        client_addr=client_addr,
    )
    person_id = people_service.find_by_id_number(
        session=session, cipher=cipher, id_number=query.id_number
    )
    found = (
        people_service.read_many(
            session=session,
            actor=resident,
            cipher=cipher,
            person_ids=[person_id],
            purpose="resident_lookup",
        )
        if person_id is not None
        else []
    )
    matched = bool(found) and found[0].name == query.name.strip()
    session.add(LookupAttempt(client_addr=addr, id_hash=digest, found=matched))
    session.flush()
    if not matched:
        # Counted, and answered as a miss: the transaction of an error would drop the count.
        return LookupOut(found=False, name="", id_number="", results=[])
    rows = session.execute(
        select(ScreeningRound.name, Sample.sampled_at, Sample.pool_flag, Tube.barcode, Tube.result)
        .join(Tube, Tube.id == Sample.tube_id)
        .join(ScreeningRound, ScreeningRound.id == Sample.round_id)
        .where(Sample.person_id == person_id)
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
    audit.record(
        session=session,
        actor=resident,
        action="resident_lookup",
        entity="screening_results",
        entity_id=person_id or 0,
    )
    return LookupOut(
        found=True,
        name=mask_name(found[0].name),
        id_number=mask_id_number(query.id_number.strip().upper()),
        results=results,
    )
