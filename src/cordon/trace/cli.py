"""``cordon trace …``"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from cordon.cli_support import (
    DataDirOption,
    cipher_for,
    command_session,
    command_sessions,
    console,
    settings_for,
)

PackOption = typer.Option(
    None, "--pack", help="Protocol pack in force (default: the packaged guangxi-2021-12)."
)


def _default_pack() -> str:
    from cordon.protocols.packs import DEFAULT_PACK

    return DEFAULT_PACK


app = typer.Typer(
    help="Epidemiological investigation: contacts from movement data.", no_args_is_help=True
)


@app.command("case")
def case(
    case_id: int = typer.Argument(..., help="The case to trace."),
    user: str = typer.Option(..., "--user", help="The user tracing (scoped and audited)."),
    pack: str | None = PackOption,
    lake: Path | None = typer.Option(None, "--lake", help="Lake folder (default: the demo's)."),
    preview: bool = typer.Option(
        False, "--preview", help="Only print the contacts; store nothing."
    ),
    data_dir: Path | None = DataDirOption,
) -> None:
    """Trace one case, store its contacts (with scores and tiers) and print them with evidence
    as JSON; codes follow once a commander pushes tiers (`cordon trace push`)."""
    from cordon.auth import service as auth_service
    from cordon.trace import service

    settings = settings_for(data_dir)
    with command_session(settings) as session:
        result = service.trace_case(
            session=session,
            actor=auth_service.actor_named(session=session, username=user, client_addr="cli"),
            case_id=case_id,
            lake=lake or settings.lake_dir,
            pack_name=pack or _default_pack(),
            save=not preview,
        )
    typer.echo(result.model_dump_json(indent=2))


CasesArgument = typer.Argument(..., help="The traced case, or a batch's cases.")
TierOption = typer.Option(
    [], "--tier", help="A tier to push (repeat for several: --tier 1 --tier 2)."
)
CompanionsOption = typer.Option(
    False, "--companions", help="The spatio-temporal companions too (yellow code and tests)."
)


def _push_command(
    what: str,
    case_ids: list[int],
    user: str,
    tiers: list[int],
    companions: bool,
    data_dir: Path | None,
) -> None:
    from cordon.auth import service as auth_service
    from cordon.trace import push

    settings = settings_for(data_dir)
    act = push.preview if what == "preview" else push.push
    with command_session(settings) as session:
        result = act(
            session=session,
            actor=auth_service.actor_named(session=session, username=user, client_addr="cli"),
            case_ids=case_ids,
            tiers=tiers,
            companions=companions,
            code_pack=settings.code_pack,
        )
    typer.echo(result.model_dump_json(indent=2))


@app.command("preview")
def preview(
    case_ids: list[int] = CasesArgument,
    user: str = typer.Option(..., "--user", help="The user asking (scoped and audited)."),
    tier: list[int] = TierOption,
    companions: bool = CompanionsOption,
    data_dir: Path | None = DataDirOption,
) -> None:
    """What pushing these tiers of the cases' stored contacts would cost, as JSON: per tier
    people, red, yellow, central and home quarantine, expected infections; per town and grid;
    rooms and staff for the chosen tiers. Nothing is written."""
    _push_command("preview", case_ids, user, tier, companions, data_dir)


@app.command("push")
def push_tiers(
    case_ids: list[int] = CasesArgument,
    user: str = typer.Option(..., "--user", help="The commander pushing (recorded, audited)."),
    tier: list[int] = TierOption,
    companions: bool = CompanionsOption,
    data_dir: Path | None = DataDirOption,
) -> None:
    """Push the chosen tiers of the cases' contacts to codes and orders; prints the push
    (who, when, tiers, and the preview of that moment) as JSON."""
    _push_command("push", case_ids, user, tier, companions, data_dir)


@app.command("letters")
def letters(
    case_id: int = typer.Argument(..., help="The case whose contacts elsewhere are asked for."),
    user: str = typer.Option(..., "--user", help="The user tracing (scoped and audited)."),
    out: Path = typer.Option(..., "--out", help="Folder for the DOCX letters."),
    pack: str | None = PackOption,
    lake: Path | None = typer.Option(None, "--lake", help="Lake folder (default: the demo's)."),
    data_dir: Path | None = DataDirOption,
) -> None:
    """Write one assist letter (DOCX) per region holding contacts outside your jurisdiction."""
    from cordon.auth import service as auth_service
    from cordon.trace import service

    settings = settings_for(data_dir)
    with command_session(settings) as session:
        made = service.assist_letters(
            session=session,
            actor=auth_service.actor_named(session=session, username=user, client_addr="cli"),
            cipher=cipher_for(settings),
            case_id=case_id,
            lake=lake or settings.lake_dir,
            pack_name=pack or _default_pack(),
        )
    out.mkdir(parents=True, exist_ok=True)
    for letter in made:
        path = out / f"协查函-病例{case_id}-{letter.division_code}.docx"
        path.write_bytes(letter.docx)
        console.print(f"{path}: {letter.people} people for {letter.division_name}", highlight=False)
    if not made:
        console.print("No contacts live outside your jurisdiction: no letters.")


@app.command("batch")
def batch(
    since: datetime = typer.Option(
        ..., "--since", help="Trace cases reported at or after this time (ISO 8601, with zone)."
    ),
    user: str = typer.Option(..., "--user", help="The user tracing (scoped and audited)."),
    pack: str | None = PackOption,
    lake: Path | None = typer.Option(None, "--lake", help="Lake folder (default: the demo's)."),
    data_dir: Path | None = DataDirOption,
) -> None:
    """Trace every case reported since a time, storing each group's contacts as it finishes.

    Prints the job as JSON; the job is failed (exit code 1) if a group could not be traced."""
    from zoneinfo import ZoneInfo

    from rich.progress import Progress

    from cordon.auth import service as auth_service
    from cordon.db import transaction
    from cordon.jobs.flows import run_inline
    from cordon.trace import jobs

    settings = settings_for(data_dir)
    folder = lake or settings.lake_dir
    moment = since if since.tzinfo else since.replace(tzinfo=ZoneInfo(settings.timezone))
    with command_sessions(settings) as factory:
        with transaction(factory) as session:
            actor = auth_service.actor_named(session=session, username=user, client_addr="cli")
            job = jobs.start_batch(
                session=session,
                actor=actor,
                since=moment,
                pack_name=pack or _default_pack(),
                lake=folder,
            )
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task(f"tracing {job.total} cases", total=max(job.total, 1))
            done = run_inline(
                factory=factory,
                settings=settings,
                cipher=cipher_for(settings),
                job_id=job.id,
                on_progress=lambda finished, _total, _message: bar.update(task, completed=finished),
            )
    typer.echo((done or job).model_dump_json(indent=2))
    if done is not None and done.status == "failed":
        raise typer.Exit(1)
