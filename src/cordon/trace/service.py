"""Tracing a registered case on the lake: its window under the pack in force, contacts with
evidence. Person ids: the lake numbers people from 0 and the registry from 1 (a lake loaded by
`cordon sim load` keeps that relation), so registry id = lake id + 1."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cordon.auth.schemas import Actor
from cordon.auth.service import require
from cordon.cases import service as cases_service
from cordon.db import utcnow
from cordon.errors import Problem, ValidationFailed
from cordon.geo import service as geo_service
from cordon.people import service as people_service
from cordon.protocols import packs
from cordon.security.crypto import FieldCipher
from cordon.trace.duckdb_store import DuckDBStore
from cordon.trace.engine import trace
from cordon.trace.letters import LetterRow, build_letter, required_action
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
    require(actor, "trace:run")
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


@dataclass(frozen=True)
class Letter:
    division_code: str
    division_name: str
    people: int
    docx: bytes


def assist_letters(
    *,
    session: Session,
    actor: Actor,
    cipher: FieldCipher,
    case_id: int,
    lake: Path,
    pack_name: str = packs.DEFAULT_PACK,
    now: datetime | None = None,
) -> list[Letter]:
    """One letter per division (at the level of the actor's own jurisdiction, at least a
    county) for the case's contacts who live outside the actor's jurisdiction."""
    traced = trace_case(
        session=session, actor=actor, case_id=case_id, lake=lake, pack_name=pack_name, now=now
    )
    pack = packs.load(pack_name)
    homes = people_service.divisions_of(
        session=session, person_ids=[c.person_id for c in traced.contacts]
    )
    outside = [
        c for c in traced.contacts if not homes.get(c.person_id, "").startswith(actor.jurisdiction)
    ]
    if not outside:
        return []
    level = max(len(actor.jurisdiction), 6)
    people = {
        p.id: p
        for p in people_service.for_assist_letter(
            session=session,
            actor=actor,
            cipher=cipher,
            person_ids=[c.person_id for c in outside],
            case_id=case_id,
        )
    }
    places = geo_service.place_names(
        session=session,
        place_ids=sorted(
            {e.place_id for c in outside for e in c.evidence if e.place_id is not None}
        ),
    )
    groups: dict[str, list[LetterRow]] = {}
    for contact in outside:
        person = people[contact.person_id]
        first = next(e for e in contact.evidence if e.kind == contact.kind)
        where = (
            places.get(first.place_id, "")
            if first.place_id is not None
            else f"基站网格 {first.cell_id}"
        )
        groups.setdefault(person.division_code[:level], []).append(
            LetterRow(
                name=person.name,
                id_number=person.id_number,
                phone=person.phone or "",
                address=person.address,
                kind=contact.kind,
                first_exposure=contact.first_exposure,
                place=where,
            )
        )
    names = geo_service.divisions_named(session=session, codes=[*groups, actor.jurisdiction])
    schedule = {
        kind: (q.central_days, q.home_days)
        for kind, q in pack.quarantine.items()
        if kind in ("close_contact", "secondary_contact")
    }
    quarantine = {
        "close": schedule.get("close_contact", (0, 0)),
        "secondary": schedule.get("secondary_contact", (0, 0)),
    }
    rule = pack.companion
    companion = (
        f"{rule.tests_within_days}天内完成{rule.tests}次核酸检测（间隔不少于"
        f"{rule.tests_min_hours_apart}小时），结果阴性前居家"
    )
    actions = {
        kind: required_action(kind, quarantine, companion)
        for kind in ("close", "secondary", "companion")
    }
    issued = (now or utcnow()).astimezone(TZ).date()
    return [
        Letter(
            division_code=code,
            division_name=names.get(code, code),
            people=len(rows),
            docx=build_letter(
                to_name=names.get(code, code),
                from_name=names.get(actor.jurisdiction, actor.jurisdiction),
                case_ref=f"病例 {case_id}",
                rows=rows,
                actions=actions,
                issued=issued,
            ),
        )
        for code, rows in sorted(groups.items())
    ]
