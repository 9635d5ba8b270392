"""A small synthetic population for the demo, until the simulator (cordon.sim) replaces it.

Deterministic for a seed. People live in Dongxing's real villages (and a few in 防城区, so the
jurisdiction rules have someone to hide); grids are generated under each Dongxing village
with centroids inside the real boundary near their town seat.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from shapely.geometry import Point, shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cordon.audit import service as audit
from cordon.auth import rules as auth_rules
from cordon.auth.schemas import Actor
from cordon.geo import service as geo
from cordon.geo.models import Division, Grid
from cordon.geo.rules import grid_code
from cordon.people import rules as people_rules
from cordon.people import service as people
from cordon.people.models import Person
from cordon.security.crypto import FieldCipher

SURNAMES = (
    "李王张刘陈杨黄赵吴周徐孙马朱胡郭何林罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶"
    "阮莫韦覃"  # common in Guangxi, among Jing and Zhuang families
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅海燕鹏飞建国志文斌宁凤琳晨"
FANGCHENG = "450603"

SYSTEM = Actor(
    user_id=None,
    username="system:demo",
    role="admin",
    jurisdiction="45",
    permissions=auth_rules.permissions_of("admin"),
    client_addr="cli",
)


def _birth_date(rng: random.Random) -> date:
    # A rough Chinese age structure: fewer children and very old, a bulge at 30–60.
    age = min(95, max(0, int(rng.triangular(0, 95, 42))))
    return date(2021, 12, 1) - timedelta(days=age * 365 + rng.randrange(365))


def _id_number(rng: random.Random, region: str, birth: date, sex: str, used: set[str]) -> str:
    while True:
        order = rng.randrange(0, 1000)
        if (order % 2 == 1) != (sex == "M"):
            order = (order + 1) % 1000
        number = people_rules.with_check_digit(f"{region}{birth:%Y%m%d}{order:03d}")
        if number not in used:
            used.add(number)
            return number


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"


def make_grids(*, session: Session, rng: random.Random) -> int:
    """Three to six grids per Dongxing village, centred inside the real boundary."""
    if session.scalar(select(func.count()).select_from(Grid)):
        return 0
    boundary = shape(geo.boundary_geojson("dongxing.geojson")["features"][0]["geometry"])
    seats = geo.town_seats()
    villages = session.scalars(
        select(Division).where(Division.level == "village", Division.code.startswith("450681"))
    )
    count = 0
    for village in villages:
        seat_lon, seat_lat = seats[village.code[:9]]
        for number in range(1, rng.randint(3, 6) + 1):
            while True:
                lon = seat_lon + rng.gauss(0, 0.02)
                lat = seat_lat + rng.gauss(0, 0.015)
                if boundary.contains(Point(lon, lat)):
                    break
            short = village.name.replace("社区居委会", "社区").replace("村委会", "")
            session.add(
                Grid(
                    code=grid_code(village.code, number),
                    name=f"{short}第{number}网格",
                    division_code=village.code,
                    lon=round(lon, 6),
                    lat=round(lat, 6),
                )
            )
            count += 1
    session.flush()
    return count


def make_people(*, session: Session, cipher: FieldCipher, count: int, seed: int = 7) -> int:
    """Households of one to five people over the Dongxing grids, and a tenth as many in 防城区."""
    if session.scalar(select(func.count()).select_from(Person)):
        return 0
    rng = random.Random(seed)
    make_grids(session=session, rng=rng)
    grids = list(session.scalars(select(Grid).order_by(Grid.code)))
    used: set[str] = set()
    batch: list[people.Prepared] = []
    written = 0
    household = 0
    while written < count:
        household += 1
        in_fangcheng = rng.random() < 0.1
        grid = None if in_fangcheng else rng.choice(grids)
        surname = rng.choice(SURNAMES)
        address = (
            f"防城区{rng.randint(1, 300)}号"
            if in_fangcheng
            else f"东兴市{grid.name if grid else ''}{rng.randint(1, 200)}号"
        )
        size = min(count - written, rng.choice((1, 2, 3, 3, 3, 4, 4, 5)))
        for _member in range(size):
            sex = rng.choice("MF")
            birth = _birth_date(rng)
            region = FANGCHENG if in_fangcheng else "450681"
            prepared = people.Prepared(
                name=surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
                id_number=people_rules.parse_id_number(
                    _id_number(rng, region, birth, sex, used), today=date(2026, 1, 1)
                ),
                phone=_phone(rng) if birth.year < 2010 else None,
                address=address,
                household=f"D{household:06d}",
                division_code=FANGCHENG if grid is None else grid.division_code,
                grid_code=grid.code if grid else None,
            )
            batch.append(prepared)
            written += 1
    people.write_many(session=session, actor=SYSTEM, cipher=cipher, prepared=batch)
    audit.record(
        session=session,
        actor=SYSTEM,
        action="seed",
        entity="person",
        entity_id="demo",
        detail={"people": written, "seed": seed},
    )
    return written
