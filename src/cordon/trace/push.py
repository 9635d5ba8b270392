"""What a contact list costs, and pushing the tiers a commander chooses to codes and orders.

Tracing stores contacts with their scores and tiers but writes no facts: nobody's health code
moves until a commander pushes tiers. For a traced case or a batch, ``preview`` says per tier
(and for the companions) how many people there are, how many would turn red or yellow, how many
would be under central or home quarantine, and the infections the tier is expected to hold;
per town and grid, the people of each tier; and for the chosen tiers the rooms and staff they
take. ``push`` writes the contact facts of the chosen tiers, marks the contacts, and records who
chose what, when, and what the preview said at that moment.

The colours and places come from the codes slice's dry run (``codes.service.dry_run``): the
hypothetical facts are decided by the batch evaluator the codes refresh runs, on the live facts
it reads, so the preview is what the codes do once the push is written.

* **Each person once, in their highest tier:** a person listed by several of the cases (traced
  apart) counts in the highest tier any of their rows has, and pushing that tier pushes all of
  their rows in the selection. A contact stored before scores (no tier) counts in tier 1.
* **Pushing adds:** a tier pushed later joins those pushed before; a tier pushed again finds
  nobody left to push and changes nothing (the push is still recorded, with 0 people).
* **A re-trace keeps the decision** (``reapply``): the tiers pushed for a case apply to the new
  list by each contact's tier in it, so a person found again in a pushed tier stays pushed, one
  who moved to a tier not pushed loses the fact, and one no longer found loses it, as before
  tiers; a trace of a case nothing was pushed for writes no facts.
* The live contact facts of ``trace:case:N`` are always exactly case N's pushed contacts.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from cordon.audit import service as audit
from cordon.auth.schemas import Actor
from cordon.auth.service import require
from cordon.cases import service as cases_service
from cordon.codes import service as codes_service
from cordon.db import utcnow
from cordon.errors import N_, NotFound, Problem, ValidationFailed
from cordon.facts import service as facts_service
from cordon.facts.schemas import FactRow
from cordon.geo import service as geo_service
from cordon.protocols import packs
from cordon.trace.contacts import _scoped
from cordon.trace.models import Contact, ContactPush
from cordon.trace.schemas import AreaCost, PushOut, PushPreview, TierCost

COMPANION = "companion"  # the bucket of people listed only as companions
# Packaged protocol packs do not change while a process runs: parsed once (a panel previews
# on every load).
_pack = lru_cache(maxsize=16)(packs.load)
TOWN_DIGITS = 9
_CHUNK = 500
_GREEN = codes_service.Held("green", None)
_DEFAULT_CODE_PACK = "guangxi-2021-12"


@dataclass(frozen=True)
class _Row:
    id: int
    case_id: int
    person_id: int
    kind: str
    tier: int | None
    first_exposure: datetime
    division_code: str
    grid_code: str | None
    pack: str
    push_id: int | None

    @property
    def bucket(self) -> str:
        """The row's own tier as a key: "1", "2", ... or "companion"."""
        if self.kind == COMPANION:
            return COMPANION
        return str(self.tier if self.tier is not None else 1)  # unscored: as tier 1


_COLUMNS = (
    Contact.id,
    Contact.case_id,
    Contact.person_id,
    Contact.kind,
    Contact.tier,
    Contact.first_exposure,
    Contact.division_code,
    Contact.grid_code,
    Contact.pack,
    Contact.push_id,
)


def _rows(session: Session, case_ids: Sequence[int], actor: Actor | None) -> list[_Row]:
    """Contact rows of these cases (those the actor may see, when given)."""
    out: list[_Row] = []
    for start in range(0, len(case_ids), _CHUNK):
        chunk = list(case_ids[start : start + _CHUNK])
        found: Select[Any] = select(*_COLUMNS)  # type: ignore[assignment]
        query = found.where(Contact.case_id.in_(chunk))
        if actor is not None:
            query = _scoped(query, actor)
        out.extend(_Row(*row) for row in session.execute(query.order_by(Contact.id)))
    return out


def _rank(bucket: str) -> int:
    return 1_000 if bucket == COMPANION else int(bucket)


def _buckets(rows: Iterable[_Row]) -> dict[int, str]:
    """Each person's highest tier among their rows (companions only when they have no tier)."""
    best: dict[int, str] = {}
    for row in rows:
        held = best.get(row.person_id)
        if held is None or _rank(row.bucket) < _rank(held):
            best[row.person_id] = row.bucket
    return best


def _fact(row: _Row, actions: dict[int, str], push_id: int | None) -> FactRow:
    attrs: dict[str, int | str | None] = {
        "contact_kind": row.kind,
        "case_id": row.case_id,
        "pack": row.pack,
    }
    if row.bucket != COMPANION:
        tier = int(row.bucket)
        attrs |= {"tier": tier, "action": actions[tier]}
    if push_id is not None:
        attrs["push_id"] = push_id
    return FactRow(row.person_id, "contact", row.first_exposure, attrs, f"trace:case:{row.case_id}")


def _actions(pack: packs.Pack) -> dict[int, str]:
    return {t.tier: t.action for t in pack.tiers}


@dataclass(frozen=True)
class _Selection:
    case_ids: list[int]
    pack: packs.Pack
    rows: list[_Row]
    buckets: dict[int, str]


def _select(session: Session, actor: Actor, case_ids: Sequence[int]) -> _Selection:
    """The cases' stored contacts the actor may see; every case must be visible and traced."""
    ids = list(dict.fromkeys(case_ids))
    visible = cases_service.visible_ids(session=session, actor=actor, case_ids=ids)
    for case_id in ids:
        if case_id not in visible:
            try:  # unknown or another jurisdiction's: one answer, the latter audited as denied
                cases_service.get_case(session=session, actor=actor, case_id=case_id)
            except NotFound as exc:
                params = dict(case_id=case_id)
                raise NotFound(
                    "no case %(case_id)s",
                    params=params,
                    problems=[
                        Problem(
                            "case_ids", "unknown case %(case_id)s", params=dict(case_id=case_id)
                        )
                    ],
                    denied=exc.denied,
                ) from exc
    rows = _rows(session, ids, actor)
    traced = {r.case_id for r in rows}
    untraced = [c for c in ids if c not in traced]
    if untraced:
        problems = [
            Problem(
                "case_ids",
                "case %(case_id)s has no stored contacts: trace it first",
                params=dict(case_id=c),
            )
            for c in untraced[:20]
        ]
        raise ValidationFailed(
            "case %(case_id)s has no stored contacts: trace it first",
            params=dict(case_id=untraced[0]),
            problems=problems,
        )
    names = sorted({r.pack for r in rows})
    if len(names) > 1:
        message = N_("these cases were traced under different packs (%(packs)s): take them apart")
        named = dict(packs=", ".join(names))
        raise ValidationFailed(
            message, params=named, problems=[Problem("case_ids", message, params=named)]
        )
    return _Selection(ids, _pack(names[0]), rows, _buckets(rows))


def _check_tiers(pack: packs.Pack, tiers: Sequence[int]) -> list[int]:
    known = sorted(_actions(pack))
    unknown = [t for t in tiers if t not in known]
    if unknown:
        message = N_("pack %(pack)s has no tier %(tier)s (its tiers: %(known)s)")
        params = dict(pack=pack.name, tier=unknown[0], known=", ".join(map(str, known)))
        raise ValidationFailed(
            message, params=params, problems=[Problem("tiers", message, params=params)]
        )
    return sorted(set(tiers))


def _chosen(tiers: Sequence[int], companions: bool) -> set[str]:
    return {str(t) for t in tiers} | ({COMPANION} if companions else set())


def _area_names(session: Session, rows: Iterable[_Row]) -> tuple[dict[str, str], dict[str, str]]:
    towns = sorted({r.division_code[:TOWN_DIGITS] for r in rows})
    grid_codes = sorted({r.grid_code for r in rows if r.grid_code})
    grids: dict[str, str] = {}
    if grid_codes:
        # One query for the grids: those under the codes' common prefix (a town or a city).
        common = grid_codes[0]
        for code in grid_codes[1:]:
            while not code.startswith(common):
                common = common[:-1]
        wanted = set(grid_codes)
        grids = {
            g.code: g.name
            for g in geo_service.grids_within(session=session, code=common)
            if g.code in wanted
        }
    return geo_service.divisions_named(session=session, codes=towns), grids


def _compute(
    session: Session,
    actor: Actor,
    selection: _Selection,
    tiers: list[int],
    companions: bool,
    code_pack: str,
    moment: datetime,
) -> PushPreview:
    pack, rows, buckets = selection.pack, selection.rows, selection.buckets
    actions = _actions(pack)
    # Every person's rows not pushed yet become facts at once: people do not share facts, so
    # each person's code under "everything pushed" is their code under their own tier's push.
    facts = [_fact(r, actions, None) for r in rows if r.push_id is None]
    before, after = codes_service.dry_run(
        session=session,
        actor=actor,
        person_ids=sorted(buckets),
        facts=facts,
        pack_name=code_pack,
        now=moment,
    )
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for person, bucket in buckets.items():
        was, held = before.get(person, _GREEN), after.get(person, _GREEN)
        tally = counts[bucket]
        tally["people"] += 1
        tally["red"] += held.colour == "red" and was.colour != "red"
        tally["yellow"] += held.colour == "yellow" and was.colour == "green"
        if held.place is not None:
            tally[held.place] += 1
    rates: dict[str, float] = {str(k): v for k, v in pack.costs.infections_per_contact.items()}
    costs = [
        TierCost(
            tier=None if key == COMPANION else int(key),
            action=COMPANION if key == COMPANION else actions[int(key)],
            people=counts[key]["people"],
            red=counts[key]["red"],
            yellow=counts[key]["yellow"],
            central=counts[key]["central"],
            home=counts[key]["home"],
            expected_infections=round(counts[key]["people"] * rates.get(key, 0.0), 3),
        )
        for key in [*(str(t) for t in sorted(actions)), COMPANION]
    ]
    empty = PushPreview(
        case_ids=selection.case_ids,
        pack=pack.name,
        tiers=costs,
        areas=_areas(session, rows, buckets),
        chosen=[],
        companions=False,
        people=0,
        red=0,
        yellow=0,
        rooms=0,
        staff=0,
        expected_infections=0.0,
        code_pack=code_pack,
        at=moment,
    )
    return choose(empty, tiers, companions)


def choose(cost: PushPreview, tiers: Sequence[int], companions: bool) -> PushPreview:
    """The preview's totals for another choice of tiers. People do not share facts, so the
    choice's totals are the sums of its tiers' rows (no new dry run)."""
    money = _pack(cost.pack).costs
    chosen = _chosen(tiers, companions)
    picked = [c for c in cost.tiers if (COMPANION if c.tier is None else str(c.tier)) in chosen]
    central = sum(c.central for c in picked)
    home = sum(c.home for c in picked)
    return cost.model_copy(
        update={
            "chosen": sorted(set(tiers)),
            "companions": companions,
            "people": sum(c.people for c in picked),
            "red": sum(c.red for c in picked),
            "yellow": sum(c.yellow for c in picked),
            "central": central,
            "home": home,
            "rooms": math.ceil(central * money.rooms_per_central),
            "staff": math.ceil(
                central * money.staff_per_100_central / 100 + home * money.staff_per_100_home / 100
            ),
            "expected_infections": round(sum(c.expected_infections for c in picked), 3),
        }
    )


def _areas(session: Session, rows: list[_Row], buckets: dict[int, str]) -> list[AreaCost]:
    home: dict[int, _Row] = {}
    for row in rows:
        home.setdefault(row.person_id, row)
    held: dict[tuple[str, str | None], Counter[str]] = defaultdict(Counter)
    for person, bucket in buckets.items():
        row = home[person]
        held[(row.division_code[:TOWN_DIGITS], row.grid_code)][bucket] += 1
    towns, grids = _area_names(session, home.values())
    areas = [
        AreaCost(
            division_code=town,
            division_name=towns.get(town, town),
            grid_code=grid,
            grid_name=grids.get(grid, grid) if grid else None,
            people=dict(sorted(people.items(), key=lambda kv: _rank(kv[0]))),
        )
        for (town, grid), people in held.items()
    ]
    return sorted(
        areas, key=lambda a: (-sum(a.people.values()), a.division_code, a.grid_code or "")
    )


def preview(
    *,
    session: Session,
    actor: Actor,
    case_ids: Sequence[int],
    tiers: Sequence[int],
    companions: bool = False,
    code_pack: str = _DEFAULT_CODE_PACK,
    now: datetime | None = None,
) -> PushPreview:
    """What pushing these tiers of these cases' contacts would do (nothing is written but the
    audit entry: counts only, no person is shown)."""
    require(actor, "cases:view")
    selection = _select(session, actor, case_ids)
    chosen = _check_tiers(selection.pack, tiers)
    out = _compute(session, actor, selection, chosen, companions, code_pack, now or utcnow())
    audit.record(
        session=session,
        actor=actor,
        action="preview",
        entity="contact_push",
        entity_id=_ids_text(selection.case_ids),
        detail={"tiers": chosen, "companions": companions, "people": out.people},
    )
    return out


def push(
    *,
    session: Session,
    actor: Actor,
    case_ids: Sequence[int],
    tiers: Sequence[int],
    companions: bool = False,
    code_pack: str = _DEFAULT_CODE_PACK,
    now: datetime | None = None,
) -> PushOut:
    """Push the chosen tiers (and the companions, when chosen) of these cases' contacts: their
    contact facts are written (codes follow by themselves), the contacts marked, and the push
    recorded with the preview of that moment; audited."""
    require(actor, "trace:push")
    selection = _select(session, actor, case_ids)
    chosen = _check_tiers(selection.pack, tiers)
    if not chosen and not companions:
        message = N_("choose at least one tier or the companions")
        raise ValidationFailed(message, problems=[Problem("tiers", message)])
    moment = now or utcnow()
    shown = _compute(session, actor, selection, chosen, companions, code_pack, moment)
    record = ContactPush(
        case_ids=selection.case_ids,
        tiers=chosen,
        companions=companions,
        pack=selection.pack.name,
        people=0,
        preview=shown.model_dump(mode="json"),
        pushed_by=actor.username,
        jurisdiction=actor.jurisdiction,
        pushed_at=moment,
    )
    session.add(record)
    session.flush()
    buckets = _chosen(chosen, companions)
    pushed = [
        r for r in selection.rows if r.push_id is None and selection.buckets[r.person_id] in buckets
    ]
    _mark(session, [r.id for r in pushed], record.id)
    record.people = len({r.person_id for r in pushed})
    write_facts(
        session=session, actor=actor, case_ids=sorted({r.case_id for r in pushed}), now=moment
    )
    audit.record(
        session=session,
        actor=actor,
        action="push",
        entity="contact_push",
        entity_id=record.id,
        detail={
            "case_ids": selection.case_ids[:50],
            "tiers": chosen,
            "companions": companions,
            "people": record.people,
            "red": shown.red,
            "yellow": shown.yellow,
            "rooms": shown.rooms,
            "staff": shown.staff,
        },
    )
    session.flush()
    return _out(record)


def _mark(session: Session, contact_ids: list[int], push_id: int) -> None:
    for start in range(0, len(contact_ids), _CHUNK):
        session.execute(
            update(Contact)
            .where(Contact.id.in_(contact_ids[start : start + _CHUNK]))
            .values(push_id=push_id)
        )
    session.flush()


def write_facts(*, session: Session, actor: Actor, case_ids: Sequence[int], now: datetime) -> None:
    """Make each case's live contact facts exactly its pushed contacts (the ledger retracts
    the others and marks every person whose facts moved, so codes follow)."""
    by_case: dict[int, list[_Row]] = defaultdict(list)
    for row in _rows(session, list(case_ids), None):
        if row.push_id is not None:
            by_case[row.case_id].append(row)
    actions: dict[str, dict[int, str]] = {}
    for case_id in case_ids:
        rows = by_case.get(case_id, [])
        for row in rows:
            if row.pack not in actions:
                actions[row.pack] = _actions(_pack(row.pack))
        source = f"trace:case:{case_id}"
        facts_service.replace_source(
            session=session,
            actor=actor,
            source=source,
            kind="contact",
            facts=[_fact(r, actions[r.pack], r.push_id) for r in rows],
            divisions={r.person_id: r.division_code for r in rows},
            now=now,
        )


def reapply(*, session: Session, actor: Actor, case_ids: Sequence[int], now: datetime) -> None:
    """After a re-trace stored new contacts for these cases: the tiers pushed for each case
    apply to its new list (by each contact's tier in it), and its facts follow."""
    wanted = set(case_ids)
    latest: dict[tuple[int, str], int] = {}  # (case, bucket) -> the first push that chose it
    for pushed in session.scalars(select(ContactPush).order_by(ContactPush.id)):
        for case_id in wanted.intersection(pushed.case_ids):
            for bucket in _chosen(pushed.tiers, pushed.companions):
                latest.setdefault((case_id, bucket), pushed.id)
    if latest:
        by_push: dict[int, list[int]] = defaultdict(list)
        for row in _rows(session, sorted(wanted), None):
            push_id = latest.get((row.case_id, row.bucket))
            if push_id is not None:
                by_push[push_id].append(row.id)
        for push_id, ids in by_push.items():
            _mark(session, ids, push_id)
    write_facts(session=session, actor=actor, case_ids=sorted(wanted), now=now)


def _out(record: ContactPush) -> PushOut:
    return PushOut(
        id=record.id,
        case_ids=list(record.case_ids),
        tiers=list(record.tiers),
        companions=record.companions,
        people=record.people,
        pushed_by=record.pushed_by,
        pushed_at=record.pushed_at,
        preview=PushPreview.model_validate(record.preview),
    )


def pushes(
    *, session: Session, actor: Actor, case_id: int | None = None, limit: int = 50
) -> list[PushOut]:
    """Pushes of a case (or of every case the actor may see), newest first."""
    require(actor, "cases:view")
    if case_id is not None and not cases_service.visible_ids(
        session=session, actor=actor, case_ids=[case_id]
    ):
        cases_service.get_case(session=session, actor=actor, case_id=case_id)  # 404, audited
    records = [
        r
        for r in session.scalars(select(ContactPush).order_by(ContactPush.id.desc()))
        if case_id is None or case_id in r.case_ids
    ]
    # Pushes are a commander's decisions, tens a day: the visible ones are found in one query.
    visible = cases_service.visible_ids(
        session=session, actor=actor, case_ids=sorted({c for r in records for c in r.case_ids})
    )
    return [_out(r) for r in records if visible.intersection(r.case_ids)][:limit]


def _ids_text(case_ids: Sequence[int]) -> str:
    return ",".join(str(c) for c in case_ids)[:64]
