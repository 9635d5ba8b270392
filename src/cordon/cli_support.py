"""What every slice's CLI shares: settings, one transaction per command, error reporting,
and the language commands speak.

``cordon --help`` imports every slice's ``cli`` module, so those modules and this one import
only Typer and Rich at the top; configuration, the database, services and the heavy libraries
(pandas, pyarrow, numba, duckdb, alembic, fastapi) load inside the commands that use them.

The CLI speaks the UI's language: what a command prints for its user (results, errors, each
problem's field and reason) is in the installation's default language
(``CORDON_DEFAULT_LANGUAGE``, Simplified Chinese unless set), or in the one the root option
``cordon --lang en …`` names, from the same catalog as pages and API answers. JSON and files
a command writes stay machine-readable as they are; ``--help`` is the English reference, so
that it answers without loading a catalog (tests/test_cli.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

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
Language = Literal["zh_CN", "en"]  # as cordon.web.i18n.LANGUAGES, without the web stack
LangOption = typer.Option(
    None, "--lang", help="Language of the messages (default: CORDON_DEFAULT_LANGUAGE, zh_CN)."
)
# The root command's --lang while it runs, or the default once looked up (see language()).
_chosen: ContextVar[str | None] = ContextVar("cordon_cli_language", default=None)


def use_language(context: typer.Context, chosen: str | None) -> None:
    """The root command's choice, for the command it runs (forgotten when it ends)."""
    token = _chosen.set(chosen)
    context.call_on_close(lambda: _chosen.reset(token))


def language() -> str:
    """The language of this command's messages: ``--lang``, else the installation's default
    language, looked up once (not at ``--help``, which must not load the settings)."""
    chosen = _chosen.get()
    if chosen is None:
        from cordon.config import Settings

        chosen = Settings().default_language  # the environment now, as settings_for reads it
        _chosen.set(chosen)
    return chosen


def _(message: str) -> str:
    """``message`` in the command's language (pybabel extracts ``_`` calls into the catalog)."""
    from cordon.web import i18n

    return i18n.translations(language()).gettext(message)


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
    """A domain error as the pages say it: the message, then each problem's field and reason."""
    from cordon.web.messages import error_text, field_label, problem_text

    fail(error_text(_, exc))
    for problem in exc.problems:
        values = {
            "row": problem.row,
            "field": field_label(_, problem.field),
            "problem": problem_text(_, problem),
        }
        line = _("row %(row)s, %(field)s: %(problem)s") if problem.row is not None else None
        err_console.print("  - " + escape((line or _("%(field)s: %(problem)s")) % values))


def fail(message: str) -> None:
    """Print an error line (already in the command's language) to standard error."""
    said = _("Error: %(message)s") % {"message": message}
    err_console.print(escape(said), style="bold red", highlight=False)


def refuse(message: str) -> NoReturn:
    """End the command as a usage error (exit status 2) with ``message``."""
    fail(message)
    raise typer.Exit(code=2)


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
