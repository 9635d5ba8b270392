"""Screening rounds, their roster and sites, and sampling at the sites.

A round is visible to users whose jurisdiction overlaps its area; everything about people
inside it (roster, samples, tasks) is further limited to the actor's jurisdiction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cordon.audit import service as audit
from cordon.auth.schemas import Actor
from cordon.auth.service import out_of_jurisdiction, require
from cordon.bulkwrite import insert_rows
from cordon.db import utcnow
from cordon.errors import (
    Conflict,
    DeniedAccess,
    NotFound,
    OutOfJurisdiction,
    Problem,
    ValidationFailed,
)
from cordon.geo import service as geo
from cordon.people import service as people_service
from cordon.screening import rules
from cordon.screening.models import RosterEntry, Sample, ScreeningRound, Site, Tube
from cordon.screening.schemas import (
    PlanOut,
    RoundIn,
    RoundOut,
    ScanIn,
    ScanOut,
    SiteIn,
    SiteOut,
    SitePlan,
)
from cordon.security.crypto import FieldCipher
from cordon.security.masking import mask_id_number

CHUNK = 500


def overlaps(code: str, jurisdiction: str) -> bool:
    return code.startswith(jurisdiction) or jurisdiction.startswith(code)


def load_round(*, session: Session, actor: Actor, round_id: int) -> ScreeningRound:
    row = session.get(ScreeningRound, round_id)
    unknown = NotFound(
        "no round %(round_id)s",
        params=dict(round_id=round_id),
        problems=[Problem("round_id", "unknown round")],
    )
    if row is None:
        raise unknown
    if not overlaps(row.division_code, actor.jurisdiction):
        raise out_of_jurisdiction(
            actor, unknown, action="view", entity="screening_round", entity_id=round_id
        )
    return row


def _expected(session: Session, actor: Actor, round_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(RosterEntry)
            .where(
                RosterEntry.round_id == round_id,
                RosterEntry.division_code.startswith(actor.jurisdiction),
            )
        )
        or 0
    )


def round_out(session: Session, actor: Actor, row: ScreeningRound) -> RoundOut:
    return RoundOut(
        id=row.id,
        name=row.name,
        division_code=row.division_code,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        result_hours=row.result_hours,
        pooling=dict(row.pooling),
        sealed_by_household=row.sealed_by_household,
        zones=dict(row.zones),
        status=row.status,
        expected=_expected(session, actor, row.id),
    )


def create_round(*, session: Session, actor: Actor, data: RoundIn) -> RoundOut:
    """Open a round over an area: everyone living there is put on its roster with the zone
    level of their home, which decides their pool size."""
    require(actor, "screening:manage")
    division = geo.require_division(session=session, code=data.division_code)
    if not geo.is_within(division.code, actor.jurisdiction):
        raise ValidationFailed(
            "the round's area is outside your jurisdiction",
            problems=[
                Problem(
                    "division_code",
                    "%(code)s is outside %(jurisdiction)s",
                    params=dict(code=division.code, jurisdiction=actor.jurisdiction),
                )
            ],
        )
    row = ScreeningRound(
        name=data.name.strip(),
        division_code=division.code,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        result_hours=data.result_hours,
        pooling=data.pooling.model_dump(),
        sealed_by_household=data.sealed_by_household,
        zones=dict(data.zones),
        created_by=actor.username,
    )
    session.add(row)
    session.flush()
    residents = people_service.residents_within(
        session=session, actor=actor, division_code=division.code
    )
    entries = [
        {
            "round_id": row.id,
            "person_id": pid,
            "division_code": div,
            "grid_code": grid,
            "household_id": household,
            "zone_level": rules.zone_of(grid, div, row.zones),
            "bedbound": False,
        }
        for pid, div, grid, household in residents
    ]
    insert_rows(session, RosterEntry.__tablename__, entries)
    audit.record(
        session=session,
        actor=actor,
        action="create",
        entity="screening_round",
        entity_id=row.id,
        detail={"division_code": division.code, "people": len(entries)},
    )
    return round_out(session, actor, row)


def list_rounds(*, session: Session, actor: Actor) -> list[RoundOut]:
    require(actor, "screening:view")
    rows = session.scalars(select(ScreeningRound).order_by(ScreeningRound.id.desc()))
    return [
        round_out(session, actor, r) for r in rows if overlaps(r.division_code, actor.jurisdiction)
    ]


def get_round(*, session: Session, actor: Actor, round_id: int) -> RoundOut:
    require(actor, "screening:view")
    return round_out(session, actor, load_round(session=session, actor=actor, round_id=round_id))


def set_status(*, session: Session, actor: Actor, round_id: int, status: str) -> RoundOut:
    require(actor, "screening:manage")
    row = load_round(session=session, actor=actor, round_id=round_id)
    row.status = status
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action=status,
        entity="screening_round",
        entity_id=row.id,
    )
    return round_out(session, actor, row)


# --- Sites and the plan ------------------------------------------------------------------


def site_out(site: Site) -> SiteOut:
    return SiteOut.model_validate(site, from_attributes=True)


def _assigned(session: Session, round_id: int) -> dict[str, Site]:
    found: dict[str, Site] = {}
    for site in session.scalars(select(Site).where(Site.round_id == round_id)):
        for grid in site.grids:
            found[grid] = site
    return found


def add_site(*, session: Session, actor: Actor, round_id: int, data: SiteIn) -> SiteOut:
    """A sampling site (or a mobile team) with the grids it serves; a grid goes to one site."""
    require(actor, "screening:manage")
    row = load_round(session=session, actor=actor, round_id=round_id)
    problems: list[Problem] = []
    division = geo.get_division(session=session, code=data.division_code)
    if division is None:
        problems.append(
            Problem(
                "division_code",
                "unknown division %(division_code)s",
                params=dict(division_code=data.division_code),
            )
        )
    elif not geo.is_within(division.code, row.division_code) or not geo.is_within(
        division.code, actor.jurisdiction
    ):
        problems.append(
            Problem(
                "division_code",
                "%(code)s is outside the round's area or yours",
                params=dict(code=division.code),
            )
        )
    taken = _assigned(session, round_id)
    for code in data.grids:
        grid = geo.get_grid(session=session, code=code)
        if grid is None:
            problems.append(Problem("grids", "unknown grid %(code)s", params=dict(code=code)))
        elif not grid.code.startswith(row.division_code):
            problems.append(
                Problem(
                    "grids", "grid %(code)s is outside the round's area", params=dict(code=code)
                )
            )
        elif code in taken:
            problems.append(
                Problem(
                    "grids",
                    "grid %(code)s is already served by %(site)s",
                    params=dict(code=code, site=taken[code].name),
                )
            )
    if len(set(data.grids)) != len(data.grids):
        problems.append(Problem("grids", "a grid is listed twice"))
    if problems:
        raise ValidationFailed("the site is not valid", problems=problems)
    site = Site(round_id=round_id, **data.model_dump())
    session.add(site)
    session.flush()
    audit.record(
        session=session, actor=actor, action="create", entity="screening_site", entity_id=site.id
    )
    return site_out(site)


def _days(row: ScreeningRound) -> float:
    return max((row.ends_at - row.starts_at).total_seconds() / 86_400, 1 / 24)


def _expected_by_grid(session: Session, actor: Actor, round_id: int) -> dict[str | None, int]:
    rows = session.execute(
        select(RosterEntry.grid_code, func.count())
        .where(
            RosterEntry.round_id == round_id,
            RosterEntry.division_code.startswith(actor.jurisdiction),
        )
        .group_by(RosterEntry.grid_code)
    )
    return {grid: int(n) for grid, n in rows}


def plan(*, session: Session, actor: Actor, round_id: int) -> PlanOut:
    """Expected people per site and table per day against capacity; overloaded sites flagged."""
    require(actor, "screening:view")
    row = load_round(session=session, actor=actor, round_id=round_id)
    by_grid = _expected_by_grid(session, actor, round_id)
    days = _days(row)
    sites = list(session.scalars(select(Site).where(Site.round_id == round_id).order_by(Site.id)))
    served = {g for s in sites for g in s.grids}
    plans = []
    for site in sites:
        expected = sum(by_grid.get(g, 0) for g in site.grids)
        load = rules.site_load(
            expected=expected,
            tables=site.tables,
            days=days,
            capacity_per_table=site.capacity_per_table,
        )
        plans.append(
            SitePlan(
                site=site_out(site),
                expected=expected,
                per_table_day=load.per_table_day,
                capacity_day=load.capacity_day,
                overloaded=load.overloaded,
                underused=load.underused,
            )
        )
    unassigned = sorted(g or "" for g in by_grid if g not in served)
    return PlanOut(
        round_id=round_id,
        days=round(days, 2),
        sites=plans,
        unassigned_grids=[g for g in unassigned if g],
        unassigned_people=sum(n for g, n in by_grid.items() if g not in served),
    )


def plan_sites(
    *, session: Session, actor: Actor, round_id: int, capacity_per_table: int = 700
) -> PlanOut:
    """One fixed site per village for the grids no site serves yet, with enough tables to
    sample the village within the round's window, and one mobile team per town for people
    who cannot come (bed-bound)."""
    require(actor, "screening:manage")
    row = load_round(session=session, actor=actor, round_id=round_id)
    by_grid = _expected_by_grid(session, actor, round_id)
    served = set(_assigned(session, round_id))
    villages: dict[str, list[str]] = {}
    for grid in sorted(g for g in by_grid if g and g not in served):
        villages.setdefault(grid[:12], []).append(grid)
    names = geo.divisions_named(
        session=session, codes=sorted({*villages, *(v[:9] for v in villages)})
    )
    days = _days(row)
    existing_mobile = {
        s.division_code
        for s in session.scalars(
            select(Site).where(Site.round_id == round_id, Site.kind == "mobile")
        )
    }
    for village, grids in sorted(villages.items()):
        expected = sum(by_grid[g] for g in grids)
        grid_rows = [geo.get_grid(session=session, code=g) for g in grids]
        points = [
            (g.lon, g.lat)
            for g in grid_rows
            if g is not None and g.lon is not None and g.lat is not None
        ]
        lon = sum(p[0] for p in points) / len(points) if points else None
        lat = sum(p[1] for p in points) / len(points) if points else None
        session.add(
            Site(
                round_id=round_id,
                name=f"{names.get(village, village)}采样点",
                division_code=village,
                lon=lon,
                lat=lat,
                tables=rules.tables_needed(expected, days, capacity_per_table),
                capacity_per_table=capacity_per_table,
                grids=grids,
            )
        )
    for town in sorted({v[:9] for v in villages} - existing_mobile):
        session.add(
            Site(
                round_id=round_id,
                name=f"{names.get(town, town)}流动采样队",
                kind="mobile",
                division_code=town,
                tables=1,
                capacity_per_table=capacity_per_table,
                grids=[],
            )
        )
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="plan",
        entity="screening_round",
        entity_id=round_id,
        detail={"villages": len(villages)},
    )
    return plan(session=session, actor=actor, round_id=round_id)


def list_sites(*, session: Session, actor: Actor, round_id: int) -> list[SiteOut]:
    require(actor, "screening:view")
    load_round(session=session, actor=actor, round_id=round_id)
    return [
        site_out(s)
        for s in session.scalars(select(Site).where(Site.round_id == round_id).order_by(Site.id))
    ]


# --- Sampling ----------------------------------------------------------------------------


def _person_for_scan(
    *, session: Session, actor: Actor, cipher: FieldCipher, scan: ScanIn
) -> tuple[int, str, str]:
    """(person id, name, masked identity number) of the person scanned, in the actor's reach."""
    if scan.id_number:
        total, found = people_service.search_people(
            session=session,
            actor=actor,
            cipher=cipher,
            id_number=scan.id_number,
            limit=2,
            purpose="screening_scan",
        )
        if total != 1 or "*" in scan.id_number:
            raise NotFound(
                "no one registered with this identity number in your jurisdiction",
                problems=[
                    Problem(
                        "id_number",
                        "%(id_number)s not found",
                        params=dict(id_number=mask_id_number(scan.id_number)),
                    )
                ],
            )
        person = found[0]
    else:
        person = people_service.get_person(
            session=session, actor=actor, cipher=cipher, person_id=int(scan.person_id or 0)
        )
    shown = person.id_number if "*" in person.id_number else mask_id_number(person.id_number)
    return person.id, person.name, shown


def _describe(session: Session, sample: Sample) -> Problem:
    """Where, when, by whom and into which tube a swab went (a keyed text for messages)."""
    tube = session.get(Tube, sample.tube_id)
    site = session.get(Site, sample.site_id) if sample.site_id else None
    return Problem(
        "person",
        "at %(site)s on %(at)s UTC by %(user)s, tube %(tube)s",
        params=dict(
            site=site.name if site else "?",
            at=f"{sample.sampled_at:%Y-%m-%d %H:%M}",
            user=sample.sampled_by or "?",
            tube=tube.barcode if tube else "?",
        ),
    )


def register_sample(
    *,
    session: Session,
    actor: Actor,
    cipher: FieldCipher,
    round_id: int,
    scan: ScanIn,
    now: datetime | None = None,
) -> ScanOut:
    """One swab into one tube. A pool tube closes at its size; a person is sampled once per
    round, except for the single-tube retest a positive pool makes due."""
    require(actor, "screening:operate")
    row = load_round(session=session, actor=actor, round_id=round_id)
    if row.status != "open":
        raise Conflict(
            "round %(round_id)s is closed",
            params=dict(round_id=round_id),
            problems=[Problem("round_id", "closed")],
        )
    site = session.get(Site, scan.site_id)
    if site is None or site.round_id != round_id:
        raise ValidationFailed(
            "site %(site_id)s is not a site of round %(round_id)s",
            params=dict(site_id=scan.site_id, round_id=round_id),
            problems=[Problem("site_id", "not a site of this round")],
        )
    person_id, name, shown = _person_for_scan(
        session=session, actor=actor, cipher=cipher, scan=scan
    )
    who = f"{name} ({shown})"
    entry = session.scalar(
        select(RosterEntry).where(
            RosterEntry.round_id == round_id, RosterEntry.person_id == person_id
        )
    )
    if entry is None:
        raise ValidationFailed(
            "%(who)s does not live in the round's area",
            params=dict(who=who),
            problems=[
                Problem(
                    "person",
                    "%(who)s is not on the roster of round %(round_id)s",
                    params=dict(who=who, round_id=round_id),
                )
            ],
        )
    earlier = list(
        session.scalars(
            select(Sample)
            .where(Sample.round_id == round_id, Sample.person_id == person_id)
            .order_by(Sample.id)
        )
    )
    retest_due = any(s.pool_flag == "flagged" for s in earlier) and not any(
        s.purpose == "retest" for s in earlier
    )
    if earlier and not retest_due:
        first = earlier[-1]
        raise Conflict(
            "%(who)s was already sampled in this round %(where)s",
            params=dict(who=who, where=_describe(session, first)),
            problems=[
                Problem(
                    "person",
                    "%(who)s already sampled %(where)s",
                    params=dict(who=who, where=_describe(session, first)),
                )
            ],
        )
    purpose = "retest" if retest_due else "screening"
    moment = scan.sampled_at or now or utcnow()
    tube = session.scalar(select(Tube).where(Tube.barcode == scan.tube))
    capacity = 1 if purpose == "retest" else rules.pool_size(entry.zone_level, row.pooling)
    household = (
        entry.household_id
        if purpose == "screening" and entry.zone_level == "sealed" and row.sealed_by_household
        else None
    )
    if household is not None:
        capacity = max(
            1,
            int(
                session.scalar(
                    select(func.count())
                    .select_from(RosterEntry)
                    .where(
                        RosterEntry.round_id == round_id,
                        RosterEntry.household_id == household,
                    )
                )
                or 1
            ),
        )
    if tube is None:
        tube = Tube(
            barcode=scan.tube,
            round_id=round_id,
            site_id=site.id,
            purpose=purpose,
            zone_level=entry.zone_level,
            household_id=household,
            capacity=capacity,
            filled=0,
            division_code=entry.division_code,
            opened_at=moment,
        )
        session.add(tube)
        session.flush()
    else:
        problem = _tube_refuses(tube, round_id, site, purpose, entry, household)
        if problem:
            raise Conflict(
                "tube %(tube)s: %(problem)s",
                params=dict(tube=scan.tube, problem=problem),
                problems=[problem],
            )
    sample = Sample(
        round_id=round_id,
        person_id=person_id,
        tube_id=tube.id,
        site_id=site.id,
        purpose=purpose,
        sampled_at=moment,
        sampled_by=actor.username,
    )
    session.add(sample)
    tube.filled += 1
    if tube.filled >= tube.capacity:
        tube.closed_at = moment
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="sample",
        entity="person",
        entity_id=person_id,
        detail={"round_id": round_id, "tube": tube.barcode, "purpose": purpose},
    )
    return ScanOut(
        sample_id=sample.id,
        person_id=person_id,
        name=name,
        tube=tube.barcode,
        tube_filled=tube.filled,
        tube_capacity=tube.capacity,
        tube_closed=tube.closed_at is not None,
        purpose=purpose,
    )


def _tube_refuses(
    tube: Tube,
    round_id: int,
    site: Site,
    purpose: str,
    entry: RosterEntry,
    household: int | None,
) -> Problem | None:
    """Why a swab may not go into an existing tube, or None."""
    if tube.round_id != round_id:
        return Problem(
            "tube", "barcode already used in round %(round)s", params=dict(round=tube.round_id)
        )
    if purpose == "retest" or tube.purpose == "retest":
        return Problem("tube", "barcode already used; a retest needs a new single tube")
    if tube.closed_at is not None or tube.filled >= tube.capacity:
        return Problem(
            "tube",
            "tube is closed (%(filled)s of %(capacity)s swabs)",
            params=dict(filled=tube.filled, capacity=tube.capacity),
        )
    if tube.result is not None:
        return Problem("tube", "tube already has a result")
    if tube.site_id != site.id:
        return Problem(
            "tube", "tube was opened at another site (%(site)s)", params=dict(site=tube.site_id)
        )
    if tube.zone_level != entry.zone_level:
        return Problem(
            "tube",
            "tube holds %(tube_zone)s zone swabs; this person lives in a %(zone)s zone",
            params=dict(tube_zone=tube.zone_level, zone=entry.zone_level),
        )
    if tube.household_id != household:
        return Problem("tube", "tube holds another household's swabs")
    return None


def _tube_denied(actor: Actor, tube: Tube, action: str) -> DeniedAccess:
    return DeniedAccess(
        actor.user_id,
        actor.username,
        action,
        "screening_tube",
        str(tube.id),
        {"round_id": tube.round_id, "tube": tube.barcode, "reason": "outside jurisdiction"},
    )


def _tube_in_reach(actor: Actor, tube: Tube) -> bool:
    """A tube belongs where its swabs' people live (as lab results are scoped)."""
    return tube.division_code.startswith(actor.jurisdiction)


def close_tube(*, session: Session, actor: Actor, round_id: int, barcode: str) -> ScanOut:
    """Close a tube before it is full (end of the day, last people of a grid)."""
    require(actor, "screening:operate")
    load_round(session=session, actor=actor, round_id=round_id)
    tube = session.scalar(select(Tube).where(Tube.barcode == barcode, Tube.round_id == round_id))
    missing = "no tube %(barcode)s in round %(round_id)s"
    missing_params = dict(barcode=barcode, round_id=round_id)
    if tube is None:
        raise NotFound(missing, params=missing_params, problems=[Problem("tube", barcode)])
    if not _tube_in_reach(actor, tube):
        raise OutOfJurisdiction(
            missing,
            params=missing_params,
            denied=_tube_denied(actor, tube, "close"),
            problems=[Problem("tube", barcode)],
        )
    if tube.closed_at is None:
        tube.closed_at = utcnow()
        session.flush()
        audit.record(
            session=session,
            actor=actor,
            action="close",
            entity="screening_tube",
            entity_id=tube.id,
            detail={"round_id": round_id, "tube": tube.barcode, "filled": tube.filled},
        )
    return ScanOut(
        sample_id=0,
        person_id=0,
        name="",
        tube=tube.barcode,
        tube_filled=tube.filled,
        tube_capacity=tube.capacity,
        tube_closed=True,
        purpose=tube.purpose,
    )


def receive_tubes(
    *, session: Session, actor: Actor, round_id: int, lab: str, barcodes: Sequence[str]
) -> tuple[int, int]:
    """A lab's batch scan of tubes it received; all of them or none. Returns (new, already)."""
    require(actor, "screening:operate")
    load_round(session=session, actor=actor, round_id=round_id)
    wanted = [b.strip() for b in barcodes if b.strip()]
    tubes: dict[str, Tube] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        tubes.update(
            (t.barcode, t)
            for t in session.scalars(
                select(Tube).where(Tube.barcode.in_(chunk), Tube.round_id == round_id)
            )
        )
    # Another jurisdiction's tubes are answered as unknown, so their existence does not leak.
    foreign = [t for t in tubes.values() if not _tube_in_reach(actor, t)]
    for tube in foreign:
        del tubes[tube.barcode]
    unknown = [b for b in wanted if b not in tubes]
    if unknown:
        denied = (
            DeniedAccess(
                actor.user_id,
                actor.username,
                "receive",
                "screening_tubes",
                str(round_id),
                {"tubes": sorted(t.barcode for t in foreign), "reason": "outside jurisdiction"},
            )
            if foreign
            else None
        )
        raise ValidationFailed(
            "%(count)s unknown tubes; nothing was received",
            params=dict(count=len(unknown)),
            denied=denied,
            problems=[
                Problem("tubes", "unknown tube %(tube)s", params=dict(tube=b), row=i + 1)
                for i, b in enumerate(wanted)
                if b in unknown
            ][:200],
        )
    moment = utcnow()
    new = already = 0
    for tube in tubes.values():
        if tube.received_at is None:
            tube.received_at, tube.lab = moment, lab
            tube.closed_at = tube.closed_at or moment
            new += 1
        else:
            already += 1
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="receive",
        entity="screening_tubes",
        entity_id=round_id,
        detail={"lab": lab, "tubes": new},
    )
    return new, already
