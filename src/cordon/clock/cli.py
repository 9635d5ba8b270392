"""``cordon clock …``: show, set, advance or release the clock every process shares."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import typer

from cordon.cli_support import DataDirOption, _, command_session, console, refuse, settings_for
from cordon.errors import N_

app = typer.Typer(
    help="The platform's clock: the wall clock, or a scenario time that runs or is pinned.",
    no_args_is_help=True,
)
UserOption = typer.Option(..., "--user", help="The operator acting (audited).")
# The clock's modes as a command prints them.
MODES = {"real": N_("real"), "running": N_("running"), "pinned": N_("pinned")}


def parse_span(text: str) -> timedelta:
    from cordon import clock

    try:
        return clock.parse_span(text)
    except ValueError:
        refuse(_("a span such as 2h, 30m or 1d6h"))


def parse_time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        refuse(_("a date and time, e.g. 2021-12-27 20:00"))


def _print(tz_name: str) -> None:
    from zoneinfo import ZoneInfo

    from cordon.clock import service

    shown = service.show()
    local = shown.now.astimezone(ZoneInfo(tz_name))
    mode = _(MODES[shown.mode])
    if shown.mode == "running" and shown.rate != 1:
        mode += ", " + _("%(rate)s× real time") % {"rate": f"{shown.rate:g}"}
    console.print(f"{local:%Y-%m-%d %H:%M:%S} {tz_name} ({mode})", highlight=False)


@app.command("show")
def show(data_dir: Path | None = DataDirOption) -> None:
    """Print the time the platform decides by, and whether it is real, running or pinned."""
    _print(settings_for(data_dir).timezone)


@app.command("set")
def set_time(
    at: str = typer.Argument(
        ..., help="Scenario time, e.g. 2021-12-27T20:00 (read in Asia/Shanghai without a zone)."
    ),
    user: str = UserOption,
    pin: bool = typer.Option(False, "--pin", help="Keep the clock at this time (default: run)."),
    rate: float = typer.Option(1.0, "--rate", min=0.001, help="Scenario seconds per second."),
    data_dir: Path | None = DataDirOption,
) -> None:
    """Set a scenario time for every server worker and command; it runs unless pinned."""
    from cordon.auth import service as auth_service
    from cordon.clock import service
    from cordon.clock.schemas import ClockIn

    settings = settings_for(data_dir)
    with command_session(settings) as session:
        service.change(
            session=session,
            actor=auth_service.actor_named(session=session, username=user, client_addr="cli"),
            data=ClockIn(mode="pinned" if pin else "running", at=parse_time(at), rate=rate),
            tz_name=settings.timezone,
        )
    _print(settings.timezone)


@app.command("advance")
def advance(
    span: str = typer.Argument(..., help="How far: 2h, 30m, 1d6h; -1h goes back."),
    user: str = UserOption,
    data_dir: Path | None = DataDirOption,
) -> None:
    """Move the scenario time on by a span, keeping it running or pinned."""
    from cordon.auth import service as auth_service
    from cordon.clock import service

    by = parse_span(span)
    settings = settings_for(data_dir)
    with command_session(settings) as session:
        service.advance(
            session=session,
            actor=auth_service.actor_named(session=session, username=user, client_addr="cli"),
            by=by,
        )
    _print(settings.timezone)


@app.command("real")
def real(user: str = UserOption, data_dir: Path | None = DataDirOption) -> None:
    """Go back to the wall clock."""
    from cordon.auth import service as auth_service
    from cordon.clock import service
    from cordon.clock.schemas import ClockIn

    settings = settings_for(data_dir)
    with command_session(settings) as session:
        service.change(
            session=session,
            actor=auth_service.actor_named(session=session, username=user, client_addr="cli"),
            data=ClockIn(mode="real"),
            tz_name=settings.timezone,
        )
    _print(settings.timezone)
