"""``cordon people …``"""

from __future__ import annotations

from pathlib import Path

import typer

from cordon.cli_support import (
    DataDirOption,
    _,
    cipher_for,
    command_session,
    console,
    err_console,
    refuse,
    settings_for,
)

app = typer.Typer(help="The people registry.", no_args_is_help=True)


@app.command("import")
def import_file(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="XLSX or CSV file."),
    user: str = typer.Option(..., "--user", help="The user the import is done as (audited)."),
    valid_rows: bool = typer.Option(
        False, "--valid-rows", help="Write the valid rows even when some rows are rejected."
    ),
    data_dir: Path | None = DataDirOption,
) -> None:
    """Import people from XLSX or CSV; with a rejected row nothing is written.

    Every rejected row is listed with its field and reason; --valid-rows writes the valid rows
    anyway."""
    from rich.table import Table

    from cordon.auth import service as auth_service
    from cordon.people import imports, tabular
    from cordon.web.messages import field_label, translated

    settings = settings_for(data_dir)
    size = path.stat().st_size
    if size > settings.max_upload_bytes:
        too_big = _("file: %(size)s bytes, more than %(limit)s")
        refuse(too_big % {"size": size, "limit": settings.max_upload_bytes})
    with command_session(settings) as session:
        actor = auth_service.actor_named(session=session, username=user, client_addr="cli")
        rows = tabular.read_table(path.name, path.read_bytes())
        report = imports.import_people(
            session=session,
            actor=actor,
            cipher=cipher_for(settings),
            rows=rows,
            mode="valid_rows" if valid_rows else "all_or_nothing",
        )
    if report.errors:
        table = Table(_("Row"), _("Field"), _("Reason"), title=_("Rejected rows"))
        for error in report.errors:
            reason = translated(_, error.message, error.template, error.params)
            table.add_row(str(error.row), field_label(_, error.field), reason)
        err_console.print(table)
    counts = {"rows": report.rows, "written": report.written, "rejected": report.rejected}
    said = _("%(rows)s rows read, %(written)s written, %(rejected)s rejected") % counts
    console.print(said, highlight=False)
    if report.rejected and not valid_rows:
        err_console.print(_("Nothing was written. Fix the rows, or use --valid-rows."))
        raise typer.Exit(code=2)
