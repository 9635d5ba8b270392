"""``cordon users …``"""

from __future__ import annotations

import secrets
from pathlib import Path

import typer

from cordon.auth.rules import Role
from cordon.cli_support import (
    DataDirOption,
    _,
    command_session,
    console,
    refuse,
    settings_for,
)

app = typer.Typer(help="Users, roles and jurisdictions.", no_args_is_help=True)


@app.command("create")
def create(
    username: str = typer.Argument(..., help="Login name."),
    role: Role = typer.Option(..., "--role", help="Role of the user."),
    jurisdiction: str = typer.Option(
        ..., "--jurisdiction", help="Division code the user may act in, e.g. 450681."
    ),
    display_name: str = typer.Option("", "--name", help="Name shown in pages."),
    password: str | None = typer.Option(
        None, "--password", help="Password (at least 10 characters); generated if omitted."
    ),
    data_dir: Path | None = DataDirOption,
) -> None:
    """Create a user; prints the generated password when none was given."""
    from pydantic import ValidationError

    from cordon.auth import service
    from cordon.auth.schemas import UserIn
    from cordon.web.forms import problems_of
    from cordon.web.messages import field_problems
    from cordon.web.templating import ROLE_NAMES

    chosen = password or secrets.token_urlsafe(12)
    try:
        data = UserIn(
            username=username,
            password=chosen,
            display_name=display_name,
            role=role,
            jurisdiction=jurisdiction,
        )
    except ValidationError as exc:
        refuse(field_problems(_, problems_of(exc)))
    with command_session(settings_for(data_dir)) as session:
        user = service.create_user(session=session, user=data)
        created = _("Created user %(username)s (%(role)s) in %(jurisdiction)s") % {
            "username": user.username,
            "role": _(ROLE_NAMES.get(user.role, user.role)),
            "jurisdiction": user.jurisdiction,
        }
        console.print(created, highlight=False)
    if password is None:
        console.print(_("Password: %(password)s") % {"password": chosen}, highlight=False)


@app.command("reset-password")
def reset_password(
    username: str = typer.Argument(..., help="Login name."),
    password: str | None = typer.Option(
        None, "--password", help="New password (at least 10 characters); generated if omitted."
    ),
    data_dir: Path | None = DataDirOption,
) -> None:
    """Give a user a new password and end their sessions; prints a generated one."""
    if password is not None and len(password) < 10:
        refuse(_("password: at least 10 characters"))
    from cordon.auth import service

    with command_session(settings_for(data_dir)) as session:
        user, chosen = service.reset_password_from_console(
            session=session, username=username, password=password
        )
        reset = _("New password set for %(username)s") % {"username": user.username}
        console.print(reset, highlight=False)
    if password is None:
        console.print(_("Password: %(password)s") % {"password": chosen}, highlight=False)
