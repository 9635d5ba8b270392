"""What every slice's CLI shares: settings, one transaction per command, error reporting."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from cordon.config import Settings, get_settings
from cordon.db import make_engine, make_session_factory, transaction
from cordon.errors import CordonError
from cordon.security.crypto import FieldCipher

console = Console()
err_console = Console(stderr=True)

DataDirOption = typer.Option(
    None, "--data-dir", help="Data folder (default: CORDON_DATA_DIR or ./var)."
)


def settings_for(data_dir: Path | None) -> Settings:
    if data_dir is None:
        return get_settings()
    return Settings(data_dir=data_dir)


def cipher_for(settings: Settings) -> FieldCipher:
    return FieldCipher(
        field_key=settings.secret("field_key"), lookup_key=settings.secret("lookup_key")
    )


@contextmanager
def command_session(settings: Settings) -> Iterator[Session]:
    """One transaction for the command; domain errors end it with a message, not a traceback."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            yield session
    except CordonError as exc:
        report_error(exc)
        raise typer.Exit(code=2) from exc
    finally:
        engine.dispose()


@contextmanager
def command_sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """A session factory for commands that commit in steps (jobs), with the same error ending."""
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
