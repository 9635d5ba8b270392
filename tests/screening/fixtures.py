"""A small screened village: people in two grids, a round over it and a site per grid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from cordon.auth.rules import Role
from cordon.auth.schemas import Actor
from cordon.people import service as people_service
from cordon.people.schemas import PersonIn
from cordon.screening import service
from cordon.screening.schemas import RoundIn, ScanIn, SiteIn
from cordon.security.crypto import FieldCipher
from tests.helpers import id_number, make_actor, person

GRID = "450681100001001"
OTHER_GRID = "450681101201001"
START = datetime(2021, 12, 21, 0, 0, tzinfo=UTC)
END = datetime(2021, 12, 22, 0, 0, tzinfo=UTC)


@dataclass
class Village:
    actor: Actor
    round_id: int
    site_id: int
    people: list[int]
    numbers: dict[int, str]


def add_people(
    session: Session, cipher: FieldCipher, actor: Actor, n: int, grid: str, first: int
) -> dict[int, str]:
    made: dict[int, str] = {}
    for i in range(n):
        number = id_number(order=first + i)
        out = people_service.create_person(
            session=session,
            actor=actor,
            cipher=cipher,
            data=PersonIn.model_validate(
                person(name=f"居民{first + i}", id_number=number, grid_code=grid, phone=None)
            ),
        )
        made[out.id] = number
    return made


def village(
    session: Session,
    cipher: FieldCipher,
    *,
    people: int = 25,
    zones: dict[str, str] | None = None,
    pooling: dict[str, int] | None = None,
    by_household: bool = False,
) -> Village:
    actor = make_actor(Role.ADMIN, "45")
    numbers = add_people(session, cipher, actor, people, GRID, 100)
    created = service.create_round(
        session=session,
        actor=actor,
        data=RoundIn.model_validate(
            {
                "name": "第一轮",
                "division_code": "450681100001",
                "starts_at": START,
                "ends_at": END,
                "zones": zones or {},
                "pooling": pooling or {},
                "sealed_by_household": by_household,
            }
        ),
    )
    site = service.add_site(
        session=session,
        actor=actor,
        round_id=created.id,
        data=SiteIn(name="东郊采样点", division_code="450681100001", tables=2, grids=[GRID]),
    )
    return Village(actor, created.id, site.id, sorted(numbers), numbers)


def scan(
    session: Session, cipher: FieldCipher, v: Village, person_id: int, tube: str, minute: int = 0
) -> object:
    return service.register_sample(
        session=session,
        actor=v.actor,
        cipher=cipher,
        round_id=v.round_id,
        scan=ScanIn(
            site_id=v.site_id,
            tube=tube,
            id_number=v.numbers[person_id],
            sampled_at=START.replace(hour=1, minute=minute),
        ),
    )
