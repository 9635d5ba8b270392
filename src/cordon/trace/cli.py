"""``cordon trace …``"""

from __future__ import annotations

from pathlib import Path

import typer

from cordon.auth import service as auth_service
from cordon.cli_support import (
    DataDirOption,
    cipher_for,
    command_session,
    console,
    settings_for,
)
from cordon.protocols.packs import DEFAULT_PACK
from cordon.trace import service

app = typer.Typer(
    help="Epidemiological investigation: contacts from movement data.", no_args_is_help=True
)


@app.command("case")
def case(
    case_id: int = typer.Argument(..., help="The case to trace."),
    user: str = typer.Option(..., "--user", help="The user tracing (scoped and audited)."),
    pack: str = typer.Option(DEFAULT_PACK, "--pack", help="Protocol pack in force."),
    lake: Path | None = typer.Option(None, "--lake", help="Lake folder (default: the demo's)."),
    data_dir: Path | None = DataDirOption,
) -> None:
    """Trace one case; prints its contacts with evidence as JSON."""
    settings = settings_for(data_dir)
    with command_session(settings) as session:
        result = service.trace_case(
            session=session,
            actor=auth_service.actor_named(session=session, username=user, client_addr="cli"),
            case_id=case_id,
            lake=lake or settings.lake_dir,
            pack_name=pack,
        )
    typer.echo(result.model_dump_json(indent=2))


@app.command("letters")
def letters(
    case_id: int = typer.Argument(..., help="The case whose contacts elsewhere are asked for."),
    user: str = typer.Option(..., "--user", help="The user tracing (scoped and audited)."),
    out: Path = typer.Option(..., "--out", help="Folder for the DOCX letters."),
    pack: str = typer.Option(DEFAULT_PACK, "--pack", help="Protocol pack in force."),
    lake: Path | None = typer.Option(None, "--lake", help="Lake folder (default: the demo's)."),
    data_dir: Path | None = DataDirOption,
) -> None:
    """Write one assist letter (DOCX) per region holding contacts outside your jurisdiction."""
    settings = settings_for(data_dir)
    with command_session(settings) as session:
        made = service.assist_letters(
            session=session,
            actor=auth_service.actor_named(session=session, username=user, client_addr="cli"),
            cipher=cipher_for(settings),
            case_id=case_id,
            lake=lake or settings.lake_dir,
            pack_name=pack,
        )
    out.mkdir(parents=True, exist_ok=True)
    for letter in made:
        path = out / f"协查函-病例{case_id}-{letter.division_code}.docx"
        path.write_bytes(letter.docx)
        console.print(f"{path}: {letter.people} people for {letter.division_name}", highlight=False)
    if not made:
        console.print("No contacts live outside your jurisdiction: no letters.")
