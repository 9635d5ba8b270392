"""Engine, declarative Base and the one-transaction-per-unit-of-work session scope.

Services take a Session and only ``flush()``; whoever starts the unit of work (a request, a
CLI command, a job) owns the transaction through :func:`transaction`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from cordon import clock

# Stable constraint names so that Alembic migrations match on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


def utcnow() -> datetime:
    """The one clock's time (``cordon.clock``): the scenario's in a demo."""
    return clock.now()


def wall_utcnow() -> datetime:
    """The real time, for expiry, brakes and audit (``cordon.clock.wall_now``)."""
    return clock.wall_now()


# A request's session holds its connection until the dependency's teardown, which needs a
# worker thread of its own. With 15 connections, a burst of 100 requests filled every worker
# thread (anyio's default is 40) with requests waiting for a connection while the holders waited
# for a thread to finish: the server stalled. More connections than threads makes that need a
# far larger burst; public, bursty routes also keep their transaction inside their own thread
# (``web.deps.route_transaction``), which cannot stall this way. These are the sizes of one
# process; a server of several worker processes sizes each worker's pool from the settings
# (``db_pool_size``, ``db_max_overflow``) so that workers × (pool + overflow) stays under the
# PostgreSQL server's max_connections.
POOL = {"pool_size": 10, "max_overflow": 40, "pool_timeout": 30}
# How long a SQLite statement waits for another connection's write lock before it fails with
# "database is locked". Python's default (5 s) was raised to 30 s here once, which held a staff
# request for a whole CLI job; writes are short now, so a wait that long means something is
# wrong, and the request fails (503, see app.py) instead of hanging.
SQLITE_BUSY_MS = 5000


def make_engine(
    url: str,
    *,
    pool_size: int | None = None,
    max_overflow: int | None = None,
    busy_ms: int = SQLITE_BUSY_MS,
) -> Engine:
    """An engine for ``url``: SQLite in WAL mode with a busy timeout and foreign keys on, or
    any other backend with pre-ping; the pool as given (per process) or :data:`POOL`."""
    pool: dict[str, int] = dict(POOL)
    if pool_size is not None:
        pool["pool_size"] = pool_size
    if max_overflow is not None:
        pool["max_overflow"] = max_overflow
    if url.startswith("sqlite"):
        in_memory = url in ("sqlite://", "sqlite:///:memory:")  # one connection per thread
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_ms / 1000},
            **({} if in_memory else pool),  # type: ignore[arg-type]
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **pool)  # type: ignore[arg-type]


def engine_for(settings: Any) -> Engine:
    """The engine of a server process, its pool sized by the settings (one worker's share)."""
    return make_engine(
        settings.resolved_database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        busy_ms=settings.sqlite_busy_ms,
    )


SessionFactory = Callable[[], Session]


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def reads(engine: Engine) -> Iterator[Session]:
    """A session for a unit of work that only reads, in autocommit mode: no BEGIN and COMMIT
    round trips (on PostgreSQL a public lookup's four round trips become two). Whatever it
    would write is not committed; use :func:`transaction` for that."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        session = Session(bind=connection, expire_on_commit=False, autoflush=False)
        try:
            yield session
        finally:
            session.close()


@contextmanager
def transaction(factory: SessionFactory) -> Iterator[Session]:
    """One unit of work: commit when the block ends normally, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
