"""``cordon jobs …``: list and cancel jobs, and run a worker process outside the server."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import typer

from cordon.cli_support import (
    DataDirOption,
    _,
    cipher_for,
    command_session,
    command_sessions,
    console,
    settings_for,
)

app = typer.Typer(help="Background jobs: list, cancel, run a worker.", no_args_is_help=True)
UserOption = typer.Option(..., "--user", help="The user acting (scoped and audited).")


@app.command("list")
def list_jobs(user: str = UserOption, data_dir: Path | None = DataDirOption) -> None:
    """Recent jobs in the user's jurisdiction, newest first."""
    from cordon.auth import service as auth_service
    from cordon.jobs import service

    settings = settings_for(data_dir)
    with command_session(settings) as session:
        actor = auth_service.actor_named(session=session, username=user, client_addr="cli")
        found = service.recent(session=session, actor=actor)
    kinds = service.LABELS.kinds
    for job in found:
        kind, status = _(kinds.get(job.kind, job.kind)), _(service.STATUS_LABELS[job.status])
        said = _(job.message) if job.message else ""
        line = f"{job.id:>6}  {kind:<20} {status:<10} {job.done}/{job.total}  {said}"
        console.print(line, highlight=False)


@app.command("cancel")
def cancel(
    job_id: int = typer.Argument(..., help="The job."),
    user: str = UserOption,
    data_dir: Path | None = DataDirOption,
) -> None:
    """Stop a job: a queued one at once, a running one at its next step."""
    from cordon.auth import service as auth_service
    from cordon.jobs import service

    settings = settings_for(data_dir)
    with command_session(settings) as session:
        actor = auth_service.actor_named(session=session, username=user, client_addr="cli")
        job = service.cancel(session=session, actor=actor, job_id=job_id)
    said = _("job %(job)s: %(status)s") % {
        "job": job.id,
        "status": _(service.STATUS_LABELS[job.status]),
    }
    if job.cancel_requested:
        said += " " + _("(stopping)")
    console.print(said, highlight=False)


@app.command("work")
def work(
    threads: int = typer.Option(1, "--threads", min=1, max=16, help="Worker threads."),
    once: bool = typer.Option(False, "--once", help="Run the jobs due now, then stop."),
    data_dir: Path | None = DataDirOption,
) -> None:
    """Run queued jobs in this process (beside or instead of the server's own workers; set
    CORDON_JOBS_WORKERS=0 on the server to leave them all to workers like this one)."""
    from cordon.jobs.flows import worker_name
    from cordon.worker import make_runner

    settings = settings_for(data_dir)
    with command_sessions(settings) as factory:
        runner = make_runner(
            factory=factory, settings=settings, cipher=cipher_for(settings), threads=threads
        )
        if once:
            name = worker_name("once")
            while runner.run_once(name):
                pass
            return
        stop = threading.Event()

        def finish(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, finish)
        signal.signal(signal.SIGINT, finish)
        runner.start()
        running = _("job worker running (%(threads)s threads); Ctrl-C stops it")
        console.print(running % {"threads": threads}, highlight=False)
        stop.wait()
        runner.stop()
