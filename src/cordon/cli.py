"""The ``cordon`` command: the root Typer app, to which every slice adds its commands.

Only Typer and the slices' thin ``cli`` modules load here, so ``cordon --help`` answers at
once; each command imports the services and libraries it needs when it runs.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from cordon.auth import cli as auth_cli
from cordon.cli_support import (
    DataDirOption,
    LangOption,
    Language,
    _,
    cipher_for,
    command_session,
    console,
    settings_for,
    use_language,
    whole_short_help,
)
from cordon.clock import cli as clock_cli
from cordon.codes import cli as codes_cli
from cordon.jobs import cli as jobs_cli
from cordon.people import cli as people_cli
from cordon.screening import cli as screening_cli
from cordon.sim import cli as sim_cli
from cordon.trace import cli as trace_cli

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

    from cordon.auth.schemas import Actor
    from cordon.config import Settings

app = typer.Typer(help="Cordon: outbreak command for border cities.", no_args_is_help=True)
db_app = typer.Typer(help="Create or migrate the database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(auth_cli.app, name="users")
app.add_typer(people_cli.app, name="people")
app.add_typer(sim_cli.app, name="sim")
app.add_typer(trace_cli.app, name="trace")
app.add_typer(codes_cli.app, name="codes")
app.add_typer(jobs_cli.app, name="jobs")
app.add_typer(screening_cli.app, name="screening")
app.add_typer(clock_cli.app, name="clock")


@app.callback()
def main(context: typer.Context, lang: Language | None = LangOption) -> None:
    use_language(context, lang)


@cache
def _system() -> Actor:
    """The demo's own setup steps act as this system user (audited under its name)."""
    from cordon.auth.rules import Role, permissions_of
    from cordon.auth.schemas import Actor

    return Actor(
        user_id=None,
        username="demo-setup",
        role=Role.ADMIN.value,
        jurisdiction="45",
        permissions=permissions_of(Role.ADMIN.value),
        client_addr="cli",
    )


def _upgrade(settings: Settings) -> None:
    from cordon import migrate
    from cordon.db import make_engine

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


@db_app.command("upgrade")
def db_upgrade(data_dir: Path | None = DataDirOption) -> None:
    """Create or migrate the schema to the newest version, and load the geography."""
    from cordon.geo import service as geo_service

    settings = settings_for(data_dir)
    _upgrade(settings)
    with command_session(settings) as session:
        added = geo_service.load_divisions(session=session)
    console.print(_("Schema is up to date; %(added)s divisions added.") % {"added": added})


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(0, help="Worker processes (0: CORDON_WORKERS or 2 per core)."),
    data_dir: Path | None = DataDirOption,
) -> None:
    """Serve the pages and the API with several worker processes (gunicorn, uvicorn)."""
    from cordon import serving

    serving.run(settings_for(data_dir), host=host, port=port, workers=workers or None)


def _register_detected_cases(session: Session, settings: Settings) -> int:
    """Register the cases the simulated city found, reported when found, so the case pages
    and tracing have real work; a second demo run registers nothing again."""
    from cordon.cases import service as cases_service
    from cordon.cases.schemas import CaseIn
    from cordon.sim import service as sim_service

    system = _system()
    if cases_service.list_cases(session=session, actor=system):
        return 0
    cipher = cipher_for(settings)
    found = sim_service.detected_cases(settings.lake_dir)
    for case in found:
        cases_service.register_case(
            session=session,
            actor=system,
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
    """Simulate Dongxing's outbreak once, load it, and serve it at the scenario's time.

    Migrates the database, simulates the city and its outbreak (once per data folder), loads
    the registry and the cases found, creates the demo admin, sets the clock to the evening
    of the last simulated day (unless an operator pinned it) and serves."""
    import secrets

    from cordon.auth import service as auth_service
    from cordon.auth.rules import Role
    from cordon.auth.schemas import UserIn
    from cordon.codes import service as codes_service
    from cordon.geo import service as geo_service
    from cordon.lake.writer import is_lake
    from cordon.people import service as people_service
    from cordon.sim import service as sim_service
    from cordon.trace import kernels

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
    _set_scenario_clock(settings)  # before loading, so records are stamped in scenario time
    with command_session(settings) as session:
        geo_service.load_divisions(session=session)
        if not people_service.count_people(session=session):
            with console.status(_("Loading the simulated city into the registry…")):
                counts = sim_service.load(session=session, cipher=cipher_for(settings), folder=lake)
            loaded = _("Loaded %(people)s people.") % {"people": f"{counts['people']:,}"}
            console.print(loaded, highlight=False)
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
        scenario_now = _set_scenario_clock(settings, session=session)
        if registered:
            codes_service.recompute(session=session, actor=_system(), full=True)
    if registered:
        found = _("Registered %(cases)s cases the simulated city found.")
        console.print(found % {"cases": registered}, highlight=False)
    console.print(_("Scenario time: %(time)s") % {"time": scenario_now}, highlight=False)
    console.print(
        _("Admin login: username=%(username)s password=%(password)s")
        % {"username": "admin", "password": password},
        highlight=False,
        soft_wrap=True,
    )
    with console.status(_("Preparing tracing (compiled once per machine)…")):
        kernels.warm()  # else the first trace from a page waits for it
    serving_at = f"http://127.0.0.1:{port}/"
    console.print(_("Serving on %(url)s") % {"url": serving_at}, highlight=False)
    from cordon import serving

    serving.run(settings, host="127.0.0.1", port=port, log_level="warning")


def _set_scenario_clock(settings: Settings, *, session: Session | None = None) -> str:
    """Set the shared clock to the scenario's time and let it run: 20:00 on the simulated
    city's last day, or (given a session) just after the latest case was reported if that is
    later. A clock an operator pinned stays as it is. Returns the time as shown to the user."""
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from cordon import clock
    from cordon.cases import service as cases_service
    from cordon.sim import service as sim_service

    zone = ZoneInfo(settings.timezone)
    through = (sim_service.outbreak_status(settings.lake_dir) or {}).get("through")
    if clock.current().mode != "pinned" and through is not None:
        moment: datetime = datetime.combine(through, time(20, 0), tzinfo=zone)
        if session is not None:
            cases = cases_service.list_cases(session=session, actor=_system())
            latest = max((c.reported_at for c in cases), default=moment)
            moment = max(moment, latest + timedelta(minutes=1))
        if session is None or moment > clock.now():
            clock.set_scenario(moment)
    mode = _(clock_cli.MODES[clock.current().mode])
    return f"{clock.now().astimezone(zone):%Y-%m-%d %H:%M} ({mode})"


whole_short_help(app)
