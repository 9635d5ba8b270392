"""Runs jobs: worker threads in the server process (the default), or inline for a CLI command.

Each job runs as the user who started it. Its handler gets a ``JobContext`` and reports
progress through it; every report commits in its own short transaction (SQLite allows one
writer), or rides in the handler's own transaction when it passes its session, so a step's
writes and its checkpoint commit together. A report also checks for cancellation, and a
heartbeat thread keeps the job alive during a long step. On start and every few seconds a
worker requeues jobs whose heartbeat stopped (their process died); they resume from their
checkpoint, so every job kind's steps must be safe to run again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from cordon.auth.schemas import Actor
from cordon.config import Settings
from cordon.db import transaction
from cordon.errors import CordonError
from cordon.jobs import service
from cordon.jobs.schemas import JobOut
from cordon.security.crypto import FieldCipher

log = logging.getLogger(__name__)
Progress = Callable[[int, int, str], None]


class JobCancelled(Exception):
    """Raised inside a handler when its job was cancelled (or taken by another worker)."""


@dataclass
class JobContext:
    job_id: int
    kind: str
    params: dict[str, Any]
    checkpoint: dict[str, Any]
    actor: Actor
    factory: sessionmaker[Session]
    settings: Settings
    cipher: FieldCipher
    worker: str
    attempts: int = 1
    on_progress: Progress | None = None
    done: int = 0
    total: int = 0

    def progress(
        self,
        done: int,
        total: int | None = None,
        message: str = "",
        *,
        checkpoint: dict[str, Any] | None = None,
        session: Session | None = None,
    ) -> None:
        """Record how far the job got (and where to resume); raise JobCancelled if asked to
        stop. With ``session``, the report joins that transaction (the step's own writes)."""
        self.done, self.total = done, self.total if total is None else total
        if checkpoint is not None:
            self.checkpoint = checkpoint
        report = partial(
            service.beat,
            job_id=self.job_id,
            worker=self.worker,
            done=done,
            total=total,
            message=message,
            checkpoint=checkpoint,
        )
        if session is not None:
            stop = report(session=session)
        else:
            with transaction(self.factory) as own:
                stop = report(session=own)
        if self.on_progress is not None:
            self.on_progress(self.done, self.total, message)
        if stop:
            raise JobCancelled()

    def check(self) -> None:
        """Raise JobCancelled if the job was asked to stop (between steps)."""
        with transaction(self.factory) as session:
            stop = service.beat(session=session, job_id=self.job_id, worker=self.worker)
        if stop:
            raise JobCancelled()

    def file(self, name: str) -> Path:
        """Where the job writes its downloadable file."""
        folder = service.files_dir(self.settings.data_dir, self.job_id)
        folder.mkdir(parents=True, exist_ok=True)
        return folder / name


@contextmanager
def _heartbeat(
    factory: sessionmaker[Session], job_id: int, worker: str, every: float
) -> Iterator[None]:
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            try:
                with transaction(factory) as session:
                    service.beat(session=session, job_id=job_id, worker=worker)
            except OperationalError:  # the step holds SQLite's write lock: beat again later
                log.debug("heartbeat of job %s waited for the database", job_id)

    thread = threading.Thread(target=beat, name=f"job-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every + 1)


def execute(
    *,
    factory: sessionmaker[Session],
    settings: Settings,
    cipher: FieldCipher,
    job_id: int,
    worker: str,
    on_progress: Progress | None = None,
) -> JobOut | None:
    """Run one claimed job to its end (done, failed or cancelled) and record the outcome."""
    status, result, error = "failed", None, ""
    try:
        with transaction(factory) as session:
            claimed = service.load_claimed(session=session, job_id=job_id)
        kind = service.KINDS.get(claimed.kind)
        if kind is None:
            raise CordonError(f"no job kind {claimed.kind!r} in this process")
        context = JobContext(
            job_id=job_id,
            kind=claimed.kind,
            params=claimed.params,
            checkpoint=claimed.checkpoint,
            actor=claimed.actor,
            factory=factory,
            settings=settings,
            cipher=cipher,
            worker=worker,
            attempts=claimed.attempts,
            on_progress=on_progress,
        )
        with _heartbeat(factory, job_id, worker, settings.jobs_heartbeat_seconds):
            result = kind.handler(context)
        status = "done"
    except JobCancelled:
        status = "cancelled"
    except CordonError as exc:
        error = exc.message
        if exc.problems:
            error += ": " + "; ".join(p.message for p in exc.problems[:5])
    except Exception as exc:  # the row must say why it stopped; the log keeps the traceback
        log.exception("job %s failed", job_id)
        error = f"internal error: {type(exc).__name__}"
    with transaction(factory) as session:
        return service.finish(
            session=session, job_id=job_id, worker=worker, status=status, result=result, error=error
        )


def worker_name(suffix: str = "") -> str:
    return f"{socket.gethostname()}:{os.getpid()}{':' + suffix if suffix else ''}"


def run_inline(
    *,
    factory: sessionmaker[Session],
    settings: Settings,
    cipher: FieldCipher,
    job_id: int,
    on_progress: Progress | None = None,
) -> JobOut | None:
    """Claim this queued job and run it in the calling thread (CLI commands, with Rich)."""
    worker = worker_name("inline")
    with transaction(factory) as session:
        taken = service.claim_one(session=session, job_id=job_id, worker=worker)
    if not taken:
        return None
    return execute(
        factory=factory,
        settings=settings,
        cipher=cipher,
        job_id=job_id,
        worker=worker,
        on_progress=on_progress,
    )


@dataclass
class Runner:
    """Worker threads that claim and run queued jobs until stopped."""

    factory: sessionmaker[Session]
    settings: Settings
    cipher: FieldCipher
    threads: int = 1
    # Called with a session at every poll, before claiming (e.g. queue a codes refresh).
    periodic: list[Callable[..., object]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _wake: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for number in range(self.threads):
            thread = threading.Thread(
                target=self._loop, args=(worker_name(f"t{number}"),), daemon=True
            )
            thread.name = f"cordon-jobs-{number}"
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """A job was just queued in this process: look now instead of at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=timeout)
        self._threads.clear()

    def run_once(self, worker: str) -> bool:
        """Requeue dead jobs, then claim and run one; False when nothing was due."""
        with transaction(self.factory) as session:
            service.requeue_stale(session=session, stale_seconds=self.settings.jobs_stale_seconds)
            for task in self.periodic:
                task(session=session)
            job_id = service.claim(session=session, worker=worker)
        if job_id is None:
            return False
        execute(
            factory=self.factory,
            settings=self.settings,
            cipher=self.cipher,
            job_id=job_id,
            worker=worker,
        )
        return True

    def _loop(self, worker: str) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once(worker)
            except Exception:  # a database hiccup must not end the worker
                log.exception("job worker %s: poll failed", worker)
                busy = False
            if not busy:
                self._wake.wait(self.settings.jobs_poll_seconds)
                self._wake.clear()


def dispatch(app: Any, session: Session, job: JobOut) -> JobOut:
    """Commit the request's transaction, so workers see the job, and wake this process's
    runner (it looks now, not at its next poll). Routes that start a job end with this."""
    session.commit()
    runner = getattr(app.state, "jobs", None)
    if isinstance(runner, Runner):
        runner.wake()
    return job
