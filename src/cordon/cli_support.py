"""What every slice's CLI shares: settings, one transaction per command, error reporting.

``cordon --help`` imports every slice's ``cli`` module, so those modules and this one import
only Typer and Rich at the top; configuration, the database, services and the heavy libraries
(pandas, pyarrow, numba, duckdb, alembic, fastapi) load inside the commands that use them.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from cordon.config import Settings
    from cordon.errors import CordonError
    from cordon.security.crypto import FieldCipher

console = Console()
err_console = Console(stderr=True)

DataDirOption = typer.Option(
    None, "--data-dir", help="Data folder (default: CORDON_DATA_DIR or ./var)."
)


def settings_for(data_dir: Path | None) -> Settings:
    """The installation's settings; this process also follows its shared clock from now on."""
    from cordon import clock
    from cordon.config import Settings, get_settings

    settings = get_settings() if data_dir is None else Settings(data_dir=data_dir)
    clock.bind(clock.path_in(settings.data_dir))
    return settings


def cipher_for(settings: Settings) -> FieldCipher:
    from cordon.security.crypto import FieldCipher

    return FieldCipher(
        field_key=settings.secret("field_key"), lookup_key=settings.secret("lookup_key")
    )


@contextmanager
def command_session(settings: Settings) -> Iterator[Session]:
    """One transaction for the command; domain errors end it with a message, not a traceback."""
    from cordon.db import transaction

    with command_sessions(settings) as factory, transaction(factory) as session:
        yield session


@contextmanager
def command_sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """A session factory for commands that commit in steps (jobs), with the same error ending."""
    from cordon.db import make_engine, make_session_factory
    from cordon.errors import CordonError

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    try:
        yield make_session_factory(engine)
    except CordonError as exc:
        report_error(exc)
        raise typer.Exit(code=2) from exc
    finally:
        engine.dispose()


def report_error(exc: CordonError) -> None:
    err_console.print(f"[bold red]Error:[/] {exc.message}")
    for problem in exc.problems:
        where = f"row {problem.row}, " if problem.row is not None else ""
        err_console.print(f"  - {where}{problem.field}: {problem.message}")


def first_paragraph(text: str | None) -> str:
    """A help text's first paragraph on one line, as listings show it."""
    return " ".join(inspect.cleandoc(text or "").split("\n\n")[0].split())


def whole_short_help(app: typer.Typer) -> typer.Typer:
    """Give every command of ``app`` (and of its groups) its first paragraph, whole, as the
    short help listings show: without it, plain (non-Rich) help and shell completion cut a
    description at 45 characters or the terminal's width, mid-sentence."""
    for command in app.registered_commands:
        if command.short_help is None:
            command.short_help = first_paragraph(command.help or command.callback.__doc__)
    for group in app.registered_groups:
        sub = group.typer_instance
        if sub is None:
            continue
        whole_short_help(sub)
        given = [h for h in (group.help, sub.info.help) if isinstance(h, str)]
        chosen = [h for h in (group.short_help, sub.info.short_help) if isinstance(h, str)]
        if given and not chosen:
            group.short_help = first_paragraph(given[0])
    return app
