"""``cordon codes …``"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer
from rich.markup import escape

from cordon.cli_support import (
    DataDirOption,
    _,
    command_session,
    console,
    err_console,
    language,
    refuse,
    report_error,
    settings_for,
)
from cordon.errors import N_

app = typer.Typer(
    help="Health codes: recompute, explain, what-if, signed QR tokens.", no_args_is_help=True
)

UserOption = typer.Option(..., "--user", help="The user acting (scoped and audited).")
PackOption = typer.Option(None, "--pack", help="Rule pack (default: CORDON_CODE_PACK).")
AtOption = typer.Option(
    None, "--at", help="Decide as of this moment (ISO time with zone; default: the clock's now)."
)
RECOMPUTED = {
    "full": N_(
        "full recompute under %(pack)s: %(evaluated)s people evaluated, %(changed)s changed "
        "colour in %(seconds)s s; held by a rule: %(held)s"
    ),
    "incremental": N_(
        "incremental recompute under %(pack)s: %(evaluated)s people evaluated, %(changed)s "
        "changed colour in %(seconds)s s; held by a rule: %(held)s"
    ),
}


def _colour(colour: str) -> str:
    """A colour's name in the command's language (the codes slice words its own decisions)."""
    from cordon.codes.rules.text import COLOUR_NAMES

    name = COLOUR_NAMES.get(colour)
    return colour if name is None else name.en if language() == "en" else name.zh


def _at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        refuse(_("--at: not an ISO time: '%(value)s'") % {"value": value})
    if moment.tzinfo is None:
        refuse(
            _("--at needs a time zone, e.g. %(example)s") % {"example": "2021-12-29T10:00+08:00"}
        )
    return moment


@app.command("recompute")
def recompute(
    user: str = UserOption,
    pack: str | None = PackOption,
    full: bool = typer.Option(False, "--full", help="Everyone, not only changed and due people."),
    at: str | None = AtOption,
    data_dir: Path | None = DataDirOption,
) -> None:
    """Recompute health codes in the user's jurisdiction and store every change."""
    from cordon.auth import service as auth_service
    from cordon.codes import service

    settings = settings_for(data_dir)
    with command_session(settings) as session:
        result = service.recompute(
            session=session,
            actor=auth_service.actor_named(session=session, username=user, client_addr="cli"),
            pack_name=pack or settings.code_pack,
            full=full,
            now=_at(at),
            tz_name=settings.timezone,
        )
    held = ", ".join(f"{_colour(c)} {n}" for c, n in sorted(result.held.items())) or _("nobody")
    values = {
        "pack": result.pack,
        "evaluated": result.evaluated,
        "changed": result.changed,
        "seconds": f"{result.seconds:.2f}",
        "held": held,
    }
    console.print(_(RECOMPUTED[result.kind]) % values, highlight=False)


@app.command("explain")
def explain(
    person_id: int = typer.Argument(..., help="The person."),
    user: str = UserOption,
    pack: str | None = PackOption,
    at: str | None = AtOption,
    data_dir: Path | None = DataDirOption,
) -> None:
    """Print a person's code: colour, reasons, next conversion and history (in the language of
    ``cordon --lang``)."""
    from cordon.auth import service as auth_service
    from cordon.codes import service

    settings = settings_for(data_dir)
    with command_session(settings) as session:
        result = service.explain(
            session=session,
            actor=auth_service.actor_named(session=session, username=user, client_addr="cli"),
            person_id=person_id,
            pack_name=pack or settings.code_pack,
            now=_at(at),
            tz_name=settings.timezone,
        )
    current = result.current
    english = language() == "en"
    said = _("person %(person)s: %(colour)s (%(pack)s)")
    values = {"person": person_id, "colour": _colour(current.colour), "pack": current.pack}
    console.print(said % values, highlight=False)
    for reason in current.reasons:
        console.print(f"  - {reason.en if english else reason.zh}", highlight=False)
    if current.conversion is not None:
        text = current.conversion.en if english else current.conversion.zh
        console.print("  " + _("next: %(conversion)s") % {"conversion": text}, highlight=False)
    for change in result.history:
        before = _colour(change.colour_from) if change.colour_from else "-"
        console.print(
            f"  {change.at:%Y-%m-%d %H:%M} UTC {before} → {_colour(change.colour_to)}",
            highlight=False,
        )


@app.command("whatif")
def whatif(
    pack: Path = typer.Argument(..., help="Draft pack: a YAML file, or a packaged pack's name."),
    user: str = UserOption,
    at: str | None = AtOption,
    examples: int = typer.Option(
        10, "--examples", min=0, max=200, help="How many people who change to list."
    ),
    data_dir: Path | None = DataDirOption,
) -> None:
    """Count who would change colour under a draft pack, per town and grid, as JSON.

    The draft and the pack in force are both evaluated as of --at (default: the platform's
    clock, the scenario's time in a demo); nothing is stored."""
    from cordon.auth import service as auth_service
    from cordon.codes import packs, service

    settings = settings_for(data_dir)
    with command_session(settings) as session:
        report = service.whatif(
            session=session,
            actor=auth_service.actor_named(session=session, username=user, client_addr="cli"),
            draft=packs.load_path(pack),
            current_name=settings.code_pack,
            now=_at(at),
            tz_name=settings.timezone,
            examples=examples,
        )
    typer.echo(report.model_dump_json(indent=2))


@app.command("public-key")
def public_key(
    out: Path | None = typer.Option(None, "--out", help="Write the PEM here (default: print)."),
    data_dir: Path | None = DataDirOption,
) -> None:
    """Print or write the public key that checkpoints verify QR tokens with."""
    from cordon.codes import service

    pem = service.public_key_pem(settings_for(data_dir))
    if out is None:
        typer.echo(pem, nl=False)
    else:
        out.write_text(pem)
        console.print(_("public key written to %(path)s") % {"path": out}, highlight=False)


@app.command("verify")
def verify(
    token: str = typer.Argument(..., help="The token read from the QR code."),
    public_key_file: Path = typer.Option(
        ..., "--public-key", help="PEM from `cordon codes public-key`."
    ),
    at: str | None = AtOption,
) -> None:
    """Check a token offline with the public key: signature, then expiry."""
    from cordon.codes import tokens

    try:
        key = tokens.load_public_key(public_key_file.read_text())
        claims = tokens.verify(token, key, now=_at(at))
    except (OSError, tokens.TokenRefused) as refused:
        reason = (
            _(refused.template) % refused.params
            if isinstance(refused, tokens.TokenRefused)
            else str(refused)
        )
        said = _("Refused: %(reason)s") % {"reason": reason}
        err_console.print(escape(said), style="bold red", highlight=False)
        raise typer.Exit(code=1) from refused
    valid = _("valid: %(colour)s · %(name)s · %(id_number)s · expires %(expires)s UTC")
    values = {
        "colour": _colour(claims.colour),
        "name": claims.name,
        "id_number": claims.id_number,
        "expires": f"{claims.expires_at:%Y-%m-%d %H:%M}",
    }
    console.print(valid % values, highlight=False)


@app.command("catalogue")
def catalogue() -> None:
    """Print the facts, attributes and operators a rule may use, as JSON for rule editors."""
    from cordon.codes import packs

    typer.echo(json.dumps(packs.catalogue(), ensure_ascii=False, indent=2))


@app.command("check")
def check(pack: Path = typer.Argument(..., help="A pack YAML file to validate.")) -> None:
    """Validate a pack file, naming every wrong rule and field."""
    from cordon.codes import packs
    from cordon.errors import CordonError

    try:
        loaded = packs.load_path(pack)
    except CordonError as exc:
        report_error(exc)
        raise typer.Exit(code=2) from exc
    checked = _("%(pack)s v%(version)s: %(rules)s rules, valid")
    values = {"pack": loaded.name, "version": loaded.version, "rules": len(loaded.rules)}
    console.print(checked % values, highlight=False)
