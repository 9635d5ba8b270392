"""Tracing a registered case on the lake: its window under the pack in force, contacts with
evidence. Person ids: the lake numbers people from 0 and the registry from 1 (a lake loaded by
`cordon sim load` keeps that relation), so registry id = lake id + 1."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from cordon.audit import service as audit
from cordon.auth.schemas import Actor
from cordon.auth.service import require
from cordon.cases import service as cases_service
from cordon.cases.schemas import CaseOut
from cordon.db import utcnow
from cordon.errors import Problem, ValidationFailed
from cordon.geo import service as geo_service
from cordon.people import service as people_service
from cordon.protocols import packs
from cordon.security.crypto import FieldCipher
from cordon.trace import contacts as repository
from cordon.trace import letters, push, score
from cordon.trace.duckdb_store import DuckDBStore
from cordon.trace.engine import trace_columns
from cordon.trace.evidence import KINDS, Traced
from cordon.trace.letters import LetterRow, build_letter, required_action
from cordon.trace.rules import IndexCase, NoStartOfWindow, look_back_window
from cordon.trace.schemas import (
    ContactOut,
    ContactScore,
    EvidenceOut,
    Stop,
    TraceOut,
    TrajectoryOut,
)
from cordon.trace.score import Scored

TZ = ZoneInfo("Asia/Shanghai")
LAKE_ID_OFFSET = 1


def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _index_of(case: CaseOut, moment: datetime) -> IndexCase:
    onset = (
        int(datetime.combine(case.onset_date, time(0), tzinfo=TZ).timestamp())
        if case.onset_date
        else None
    )
    return IndexCase(
        person_id=case.person_id - LAKE_ID_OFFSET,
        onset=onset,
        sampled=int(case.sampled_at.timestamp()) if case.sampled_at else None,
        isolated=int((case.isolated_at or moment).timestamp()),
    )


def _window(index: IndexCase, pack: packs.Pack, case_id: int) -> tuple[int, int]:
    try:
        return look_back_window(
            index,
            days_before_onset=pack.look_back.days_before_onset,
            days_before_sampling=pack.look_back.days_before_sampling,
        )
    except NoStartOfWindow as exc:
        problem = Problem("case_id", str(exc), params=exc.params, template=exc.template)
        raise ValidationFailed(
            "case %(case_id)s cannot be traced", params=dict(case_id=case_id), problems=[problem]
        ) from exc


def _contacts_out(found: Traced, case_of: dict[int, int], scored: Scored) -> list[ContactOut]:
    """The API's contacts, from the engine's columns and their scores, highest score first
    within each kind: a case in a city of 200,000 has tens of thousands of contacts. Times go
    in as epoch seconds, which pydantic turns into UTC instants in its compiled validator
    (faster than building datetimes in Python)."""
    ev = found.evidence
    start, end = (ev.column(name).to_pylist() for name in ("start", "end"))
    minutes = np.round((ev.column("end").to_numpy() - ev.column("start").to_numpy()) / 60, 1)
    kinds = [KINDS[k] for k in ev.column("kind").to_numpy()]
    index = (ev.column("index_id").to_numpy() + LAKE_ID_OFFSET).tolist()
    places, cells, settings, rules, cases = (
        ev.column(name).to_pylist()
        for name in ("place_id", "cell_id", "setting", "rule", "case_id")
    )
    columns = {
        "kind": kinds,
        "index_person_id": index,
        "place_id": places,
        "cell_id": cells,
        "setting": settings,
        "start": start,
        "end": end,
        "overlap_minutes": minutes.tolist(),
        "rule": rules,
        "infectiousness": np.round(scored.infectiousness, 3).tolist(),
        "weight": np.round(scored.weight, 6).tolist(),
        "hazard": np.round(scored.hazard, 6).tolist(),
    }
    names = list(columns)
    evidence = [
        EvidenceOut(**dict(zip(names, row, strict=True)))
        for row in zip(*columns.values(), strict=True)
    ]
    c = found.contacts
    firsts = c.column("first_exposure").to_pylist()
    out = []
    for person, kind, first, met, at, count, value, tier, exposed, days in zip(
        (c.column("person_id").to_numpy() + LAKE_ID_OFFSET).tolist(),
        c.column("kind").to_pylist(),
        firsts,
        c.column("case_ids").to_pylist(),
        c.column("first_evidence").to_pylist(),
        c.column("evidence_count").to_pylist(),
        np.round(scored.score, 4).tolist(),
        scored.tier.tolist(),
        np.round(scored.minutes, 1).tolist(),
        scored.days.tolist(),
        strict=True,
    ):
        # Evidence is ordered strongest kind first, then earliest: its first row names the case.
        primary = case_of[cases[at]]
        others = sorted({case_of[m] for m in met} - {primary})
        out.append(
            ContactOut(
                person_id=person,
                kind=KINDS[kind],
                first_exposure=first,
                case_ids=[primary, *others],
                evidence=evidence[at : at + count],
                score=value,
                tier=tier or None,
                exposed_minutes=exposed,
                days_exposed=days,
            )
        )
    out.sort(key=lambda c: (KINDS.index(c.kind), -c.score))
    return out


def _counts(contacts: list[ContactOut]) -> dict[str, int]:
    return {k: sum(c.kind == k for c in contacts) for k in ("close", "secondary", "companion")}


def _save(
    *,
    session: Session,
    actor: Actor,
    cases: list[CaseOut],
    contacts: list[ContactOut],
    pack: str,
    moment: datetime,
) -> None:
    """Replace the traced cases' contacts with this trace's. Facts are written by a push
    (``trace.push``): the tiers already pushed for these cases apply to the new list."""
    by_id = {c.id: c for c in cases}
    homes = people_service.residences(session=session, person_ids=[c.person_id for c in contacts])
    known = [c for c in contacts if c.person_id in homes]
    repository.replace_contacts(
        session=session,
        case_ids=list(by_id),
        rows=[
            {
                "case_id": c.case_ids[0],
                "person_id": c.person_id,
                "kind": c.kind,
                "first_exposure": c.first_exposure,
                "division_code": homes[c.person_id][0],
                "grid_code": homes[c.person_id][1],
                "case_division_code": by_id[c.case_ids[0]].division_code,
                "case_ids": c.case_ids,
                "evidence": [e.model_dump(mode="json") for e in c.evidence],
                "pack": pack,
                "traced_at": moment,
                "score": c.score,
                "tier": c.tier,
                "exposed_minutes": c.exposed_minutes,
                "days_exposed": c.days_exposed,
                "push_id": None,
            }
            for c in known
        ],
    )
    push.reapply(session=session, actor=actor, case_ids=list(by_id), now=moment)


def trace_cases(
    *,
    session: Session,
    actor: Actor,
    case_ids: list[int],
    lake: Path,
    pack_name: str = packs.DEFAULT_PACK,
    now: datetime | None = None,
    save: bool = True,
    on_traced: Callable[[int], None] | None = None,
) -> tuple[list[CaseOut], list[ContactOut], tuple[int, int]]:
    """Trace these cases together (contacts deduplicated across them, earliest exposure wins)
    and, unless ``save`` is off, store the contacts (their facts follow a push). ``on_traced``
    hears how many contacts were found before they are stored (a job's progress)."""
    require(actor, "trace:run")
    pack = packs.load(pack_name)
    moment = now or utcnow()
    cases = [cases_service.get_case(session=session, actor=actor, case_id=i) for i in case_ids]
    indexes = [_index_of(c, moment) for c in cases]
    windows = [_window(i, pack, c.id) for i, c in zip(indexes, cases, strict=True)]
    store = DuckDBStore(lake)
    found = trace_columns(indexes, pack, store, until=int(moment.timestamp()))
    case_of = {i.person_id: c.id for i, c in zip(indexes, cases, strict=True)}
    scored = score.score_traced(found, pack, score.onsets_of(indexes))
    contacts = _contacts_out(found, case_of, scored)
    if on_traced is not None:
        on_traced(len(contacts))
    if save:
        _save(
            session=session,
            actor=actor,
            cases=cases,
            contacts=contacts,
            pack=pack.name,
            moment=moment,
        )
    span = (min(w[0] for w in windows), max(w[1] for w in windows))
    return cases, contacts, span


def trace_case(
    *,
    session: Session,
    actor: Actor,
    case_id: int,
    lake: Path,
    pack_name: str = packs.DEFAULT_PACK,
    now: datetime | None = None,
    save: bool = True,
    on_traced: Callable[[int], None] | None = None,
) -> TraceOut:
    """Contacts of one case with evidence; stored unless ``save`` is off."""
    _cases, contacts, (start, end) = trace_cases(
        session=session,
        actor=actor,
        case_ids=[case_id],
        lake=lake,
        pack_name=pack_name,
        now=now,
        save=save,
        on_traced=on_traced,
    )
    return TraceOut(
        case_id=case_id,
        pack=pack_name,
        window_start=_instant(start),
        window_end=_instant(end),
        counts=_counts(contacts),
        contacts=contacts,
    )


def trajectory(
    *,
    session: Session,
    actor: Actor,
    case_id: int,
    lake: Path,
    pack_name: str = packs.DEFAULT_PACK,
    now: datetime | None = None,
) -> TrajectoryOut:
    """Where the case stayed during its window (map and timeline of the case page); audited."""
    require(actor, "cases:view")
    pack = packs.load(pack_name)
    case = cases_service.get_case(session=session, actor=actor, case_id=case_id)
    index = _index_of(case, now or utcnow())
    start, end = _window(index, pack, case_id)
    stays = DuckDBStore(lake).stays_of([index.person_id], start, end).to_pylist()
    places = geo_service.places_located(
        session=session, place_ids=sorted({int(s["place_id"]) for s in stays})
    )
    stops = []
    for stay in stays:
        name, kind, lon, lat = places.get(
            int(stay["place_id"]), (f"#{stay['place_id']}", "", None, None)
        )
        stops.append(
            Stop(
                place_id=stay["place_id"],
                name=name,
                place_kind=kind,
                setting=stay["setting"],
                lon=lon,
                lat=lat,
                start=_instant(max(int(stay["start"]), start)),
                end=_instant(min(int(stay["end"]), end)),
            )
        )
    audit.record(
        session=session,
        actor=actor,
        action="view",
        entity="trajectory",
        entity_id=case_id,
        detail={"stops": len(stops)},
    )
    return TrajectoryOut(
        case_id=case_id, window_start=_instant(start), window_end=_instant(end), stops=stops
    )


BATCH_SIZE = 20  # cases traced together: shared scans, bounded memory


def cases_since(*, session: Session, actor: Actor, since: datetime) -> list[int]:
    return [
        c.id
        for c in cases_service.list_cases(session=session, actor=actor)
        if c.reported_at >= since
    ]


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
    traced: TraceOut | None = None,
) -> list[Letter]:
    """One letter per region (at the level of the actor's own jurisdiction, at least a
    county) for the case's contacts who are outside the actor's jurisdiction: those who live
    elsewhere, and those whom a journey has taken elsewhere at ``now``. The case is traced
    (and stored) again unless ``traced`` is the trace just stored (a job stores it in its own
    short transaction first: SQLite has one writer)."""
    if traced is None:
        traced = trace_case(
            session=session, actor=actor, case_id=case_id, lake=lake, pack_name=pack_name, now=now
        )
    pack = packs.load(pack_name)
    at = now or utcnow()
    ids = [c.person_id for c in traced.contacts]
    homes = people_service.divisions_of(session=session, person_ids=ids)
    away = letters.whereabouts(lake=lake, person_ids=ids, at=at)
    region = {pid: letters.region_of(homes.get(pid, ""), away.get(pid)) for pid in ids}
    outside = [c for c in traced.contacts if not region[c.person_id].startswith(actor.jurisdiction)]
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

    known: dict[str, tuple[str, str | None] | None] = {}
    region_names: dict[str, str] = {}

    def division(code: str) -> tuple[str, str | None] | None:
        if code not in known:
            found = geo_service.get_division(session=session, code=code)
            known[code] = (found.name, found.parent_code) if found else None
        return known[code]

    def named(code: str) -> str:
        if code not in region_names:
            region_names[code] = letters.region_name(
                code, division, own_province=actor.jurisdiction[:2]
            )
        return region_names[code]

    groups: dict[str, list[LetterRow]] = {}
    for contact in outside:
        person = people[contact.person_id]
        first = next(e for e in contact.evidence if e.kind == contact.kind)
        where = (
            places.get(first.place_id, "")
            if first.place_id is not None
            else f"基站网格 {first.cell_id}"
        )
        gone = away.get(contact.person_id)
        target = region[contact.person_id]
        groups.setdefault(target[:level], []).append(
            LetterRow(
                name=person.name,
                id_number=person.id_number,
                phone=person.phone or "",
                address=person.address,
                kind=contact.kind,
                first_exposure=contact.first_exposure,
                place=where,
                whereabouts=letters.travel_note(
                    gone, named(target), home=homes.get(contact.person_id, "")
                ),
            )
        )
    names = {code: named(code) for code in groups}
    names[actor.jurisdiction] = (division(actor.jurisdiction) or (actor.jurisdiction, None))[0]
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
    issued = at.astimezone(TZ).date()
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


def contact_counts(*, session: Session, actor: Actor, case_id: int) -> dict[str, int]:
    """A case's stored contacts per kind (counts only, for other slices' pages)."""
    return repository.count_by_kind(
        session=session, actor=actor, where=repository.ContactFilter(case_id=case_id)
    )


def contact_scores(*, session: Session, actor: Actor, person_ids: list[int]) -> list[ContactScore]:
    """These people's stored contacts, highest score first (scores and tiers only, for other
    slices' pages and the codes what-if)."""
    return repository.scores_of(session=session, actor=actor, person_ids=person_ids)
