"""The ``cordon`` command: the root Typer app, to which every slice adds its commands."""

from __future__ import annotations

import secrets
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
import uvicorn
from sqlalchemy.orm import Session

from cordon import migrate
from cordon.auth import cli as auth_cli
from cordon.auth import service as auth_service
from cordon.auth.rules import Role, permissions_of
from cordon.auth.schemas import Actor, UserIn
from cordon.cases import service as cases_service
from cordon.cases.schemas import CaseIn
from cordon.cli_support import (
    DataDirOption,
    cipher_for,
    command_session,
    console,
    settings_for,
)
from cordon.codes import cli as codes_cli
from cordon.codes import service as codes_service
from cordon.config import Settings
from cordon.db import make_engine
from cordon.geo import service as geo_service
from cordon.jobs import cli as jobs_cli
from cordon.lake.writer import is_lake
from cordon.logs import uvicorn_log_config
from cordon.people import cli as people_cli
from cordon.people import service as people_service
from cordon.screening import cli as screening_cli
from cordon.sim import cli as sim_cli
from cordon.sim import service as sim_service
from cordon.trace import cli as trace_cli
from cordon.trace import kernels

app = typer.Typer(help="Cordon: outbreak command for border cities.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(auth_cli.app, name="users")
app.add_typer(people_cli.app, name="people")
app.add_typer(sim_cli.app, name="sim")
app.add_typer(trace_cli.app, name="trace")
app.add_typer(codes_cli.app, name="codes")
app.add_typer(jobs_cli.app, name="jobs")

# The demo's own setup steps act as this system user (audited under its name).
SYSTEM = Actor(
    user_id=None,
    username="demo-setup",
    role=Role.ADMIN.value,
    jurisdiction="45",
    permissions=permissions_of(Role.ADMIN.value),
    client_addr="cli",
)
app.add_typer(screening_cli.app, name="screening")


def _upgrade(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


@db_app.command("upgrade")
def db_upgrade(data_dir: Path | None = DataDirOption) -> None:
    """Create or migrate the schema to the newest version, and load the geography."""
    settings = settings_for(data_dir)
    _upgrade(settings)
    with command_session(settings) as session:
        added = geo_service.load_divisions(session=session)
    console.print(f"Schema is up to date; {added} divisions added.")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    data_dir: Path | None = DataDirOption,
) -> None:
    """Serve the pages and the API."""
    from cordon.app import create_app

    uvicorn.run(
        create_app(settings_for(data_dir)),
        host=host,
        port=port,
        log_config=uvicorn_log_config("info"),
    )


def _register_detected_cases(session: Session, settings: Settings) -> int:
    """Register the cases the simulated city found, reported when found, so the case pages
    and tracing have real work; a second demo run registers nothing again."""
    if cases_service.list_cases(session=session, actor=SYSTEM):
        return 0
    cipher = cipher_for(settings)
    found = sim_service.detected_cases(settings.lake_dir)
    for case in found:
        cases_service.register_case(
            session=session,
            actor=SYSTEM,
            cipher=cipher,
            data=CaseIn(
                person_id=case.person_id,
                kind="confirmed" if case.symptomatic else "asymptomatic",
                onset_date=case.onset,
                sampled_at=case.sampled_at,
                found_by="routine_test" if case.found_by == "routine_test" else "symptoms",
                isolated_at=case.isolated_at,
                facility="东兴市人民医院" if case.isolated_at else "",
            ),
            now=case.detected_at,
        )
    return len(found)


@app.command()
def demo(
    port: int = typer.Option(8000, help="Port to serve on (127.0.0.1)."),
    people: int = typer.Option(200_000, help="Residents of the simulated city."),
    # 28 days from 30 Nov reach 27 Dec, a week past the first detection; seed 9 gives a first
    # detection by routine testing on the evening of 20 Dec and 11 cases by 27 Dec (37
    # infections; the reference: 19 cases by 26 Dec).
    days: int = typer.Option(28, help="Days of the outbreak to simulate."),
    seed: int = typer.Option(9, help="Seed of the simulation."),
    data_dir: Path | None = DataDirOption,
) -> None:
    """Migrate, simulate Dongxing and its outbreak (once), load its registry, create a demo
    admin, and serve."""
    from cordon.app import create_app

    settings = settings_for(data_dir)
    _upgrade(settings)
    lake = settings.lake_dir
    if not is_lake(lake):
        sim_cli.simulate(
            sim_service.RunRequest(
                scenario="dongxing-2021", population=people, days=days, seed=seed, out=lake
            )
        )
    password = secrets.token_urlsafe(12)
    with command_session(settings) as session:
        geo_service.load_divisions(session=session)
        if not people_service.count_people(session=session):
            with console.status("Loading the simulated city into the registry…"):
                counts = sim_service.load(session=session, cipher=cipher_for(settings), folder=lake)
            console.print(f"Loaded {counts['people']:,} people.", highlight=False)
        admin = auth_service.find_user(session=session, username="admin")
        if admin is None:
            auth_service.create_user(
                session=session,
                user=UserIn(
                    username="admin",
                    password=password,
                    display_name="演示管理员",
                    role=Role.ADMIN,
                    jurisdiction="45",
                ),
            )
        else:  # a new password every run, so the printed one always works
            auth_service.set_password(user=admin, password=password)
        registered = _register_detected_cases(session, settings)
        if registered:
            # Codes as of the simulated city's last day, the demo's "today".
            status = sim_service.outbreak_status(settings.lake_dir) or {}
            through = status.get("through")
            today = (
                datetime.combine(through, time(23, 59), tzinfo=ZoneInfo("Asia/Shanghai"))
                if through
                else None
            )
            codes_service.recompute(session=session, actor=SYSTEM, now=today, full=True)
    if registered:
        console.print(f"Registered {registered} cases the simulated city found.", highlight=False)
    console.print(
        f"Admin login: username=admin password={password}", highlight=False, soft_wrap=True
    )
    with console.status("Preparing tracing (compiled once per machine)…"):
        kernels.warm()  # else the first trace from a page waits for it
    console.print(f"Serving on http://127.0.0.1:{port}/", highlight=False)
    uvicorn.run(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_config=uvicorn_log_config("warning"),
    )
