"""``cordon sim …``: run a scenario into a lake; load a lake's registry into the database."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from cordon.cli_support import (
    DataDirOption,
    _,
    cipher_for,
    command_session,
    console,
    report_error,
    settings_for,
)
from cordon.errors import N_

if TYPE_CHECKING:
    from cordon.sim import service

app = typer.Typer(help="The digital twin: a synthetic city and its outbreak.", no_args_is_help=True)

LABELS = {"city": N_("Building the city"), "days": N_("Simulating days")}
# What ``cordon sim load`` counts, as it prints them.
LOADED = {
    "grids": N_("Grids"),
    "places": N_("Places"),
    "households": N_("Households"),
    "people": N_("People"),
    "vessels": N_("Vessels"),
}


def simulate(request: service.RunRequest) -> dict[str, Any]:
    """Run with progress bars; a domain error ends the command with its message."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )

    from cordon.errors import CordonError
    from cordon.sim import service

    started = time.perf_counter()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bars:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(_(LABELS.get(stage, stage)), total=total)
            bars.update(tasks[stage], completed=done, total=total)

        try:
            manifest = service.run(request, progress=progress)
        except CordonError as exc:
            bars.stop()
            report_error(exc)
            raise typer.Exit(code=2) from exc
    counts = manifest["row_counts"]
    wrote = _(
        "Wrote %(path)s: %(people)s people, %(stays)s stays, %(infections)s infections in "
        "%(seconds)s s"
    )
    values = {name: f"{counts[name]:,}" for name in ("people", "stays", "infections")}
    values.update(path=str(request.out), seconds=f"{time.perf_counter() - started:.1f}")
    console.print(wrote % values, highlight=False)
    return manifest


@app.command("run")
def run(
    out: Path = typer.Option(..., "--out", help="Folder for the lake (new or empty)."),
    scenario: str = typer.Option("dongxing-2021", "--scenario", help="Scenario name."),
    population: int = typer.Option(200_000, "--population", help="Number of residents."),
    days: int = typer.Option(21, "--days", help="Days to simulate."),
    seed: int = typer.Option(7, "--seed", help="Random seed: same seed, same lake."),
) -> None:
    """Simulate the city, its movements and an outbreak; write the Parquet lake and manifest."""
    from cordon.sim import service

    simulate(
        service.RunRequest(scenario=scenario, population=population, days=days, seed=seed, out=out)
    )


@app.command("load")
def load(
    folder: Path = typer.Argument(..., help="A lake written by `cordon sim run`."),
    data_dir: Path | None = DataDirOption,
) -> None:
    """Load the lake's registry (grids, places, households, people, vessels) into the database."""
    from cordon.sim import service

    settings = settings_for(data_dir)
    with command_session(settings) as session, console.status(_("Loading the registry…")):
        counts = service.load(session=session, cipher=cipher_for(settings), folder=folder)
    loaded = ", ".join(f"{_(LOADED.get(name, name))} {n:,}" for name, n in counts.items())
    console.print(_("Loaded: %(counts)s.") % {"counts": loaded}, highlight=False)


@app.command("scenario")
def show_scenario(
    name: str = typer.Argument("dongxing-2021", help="Scenario name."),
) -> None:
    """Print a scenario with every parameter and its source (the packaged YAML format)."""
    from cordon.errors import CordonError
    from cordon.sim import scenario as scenarios

    try:
        found = scenarios.load(name)
    except CordonError as exc:
        report_error(exc)
        raise typer.Exit(code=2) from exc
    typer.echo(scenarios.render(found), nl=False)
