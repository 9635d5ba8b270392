"""Health codes: recompute everyone (or those whose facts or clocks moved), store each change
with its reasons, explain a person's code, answer residents' lookups with a signed token, count
colours per town and grid, and compare a draft pack with the one in force."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from cordon import clock
from cordon.audit import service as audit
from cordon.auth.schemas import Actor
from cordon.auth.service import out_of_jurisdiction, require
from cordon.bulkwrite import insert_rows
from cordon.codes import batch, packs, tokens
from cordon.codes.models import CodeRun, DirtyPerson, HealthCode, HealthCodeChange
from cordon.codes.rules.evaluate import Decision, assemble, decide, moment, seconds
from cordon.codes.rules.model import Pack
from cordon.codes.schemas import (
    ChangeOut,
    ConversionOut,
    DecisionOut,
    ExplainOut,
    LookupIn,
    LookupOut,
    PlaceCount,
    ReasonOut,
    RecomputeOut,
    WhatIfExample,
    WhatIfOut,
    WhatIfPlace,
)
from cordon.config import Settings
from cordon.db import utcnow
from cordon.errors import DeniedAccess, NotFound, OutOfJurisdiction
from cordon.facts import service as facts_service
from cordon.facts.schemas import FactRow
from cordon.geo import service as geo_service
from cordon.people import service as people_service
from cordon.security.crypto import FieldCipher
from cordon.trace.schemas import ContactScore

_CHUNK = 500
TOWN_DIGITS = 9
RESIDENT = "resident"  # who a resident's own lookup is audited as


def _tz(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _reasons(decision: Decision) -> list[dict[str, str]]:
    return [{"rule_id": r.rule_id, "zh": r.zh, "en": r.en} for r in decision.reasons]


def _conversion(decision: Decision) -> dict[str, str | None] | None:
    c = decision.conversion
    if c is None:
        return None
    return {"colour": c.colour, "at": c.at.isoformat() if c.at else None, "zh": c.zh, "en": c.en}


def _next_change(decision: Decision, now: datetime) -> datetime | None:
    """The first moment a phase ends, when the code must be decided again without new facts."""
    at_now = seconds(now)
    ends = [
        s.phase_end for s in decision.states if s.phase_end is not None and s.phase_end > at_now
    ]
    return moment(min(ends)) if ends else None


def _in_scope(table: pa.Table, jurisdiction: str) -> pa.Table:
    if not jurisdiction or table.num_rows == 0:
        return table
    return table.filter(pc.starts_with(table.column("division_code"), jurisdiction))


def _decision_out(person_id: int, decision: Decision, pack: str, at: datetime) -> DecisionOut:
    return DecisionOut(
        person_id=person_id,
        colour=decision.colour,
        pack=pack,
        at=at,
        rules=list(decision.rules),
        reasons=[ReasonOut(**r) for r in _reasons(decision)],
        conversion=_conversion_out(_conversion(decision)),
    )


def _conversion_out(data: dict[str, Any] | None) -> ConversionOut | None:
    return ConversionOut.model_validate(data) if data else None


def _existing(
    session: Session, actor: Actor, person_ids: list[int] | None
) -> dict[int, HealthCode]:
    query = select(HealthCode).where(HealthCode.division_code.startswith(actor.jurisdiction))
    if person_ids is None:
        return {row.person_id: row for row in session.scalars(query)}
    found: dict[int, HealthCode] = {}
    for start in range(0, len(person_ids), _CHUNK):
        chunk = person_ids[start : start + _CHUNK]
        found.update(
            {r.person_id: r for r in session.scalars(query.where(HealthCode.person_id.in_(chunk)))}
        )
    return found


def recompute(
    *,
    session: Session,
    actor: Actor,
    pack_name: str = packs.DEFAULT_PACK,
    now: datetime | None = None,
    full: bool = False,
    tz_name: str = "Asia/Shanghai",
) -> RecomputeOut:
    """Decide the codes of everyone in the actor's jurisdiction whose facts changed since the
    last run, or whose code is due to convert, or everyone (``full`` or the first run); store
    each person's code and a history row for every change."""
    require(actor, "codes:manage")
    pack = packs.load(pack_name)
    at = now or utcnow()
    started, clock = utcnow(), time.perf_counter()
    last = session.scalar(
        select(CodeRun)
        .where(CodeRun.pack == pack.name, CodeRun.jurisdiction == actor.jurisdiction)
        .order_by(CodeRun.started_at.desc(), CodeRun.id.desc())
        .limit(1)
    )
    kind = "full" if full or last is None else "incremental"
    if last is None or kind == "full":
        table = facts_service.live_table(session=session)
        existing = _existing(session, actor, None)
    else:
        moved = set(facts_service.changed_since(session=session, since=last.started_at))
        due = session.scalars(
            select(HealthCode.person_id).where(
                HealthCode.division_code.startswith(actor.jurisdiction),
                or_(HealthCode.next_change_at <= at, HealthCode.pack != pack.name),
            )
        )
        ids = sorted(moved | set(due))
        table = facts_service.live_table(session=session, person_ids=ids)
        existing = _existing(session, actor, ids)
    table = _in_scope(table, actor.jurisdiction)
    decided = batch.decisions(table, at, pack, _tz(tz_name))
    changed = _store(session, pack, at, decided, existing, _tz(tz_name))
    evaluated = len(set(table.column("person_id").to_pylist()) | set(existing))
    session.add(
        CodeRun(
            pack=pack.name,
            kind=kind,
            at=at,
            started_at=started,
            evaluated=evaluated,
            changed=changed,
            username=actor.username,
            jurisdiction=actor.jurisdiction,
        )
    )
    session.flush()
    held: Counter[str] = Counter(d.colour for d in decided.values())
    audit.record(
        session=session,
        actor=actor,
        action="recompute",
        entity="health_codes",
        entity_id=pack.name,
        detail={"kind": kind, "evaluated": evaluated, "changed": changed},
    )
    return RecomputeOut(
        kind=kind,  # type: ignore[arg-type]
        pack=pack.name,
        at=at,
        evaluated=evaluated,
        changed=changed,
        seconds=round(time.perf_counter() - clock, 3),
        held=dict(held),
    )


def mark_dirty(*, session: Session, person_ids: list[int]) -> None:
    """These people's facts changed: their codes are decided again by the refresh job. Written
    in the facts' own transaction, so a committed fact always has its mark."""
    if person_ids:
        at = utcnow()
        rows = [{"person_id": p, "marked_at": at} for p in sorted(set(person_ids))]
        insert_rows(session, DirtyPerson.__tablename__, rows)


facts_service.on_change(mark_dirty)


def dirty_count(*, session: Session) -> int:
    return int(session.scalar(select(func.count(DirtyPerson.id))) or 0)


def refresh_dirty(
    *,
    session: Session,
    actor: Actor,
    pack_name: str = packs.DEFAULT_PACK,
    now: datetime | None = None,
    tz_name: str = "Asia/Shanghai",
    limit: int = 5_000,
) -> tuple[int, int]:
    """Decide again the codes of the people of (up to ``limit`` of) the oldest marks, and clear
    those marks; returns (people decided, codes that changed colour). A mark written while
    this runs is not among those claimed and stays for the next refresh."""
    require(actor, "codes:manage")
    pack = packs.load(pack_name)
    # The marks are claimed (deleted) first, in this transaction: a refresh in another worker
    # process waits for this one's write lock (SQLite) or row locks (PostgreSQL) and then finds
    # them gone, so no person's code is decided and inserted twice at once.
    oldest = select(DirtyPerson.id).order_by(DirtyPerson.id).limit(limit)
    claimed = session.execute(
        delete(DirtyPerson).where(DirtyPerson.id.in_(oldest)).returning(DirtyPerson.person_id)
    )
    ids = sorted(set(claimed.scalars()))
    if not ids:
        return 0, 0
    at = now or utcnow()
    table = _in_scope(facts_service.live_table(session=session, person_ids=ids), actor.jurisdiction)
    existing = _existing(session, actor, ids)
    decided = batch.decisions(table, at, pack, _tz(tz_name))
    changed = _store(session, pack, at, decided, existing, _tz(tz_name))
    audit.record(
        session=session,
        actor=actor,
        action="recompute",
        entity="health_codes",
        entity_id=pack.name,
        detail={"kind": "changed facts", "evaluated": len(ids), "changed": changed},
    )
    session.flush()
    return len(ids), changed


@dataclass(frozen=True)
class Held:
    """A person's code in a dry run, and where its phases hold them (central, home or None)."""

    colour: str
    place: str | None


def dry_run(
    *,
    session: Session,
    actor: Actor,
    person_ids: Sequence[int],
    facts: Sequence[FactRow],
    pack_name: str = packs.DEFAULT_PACK,
    now: datetime | None = None,
) -> tuple[dict[int, Held], dict[int, Held]]:
    """The codes of these people (and of the facts' people) at ``now`` as their facts stand,
    and as they would be with ``facts`` written as the ledger writes them (replacing a live fact
    of the same person, kind and source). Decided by the batch evaluator the refresh runs, on
    the facts it reads, so a preview says what the codes will do once the facts are written.
    People held by no rule are absent (green). Nothing is stored or shown: callers count."""
    require(actor, "codes:view")
    pack = packs.load(pack_name)
    at = now or utcnow()
    people = sorted(set(person_ids) | {f.person_id for f in facts})
    live = facts_service.live_table(session=session, person_ids=people)
    written = {(f.person_id, f.kind, f.source) for f in facts}
    keys = zip(*(live.column(c).to_pylist() for c in ("person_id", "kind", "source")), strict=True)
    kept = pa.array([key not in written for key in keys], pa.bool_())
    added = pa.table(
        [
            [f.person_id for f in facts],
            [""] * len(facts),
            [f.kind for f in facts],
            [f.at for f in facts],
            [json.dumps(f.attrs, sort_keys=True, ensure_ascii=False) for f in facts],
            [f.source for f in facts],
        ],
        schema=facts_service.FACT_TABLE_SCHEMA,
    )
    return _held(live, at, pack), _held(pa.concat_tables([live.filter(kept), added]), at, pack)


def _held(table: pa.Table, at: datetime, pack: Pack) -> dict[int, Held]:
    """Everyone held by a rule in the table (people absent are green and held nowhere)."""
    states = batch.match_states(table, at, pack)
    colours = _colour_map(batch.colours(states, pack))
    placed = batch.places(states, pack)
    where = dict(zip(placed.person.tolist(), placed.place.tolist(), strict=True))
    return {
        person: Held(batch.COLOUR_NAMES[colour], batch.PLACE_NAMES[where.get(person, 0)])
        for person, colour in colours.items()
    }


def _store(
    session: Session,
    pack: Pack,
    at: datetime,
    decided: dict[int, Decision],
    existing: dict[int, HealthCode],
    tz: ZoneInfo,
) -> int:
    """Write current codes and history; returns how many people's code changed."""
    green = assemble([], at, pack, tz)
    new_people = sorted(p for p, d in decided.items() if p not in existing and d.colour != "green")
    homes = people_service.residences(session=session, person_ids=new_people)
    changed = 0
    for person_id in sorted(set(decided) | set(existing)):
        decision = decided.get(person_id, green)
        row = existing.get(person_id)
        if row is None:
            if decision.colour == "green" or person_id not in homes:
                continue
            division, grid = homes[person_id]
            row = HealthCode(person_id=person_id, division_code=division, grid_code=grid)
            session.add(row)
            before, before_rules = None, None
        else:
            before, before_rules = row.colour, list(row.rules)
        rules = list(decision.rules)
        reasons, conversion = _reasons(decision), _conversion(decision)
        if before != decision.colour or before_rules != rules:
            changed += before != decision.colour
            session.add(
                HealthCodeChange(
                    person_id=person_id,
                    division_code=row.division_code,
                    colour_from=before,
                    colour_to=decision.colour,
                    pack=pack.name,
                    rules=rules,
                    reasons=reasons,
                    conversion=conversion,
                    at=at,
                )
            )
            row.changed_at = at
        row.colour, row.pack, row.rules = decision.colour, pack.name, rules
        row.reasons, row.conversion = reasons, conversion
        row.next_change_at = _next_change(decision, at)
        row.decided_at = at
    session.flush()
    return changed


class _Fact:
    def __init__(self, kind: str, at: datetime, attrs: dict[str, object]) -> None:
        self.kind, self.at, self.attrs = kind, at, attrs


def _facts_of(session: Session, person_id: int) -> list[_Fact]:
    return [
        _Fact(kind, at, attrs)
        for kind, at, attrs in facts_service.live_of(session=session, person_id=person_id)
    ]


def _require_in_scope(session: Session, actor: Actor, person_id: int, action: str) -> str:
    division = people_service.divisions_of(session=session, person_ids=[person_id]).get(person_id)
    unknown = NotFound("no person %(person_id)s", params=dict(person_id=person_id))
    if division is None:
        raise unknown
    if not division.startswith(actor.jurisdiction):
        raise out_of_jurisdiction(
            actor, unknown, action=action, entity="health_code", entity_id=person_id
        )
    return division


def _change_out(row: HealthCodeChange) -> ChangeOut:
    return ChangeOut(
        colour_from=row.colour_from,  # type: ignore[arg-type]
        colour_to=row.colour_to,  # type: ignore[arg-type]
        pack=row.pack,
        at=row.at,
        rules=list(row.rules),
        reasons=[ReasonOut(**r) for r in row.reasons],
        conversion=_conversion_out(row.conversion),
    )


def explain(
    *,
    session: Session,
    actor: Actor,
    person_id: int,
    pack_name: str = packs.DEFAULT_PACK,
    now: datetime | None = None,
    tz_name: str = "Asia/Shanghai",
) -> ExplainOut:
    """A person's code decided afresh from their facts, the last stored code and its history."""
    require(actor, "codes:view")
    _require_in_scope(session, actor, person_id, "view")
    pack = packs.load(pack_name)
    at = now or utcnow()
    decision = decide(_facts_of(session, person_id), at, pack, _tz(tz_name))
    stored = session.get(HealthCode, person_id)
    history = session.scalars(
        select(HealthCodeChange)
        .where(HealthCodeChange.person_id == person_id)
        .order_by(HealthCodeChange.at.desc(), HealthCodeChange.id.desc())
        .limit(200)
    )
    audit.record(
        session=session, actor=actor, action="view", entity="health_code", entity_id=person_id
    )
    return ExplainOut(
        current=_decision_out(person_id, decision, pack.name, at),
        stored_colour=stored.colour if stored else None,  # type: ignore[arg-type]
        stored_at=stored.decided_at if stored else None,
        history=[_change_out(r) for r in history],
    )


def lookup(
    *,
    session: Session,
    cipher: FieldCipher,
    settings: Settings,
    data: LookupIn,
    client_addr: str | None,
    now: datetime | None = None,
    audit_record: Callable[..., object] | None = None,
) -> LookupOut:
    """A resident's own code by identity number and name, masked, with a signed token.

    A wrong name and an unknown number get the same answer; both are audited. With
    ``audit_record`` (the API's batched trail) the entry goes there instead of the session,
    so the lookup writes nothing in its own transaction."""
    resident = Actor(
        user_id=None, username=RESIDENT, role="", jurisdiction="", client_addr=client_addr
    )
    match = people_service.match_identity(
        session=session, cipher=cipher, id_number=data.id_number, name=data.name
    )
    if match is None:
        raise OutOfJurisdiction(
            "no health code matches this identity number and name",
            denied=DeniedAccess(
                user_id=None,
                username=RESIDENT,
                action="code_lookup",
                entity="health_code",
                entity_id="-",
                detail={"reason": "no match"},
            ),
        )
    at = now or utcnow()
    pack = packs.load(settings.code_pack)
    decision = decide(_facts_of(session, match.person_id), at, pack, _tz(settings.timezone))
    token = tokens.issue(
        settings.secret("code_signing_key"),
        colour=decision.colour,
        name=match.masked_name,
        id_number=match.masked_id_number,
        pack=pack.name,
        now=at,
        minutes=settings.code_token_minutes,
    )
    if audit_record is not None:
        audit_record(
            actor=resident, action="code_lookup", entity="person", entity_id=match.person_id
        )
    else:
        audit.record(
            session=session,
            actor=resident,
            action="code_lookup",
            entity="person",
            entity_id=match.person_id,
        )
    out = _decision_out(match.person_id, decision, pack.name, at)
    return LookupOut(
        name=match.masked_name,
        id_number=match.masked_id_number,
        colour=decision.colour,
        reasons=out.reasons,
        conversion=out.conversion,
        token=token,
        expires_at=tokens.expiry(at, settings.code_token_minutes),
    )


def public_key(settings: Settings) -> tokens.Ed25519PublicKey:
    return tokens.load_public_key(public_key_pem(settings))


def public_key_pem(settings: Settings) -> str:
    return tokens.public_key_pem(settings.secret("code_signing_key"))


def counts(*, session: Session, actor: Actor, level: str = "town") -> list[PlaceCount]:
    """People per colour in each town (or grid) of the jurisdiction, from the stored codes.

    Aggregates only: no person's record is read, so no audit entry."""
    require(actor, "codes:view")
    key = (
        func.substr(HealthCode.division_code, 1, TOWN_DIGITS)
        if level == "town"
        else HealthCode.grid_code
    )
    rows = session.execute(
        select(key, HealthCode.colour, func.count())
        .where(HealthCode.division_code.startswith(actor.jurisdiction), key.is_not(None))
        .group_by(key, HealthCode.colour)
    )
    held: dict[str, Counter[str]] = {}
    for code, colour, n in rows:
        held.setdefault(code, Counter())[colour] += int(n)
    if level == "town":
        population = people_service.count_by_prefix(
            session=session, actor=actor, digits=TOWN_DIGITS
        )
        names = geo_service.divisions_named(
            session=session, codes=sorted(set(population) | set(held))
        )
    else:
        population = people_service.count_by_grid(session=session, actor=actor)
        grids = geo_service.grids_within(session=session, code=actor.jurisdiction[:12])
        names = {g.code: g.name for g in grids}
    out = []
    for code in sorted(set(population) | set(held)):
        c = held.get(code, Counter())
        people = max(population.get(code, 0), c["red"] + c["yellow"] + c["green"])
        out.append(
            PlaceCount(
                code=code,
                name=names.get(code, code),
                people=people,
                red=c["red"],
                yellow=c["yellow"],
                green=people - c["red"] - c["yellow"],
            )
        )
    return out


def as_of(moment: datetime | None, tz_name: str = "Asia/Shanghai") -> datetime | None:
    """A what-if's "as of" time: a time without a zone is read in ``tz_name``; None stays None
    (the clock's now)."""
    return None if moment is None else clock.in_zone(moment, tz_name)


def whatif(
    *,
    session: Session,
    actor: Actor,
    draft: Pack,
    current_name: str = packs.DEFAULT_PACK,
    now: datetime | None = None,
    tz_name: str = "Asia/Shanghai",
    examples: int = 20,
) -> WhatIfOut:
    """How many people a draft pack would give another colour than the pack in force, per
    town and grid, with examples — before the draft is published. Nothing is stored."""
    require(actor, "codes:manage")
    current = packs.load(current_name)
    at = now or utcnow()
    table = _in_scope(facts_service.live_table(session=session), actor.jurisdiction)
    before = _colours(table, at, current)
    after_states = batch.match_states(table, at, draft)
    after = _colour_map(batch.colours(after_states, draft))
    moved = sorted(p for p in set(before) | set(after) if before.get(p, 0) != after.get(p, 0))
    homes = people_service.residences(session=session, person_ids=moved)
    transitions: Counter[str] = Counter()
    towns: dict[str, Counter[str]] = {}
    grids: dict[str, Counter[str]] = {}
    for p in moved:
        step = f"{batch.COLOUR_NAMES[before.get(p, 0)]}→{batch.COLOUR_NAMES[after.get(p, 0)]}"
        transitions[step] += 1
        division, grid = homes.get(p, ("", None))
        towns.setdefault(division[:TOWN_DIGITS], Counter())[step] += 1
        if grid:
            grids.setdefault(grid, Counter())[step] += 1
    contact = _riskiest_contacts(session, actor, moved)
    # The examples a commander reads first: the riskiest contacts, then everyone else by id.
    chosen = sorted(
        moved, key=lambda p: (p not in contact, -contact[p].score if p in contact else 0)
    )
    chosen = chosen[:examples]
    draft_decisions = (
        {
            p: assemble(states, at, draft, _tz(tz_name))
            for p, states in batch.state_rows(
                batch.match_states(
                    table.filter(pc.is_in(table.column("person_id"), pa.array(chosen, pa.int64()))),
                    at,
                    draft,
                ),
                draft,
            )
        }
        if chosen
        else {}
    )
    green = assemble([], at, draft, _tz(tz_name))
    town_names = geo_service.divisions_named(session=session, codes=sorted(towns))
    grid_names = {
        g.code: g.name
        for g in geo_service.grids_within(session=session, code=actor.jurisdiction[:12])
    }
    audit.record(
        session=session,
        actor=actor,
        action="whatif",
        entity="health_codes",
        entity_id=draft.name,
        detail={"changed": len(moved), "examples": chosen},
    )
    return WhatIfOut(
        draft=draft.name,
        draft_version=draft.version,
        current=current.name,
        at=at,
        evaluated=len(set(table.column("person_id").to_pylist())),
        changed=len(moved),
        transitions=dict(transitions),
        by_town=_places(towns, town_names),
        by_grid=_places(grids, grid_names),
        examples=[
            WhatIfExample(
                person_id=p,
                division_code=homes.get(p, ("", None))[0],
                grid_code=homes.get(p, ("", None))[1],
                colour_from=batch.COLOUR_NAMES[before.get(p, 0)],  # type: ignore[arg-type]
                colour_to=batch.COLOUR_NAMES[after.get(p, 0)],  # type: ignore[arg-type]
                reasons=[ReasonOut(**r) for r in _reasons(draft_decisions.get(p, green))],
                contact_kind=contact[p].kind if p in contact else None,
                contact_score=contact[p].score if p in contact else None,
                contact_tier=contact[p].tier if p in contact else None,
            )
            for p in chosen
        ],
    )


def _riskiest_contacts(
    session: Session, actor: Actor, person_ids: list[int]
) -> dict[int, ContactScore]:
    """Each of these people's highest-scored stored contact, where they are one (and the user
    may see contacts)."""
    if not actor.can("cases:view"):
        return {}
    best: dict[int, ContactScore] = {}
    # Imported here: trace.service reaches codes through the push's dry run.
    from cordon.trace import service as trace_service

    for found in trace_service.contact_scores(session=session, actor=actor, person_ids=person_ids):
        best.setdefault(found.person_id, found)  # highest score first
    return best


def _colours(table: pa.Table, at: datetime, pack: Pack) -> dict[int, int]:
    return _colour_map(batch.colours(batch.match_states(table, at, pack), pack))


def _colour_map(colours: batch.Colours) -> dict[int, int]:
    return dict(zip(colours.person.tolist(), colours.colour.tolist(), strict=True))


def _places(counts: dict[str, Counter[str]], names: dict[str, str]) -> list[WhatIfPlace]:
    return sorted(
        (
            WhatIfPlace(
                code=code, name=names.get(code, code), changed=sum(c.values()), transitions=dict(c)
            )
            for code, c in counts.items()
        ),
        key=lambda p: (-p.changed, p.code),
    )
