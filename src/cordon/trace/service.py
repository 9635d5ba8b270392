"""Tracing a registered case on the lake: its window under the pack in force, contacts with
evidence. Person ids: the lake numbers people from 0 and the registry from 1 (a lake loaded by
`cordon sim load` keeps that relation), so registry id = lake id + 1."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cordon.auth.schemas import Actor
from cordon.cases import service as cases_service
from cordon.db import utcnow
from cordon.errors import Forbidden, Problem, ValidationFailed
from cordon.protocols import packs
from cordon.trace.duckdb_store import DuckDBStore
from cordon.trace.engine import trace
from cordon.trace.rules import IndexCase, NoStartOfWindow, look_back_window
from cordon.trace.schemas import ContactOut, EvidenceOut, TraceOut

TZ = ZoneInfo("Asia/Shanghai")
LAKE_ID_OFFSET = 1


def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def trace_case(
    *,
    session: Session,
    actor: Actor,
    case_id: int,
    lake: Path,
    pack_name: str = packs.DEFAULT_PACK,
    now: datetime | None = None,
) -> TraceOut:
    """Contacts of one case (read-only: nothing is written yet)."""
    if not actor.can("trace:run"):
        raise Forbidden(f"your role ({actor.role}) may not do trace:run")
    pack = packs.load(pack_name)
    case = cases_service.get_case(session=session, actor=actor, case_id=case_id)
    store = DuckDBStore(lake)
    moment = now or utcnow()
    onset = (
        int(datetime.combine(case.onset_date, time(0), tzinfo=TZ).timestamp())
        if case.onset_date
        else None
    )
    index = IndexCase(
        person_id=case.person_id - LAKE_ID_OFFSET,
        onset=onset,
        sampled=int(case.sampled_at.timestamp()) if case.sampled_at else None,
        isolated=int((case.isolated_at or moment).timestamp()),
    )
    try:
        start, end = look_back_window(
            index,
            days_before_onset=pack.look_back.days_before_onset,
            days_before_sampling=pack.look_back.days_before_sampling,
        )
    except NoStartOfWindow as exc:
        raise ValidationFailed(str(exc), problems=[Problem("case_id", str(exc))]) from exc
    contacts = trace([index], pack, store, until=int(moment.timestamp()))
    out = [
        ContactOut(
            person_id=c.person_id + LAKE_ID_OFFSET,
            kind=c.kind,
            first_exposure=_instant(c.first_exposure),
            case_ids=[case_id],
            evidence=[
                EvidenceOut(
                    kind=e.kind,
                    index_person_id=e.index_id + LAKE_ID_OFFSET,
                    place_id=e.place_id,
                    cell_id=e.cell_id,
                    setting=e.setting,
                    start=_instant(e.start),
                    end=_instant(e.end),
                    overlap_minutes=round(e.overlap_minutes, 1),
                    rule=e.rule,
                )
                for e in c.evidence
            ],
        )
        for c in contacts
    ]
    counts = {
        kind: sum(c.kind == kind for c in out) for kind in ("close", "secondary", "companion")
    }
    return TraceOut(
        case_id=case_id,
        pack=pack.name,
        window_start=_instant(start),
        window_end=_instant(end),
        counts=counts,
        contacts=out,
    )
