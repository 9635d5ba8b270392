"""Shared fixtures: settings, a database on each backend, the app, clients and users.

Every test that touches the database runs once on SQLite and once on PostgreSQL; the
PostgreSQL runs are skipped, with the reason shown, when CORDON_TEST_POSTGRES_URL is unset
(``.ci/run`` and ``make test`` set it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from cordon import clock
from cordon.app import create_app
from cordon.auth import service as auth_service
from cordon.auth.rules import Role
from cordon.auth.schemas import UserIn
from cordon.config import Settings
from cordon.db import make_engine, make_session_factory, transaction
from cordon.geo import service as geo_service
from cordon.geo.schemas import GridIn
from cordon.models import Base
from cordon.security.crypto import FieldCipher

POSTGRES_URL = os.environ.get("CORDON_TEST_POSTGRES_URL")
PASSWORD = "correct horse battery"
# A Dongxing grid and a second one in another town, for scoping tests.
GRIDS = (
    GridIn(code="450681100001001", name="东郊社区第1网格", division_code="450681100001"),
    GridIn(code="450681101201001", name="江平第1网格", division_code="450681101201"),
)


@pytest.fixture(autouse=True)
def wall_clock() -> Iterator[None]:
    """Every test ends on the wall clock, followed by no shared clock file."""
    yield
    clock.bind(None)
    clock.reset()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not POSTGRES_URL:
        pytest.skip("PostgreSQL run: set CORDON_TEST_POSTGRES_URL (.ci/run sets it)")
    return str(request.param)


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    """One PostgreSQL schema for the session; tables are emptied before each test."""
    if not POSTGRES_URL:
        pytest.skip("no PostgreSQL URL")
    engine = make_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'cordon.db'}"
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        return url
    engine: Engine = request.getfixturevalue("postgres_engine")
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        session_key="11" * 32,
        field_key="22" * 32,
        lookup_key="33" * 32,
        audit_batch_ms=0,  # the trail written at once, so tests read it right away
        # Codes decided by themselves in the background would race tests that recompute and
        # count changes; tests/jobs and the incremental-codes tests turn it on.
        codes_auto_refresh=False,
        jobs_poll_seconds=0.2,
    )


@pytest.fixture
def cipher(settings: Settings) -> FieldCipher:
    return FieldCipher(
        field_key=settings.secret("field_key"), lookup_key=settings.secret("lookup_key")
    )


@pytest.fixture
def session_factory(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(settings.resolved_database_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        geo_service.load_divisions(session=session)
        for grid in GRIDS:
            geo_service.add_grid(session=session, grid=grid)
    yield factory
    engine.dispose()


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for service tests; committed at the end like a request would be."""
    with transaction(session_factory) as s:
        yield s


@pytest.fixture
def app(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[object]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: object) -> Iterator[TestClient]:
    with TestClient(app) as test_client:  # type: ignore[arg-type]
        yield test_client


UserMaker = Callable[..., str]


@pytest.fixture
def make_user(session_factory: sessionmaker[Session]) -> UserMaker:
    """Create a user (password ``PASSWORD``) and return its name."""

    def make(username: str, role: Role | str = Role.ADMIN, jurisdiction: str = "45") -> str:
        with transaction(session_factory) as s:
            auth_service.create_user(
                session=s,
                user=UserIn(
                    username=username,
                    password=PASSWORD,
                    role=Role(role),
                    jurisdiction=jurisdiction,
                ),
            )
        return username

    return make


@pytest.fixture
def token_for(client: TestClient, make_user: UserMaker) -> Callable[..., dict[str, str]]:
    """Make a user and return the Authorization header of an API token for it."""

    def headers(
        username: str, role: Role | str = Role.ADMIN, jurisdiction: str = "45"
    ) -> dict[str, str]:
        make_user(username, role, jurisdiction)
        response = client.post(
            "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return headers
