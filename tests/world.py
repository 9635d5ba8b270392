"""Two towns with one of everything, for tests that sweep every route: the schemathesis run
and the authorization matrix.

In each town (Dongxing and Jiangping, two Dongxing-city towns) a person, a case on them, a
screening round over their village with a site, a single tube of theirs that tested positive
(so a retest-free case proposal and an isolation task exist), all made through the API as
the province's administrator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from cordon.app import create_app
from cordon.auth import service as auth_service
from cordon.auth.rules import Role
from cordon.auth.schemas import UserIn
from cordon.config import Settings
from cordon.db import make_engine, make_session_factory, transaction
from cordon.geo import service as geo_service
from cordon.models import Base
from tests.conftest import GRIDS, PASSWORD
from tests.helpers import id_number, person

API = "/api/v1"
# Town code, village, grid of each town; the "home" town is where in-jurisdiction users sit.
TOWNS = {
    "dongxing": ("450681100", "450681100001", "450681100001001"),
    "jiangping": ("450681101", "450681101201", "450681101201001"),
}


@dataclass
class Town:
    code: str
    person_id: int = 0
    case_id: int = 0
    round_id: int = 0
    site_id: int = 0
    tube: str = ""
    task_id: int = 0
    proposal_id: int = 0
    user_id: int = 0  # a staff member of the town, for the users pages
    grid: str = ""
    village: str = ""


@dataclass
class World:
    app: FastAPI
    client: TestClient
    factory: sessionmaker[Session]
    towns: dict[str, Town] = field(default_factory=dict)
    admin: dict[str, str] = field(default_factory=dict)

    def user(self, username: str, role: Role, jurisdiction: str) -> dict[str, str]:
        """Create a user and return the Authorization header of an API token for it."""
        with transaction(self.factory) as s:
            auth_service.create_user(
                session=s,
                user=UserIn(
                    username=username, password=PASSWORD, role=role, jurisdiction=jurisdiction
                ),
            )
        return self.token(username)

    def token(self, username: str) -> dict[str, str]:
        """The Authorization header of a new API token for an existing user."""
        answer = self.client.post(
            f"{API}/auth/token", json={"username": username, "password": PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def settings_in(folder: Path) -> Settings:
    return Settings(
        data_dir=folder / "var",
        database_url=f"sqlite:///{folder / 'cordon.db'}",
        session_key="11" * 32,
        field_key="22" * 32,
        lookup_key="33" * 32,
    )


def _ok(answer: object, status: int = 200) -> dict[str, object]:
    code = getattr(answer, "status_code", None)
    assert code == status, getattr(answer, "text", answer)
    return dict(answer.json())  # type: ignore[attr-defined]


def _town(client: TestClient, admin: dict[str, str], name: str, order: int) -> Town:
    code, village, grid = TOWNS[name]
    town = Town(code=code, grid=grid, village=village)
    made = client.post(
        f"{API}/people",
        json=person(name=f"{name}居民", id_number=id_number(order=order), grid_code=grid),
        headers=admin,
    )
    town.person_id = int(_ok(made, 201)["id"])
    case = client.post(
        f"{API}/cases",
        json={
            "person_id": town.person_id,
            "kind": "asymptomatic",
            "found_by": "screening",
            "sampled_at": "2021-12-20T08:00:00+08:00",
        },
        headers=admin,
    )
    town.case_id = int(_ok(case, 201)["id"])
    other = client.post(
        f"{API}/people",
        json=person(name=f"{name}筛查", id_number=id_number(order=order + 2), grid_code=grid),
        headers=admin,
    )
    screened = int(_ok(other, 201)["id"])
    made_round = client.post(
        f"{API}/screening/rounds",
        json={
            "name": f"{name}第一轮",
            "division_code": village,
            "starts_at": "2021-12-21T08:00:00+08:00",
            "ends_at": "2021-12-22T08:00:00+08:00",
            "pooling": {"other": 1},
        },
        headers=admin,
    )
    town.round_id = int(_ok(made_round, 201)["id"])
    site = client.post(
        f"{API}/screening/rounds/{town.round_id}/sites",
        json={"name": f"{name}采样点", "division_code": village, "tables": 1, "grids": [grid]},
        headers=admin,
    )
    town.site_id = int(_ok(site, 201)["id"])
    town.tube = f"T{order:05d}"
    scanned = client.post(
        f"{API}/screening/rounds/{town.round_id}/samples",
        json={
            "site_id": town.site_id,
            "tube": town.tube,
            "person_id": screened,
            "sampled_at": "2021-12-21T09:00:00+08:00",
        },
        headers=admin,
    )
    _ok(scanned, 201)
    results = f"管码,检测结果,报告时间\n{town.tube},阳性,2021-12-21 20:00:00\n".encode()
    imported = client.post(
        f"{API}/screening/rounds/{town.round_id}/results",
        files={"file": ("results.csv", results, "text/csv")},
        headers=admin,
    )
    _ok(imported)
    tasks = client.get(f"{API}/screening/tasks", headers=admin).json()
    town.task_id = max(t["id"] for t in tasks if t["round_id"] == town.round_id)
    proposals = client.get(f"{API}/screening/proposals", headers=admin).json()
    town.proposal_id = max(p["id"] for p in proposals if p["round_id"] == town.round_id)
    return town


def build(folder: Path) -> World:
    """A fresh SQLite database with divisions, grids, an admin and both towns (leave the
    returned client's context with ``close``)."""
    settings = settings_in(folder)
    engine = make_engine(settings.resolved_database_url)
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    with transaction(factory) as s:
        geo_service.load_divisions(session=s)
        for grid in GRIDS:
            geo_service.add_grid(session=s, grid=grid)
    app = create_app(settings)
    client = TestClient(app)
    client.__enter__()
    world = World(app=app, client=client, factory=factory)
    world.admin = world.user("admin", Role.ADMIN, "45")
    for i, name in enumerate(TOWNS):
        world.towns[name] = town = _town(client, world.admin, name, 501 + 10 * i)
        with transaction(factory) as s:
            staff = auth_service.create_user(
                session=s,
                user=UserIn(
                    username=f"{name}_staff",
                    password=PASSWORD,
                    role=Role.ANALYST,
                    jurisdiction=town.code,
                ),
            )
            town.user_id = staff.id
    return world


def close(world: World) -> None:
    world.client.__exit__(None, None, None)
    world.app.state.engine.dispose()
    world.factory.kw["bind"].dispose()
