"""``cordon screening …``"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from cordon.cli_support import (
    DataDirOption,
    _,
    cipher_for,
    command_session,
    console,
    settings_for,
)

app = typer.Typer(help="Mass nucleic-acid screening.", no_args_is_help=True)
UserOption = typer.Option(..., "--user", help="The user acting (scoped and audited).")


def _echo(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@app.command("simulate-round")
def simulate_round(
    day: int = typer.Option(..., "--day", help="Simulated day of the sampling (0 = start)."),
    user: str = UserOption,
    division: str = typer.Option("450681", "--division", help="Area screened."),
    out: Path | None = typer.Option(None, "--out", help="Folder for the lab file (CSV, XLSX)."),
    lake: Path | None = typer.Option(None, "--lake", help="Lake folder (default: the demo's)."),
    seed: int = typer.Option(7, "--seed", help="Seed of the swab and turnaround draws."),
    data_dir: Path | None = DataDirOption,
) -> None:
    """Simulate a whole sampling round and report infections found and missed, as JSON.

    Plans sites, samples everyone, writes a lab file from the simulator's truth and imports
    it."""
    from cordon.auth import service as auth_service
    from cordon.screening import simulation

    settings = settings_for(data_dir)
    with command_session(settings) as session:
        actor = auth_service.actor_named(session=session, username=user, client_addr="cli")
        with console.status(_("Sampling the city and importing the lab file…")):
            report = simulation.simulate_round(
                session=session,
                actor=actor,
                cipher=cipher_for(settings),
                options=simulation.Options(
                    lake=lake or settings.lake_dir,
                    day=day,
                    division_code=division,
                    out_dir=out,
                    seed=seed,
                ),
            )
    _echo(report)


@app.command("import-results")
def import_results(
    round_id: int = typer.Argument(..., help="The round."),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Lab file, CSV or XLSX."),
    user: str = UserOption,
    lab: str = typer.Option("", "--lab", help="Lab name when the file has no lab column."),
    data_dir: Path | None = DataDirOption,
) -> None:
    """Import a lab's results: all rows or none; the same file twice changes nothing."""
    from cordon.auth import service as auth_service
    from cordon.screening import labs

    settings = settings_for(data_dir)
    with command_session(settings) as session:
        report = labs.import_results(
            session=session,
            actor=auth_service.actor_named(session=session, username=user, client_addr="cli"),
            round_id=round_id,
            filename=file.name,
            data=file.read_bytes(),
            lab=lab,
        )
    _echo(report.model_dump())


@app.command("coverage")
def show_coverage(
    round_id: int = typer.Argument(..., help="The round."),
    user: str = UserOption,
    by: str = typer.Option("village", "--by", help="grid or village"),
    data_dir: Path | None = DataDirOption,
) -> None:
    """Print expected, sampled, resulted and positive people per village or grid, as JSON."""
    from cordon.auth import service as auth_service
    from cordon.screening import coverage

    settings = settings_for(data_dir)
    with command_session(settings) as session:
        actor = auth_service.actor_named(session=session, username=user, client_addr="cli")
        rows = coverage.coverage(session=session, actor=actor, round_id=round_id, by=by)
        progress = coverage.progress(session=session, actor=actor, round_id=round_id)
    _echo({"progress": progress.model_dump(), "rows": [r.model_dump() for r in rows]})


@app.command("missing")
def missing(
    round_id: int = typer.Argument(..., help="The round."),
    user: str = UserOption,
    out: Path = typer.Option(..., "--out", help="XLSX file to write."),
    grid: str | None = typer.Option(None, "--grid", help="One grid's list."),
    data_dir: Path | None = DataDirOption,
) -> None:
    """Write the people not yet sampled as XLSX for grid workers, masked as the role requires."""
    from cordon.auth import service as auth_service
    from cordon.screening import coverage

    settings = settings_for(data_dir)
    with command_session(settings) as session:
        rows = coverage.write_missing_xlsx(
            session=session,
            actor=auth_service.actor_named(session=session, username=user, client_addr="cli"),
            cipher=cipher_for(settings),
            round_id=round_id,
            grid_code=grid,
            path=out,
        )
    console.print(
        _("%(path)s: %(rows)s people written") % {"path": out, "rows": rows}, highlight=False
    )


@app.command("planner")
def pooling_planner(
    prevalence: float = typer.Option(..., "--prevalence", help="Estimated prevalence, e.g. 0.001"),
    user: str = UserOption,
    max_pool: int = typer.Option(20, "--max-pool", help="Largest pool the labs accept."),
    people: int = typer.Option(0, "--people", help="People to test (for totals; 0: none)."),
    lab_per_day: int | None = typer.Option(None, "--lab-per-day", help="Tests a day the labs run."),
    lake: Path | None = typer.Option(None, "--lake", help="Simulate on this lake."),
    day: int | None = typer.Option(None, "--day", help="With --lake: the sampling day."),
    data_dir: Path | None = DataDirOption,
) -> None:
    """Recommend a pool size, with tests per person beside fixed designs, as JSON.

    Compares Dorfman, 10-in-1, 20-in-1 and the entropy bound; with --day, also simulates a
    round over the lake's true infections."""
    from cordon.auth import service as auth_service
    from cordon.screening import planner
    from cordon.screening.schemas import PlannerIn

    settings = settings_for(data_dir)
    with command_session(settings) as session:
        actor = auth_service.actor_named(session=session, username=user, client_addr="cli")
        out = planner.recommend(
            actor=actor,
            query=PlannerIn(
                prevalence=prevalence, max_pool=max_pool, people=people, lab_per_day=lab_per_day
            ),
        ).model_dump()
    if day is not None:
        out["simulation"] = planner.simulate(
            lake=lake or settings.lake_dir, day=day, max_pool=max_pool, lab_per_day=lab_per_day
        )
    _echo(out)
