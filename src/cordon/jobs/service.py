"""Jobs: submit, find, cancel, and the worker's side (claim, progress, requeue, finish).

Job kinds are registered by the slices that own the work (``register``): a kind names the
permission needed to start it and a handler the runner calls. Claiming is one conditional
``UPDATE ... WHERE status = 'queued'`` per candidate, so of several worker processes exactly
one gets a job on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cordon import clock
from cordon.auth import service as auth_service
from cordon.auth.schemas import Actor
from cordon.auth.service import require
from cordon.db import utcnow
from cordon.errors import Forbidden, NotFound, Problem
from cordon.jobs.models import Job
from cordon.jobs.schemas import FINISHED, JobOut
from cordon.web.i18n import N_

if TYPE_CHECKING:
    from cordon.jobs.flows import JobContext

Handler = Callable[["JobContext"], dict[str, Any]]
LIST_LIMIT = 50


@dataclass(frozen=True)
class Kind:
    name: str
    permission: str  # to start it; seeing a job needs only its jurisdiction (and its owner)
    handler: Handler
    label: str = ""  # shown on pages (a message id, translated there)


KINDS: dict[str, Kind] = {}
STATUS_LABELS = {
    "queued": N_("Queued"),
    "running": N_("Running"),
    "done": N_("Done"),
    "failed": N_("Failed"),
    "cancelled": N_("Cancelled"),
}


class _Labels:
    """Message ids pages translate: ``status[...]`` and ``kinds[...]`` (registered kinds)."""

    status = STATUS_LABELS

    @property
    def kinds(self) -> dict[str, str]:
        return {name: kind.label or name for name, kind in KINDS.items()}


LABELS = _Labels()


def register(kind: Kind) -> Kind:
    KINDS[kind.name] = kind
    return kind


def wall() -> float:
    """Wall-clock seconds for scheduling and heartbeats (never domain time)."""
    return clock.real_time()


# Kept for the worker, not shown: server paths and long id lists (a batch's cases).
PRIVATE_PARAMS = frozenset({"lake", "cases"})


def _out(job: Job) -> JobOut:
    out = JobOut.model_validate(job)
    out.params = {k: v for k, v in out.params.items() if k not in PRIVATE_PARAMS}
    return out


def submit(
    *,
    session: Session,
    actor: Actor,
    kind: str,
    params: dict[str, Any] | None = None,
    subject: str = "",
    total: int = 0,
    message: str = "",
    key: str | None = None,
    delay: float = 0.0,
) -> JobOut:
    """Queue a job of ``kind`` run as ``actor``. With ``key``, a job of that kind already
    queued with the same key is returned instead of a second one (debounced work)."""
    spec = KINDS.get(kind)
    if spec is None:
        raise NotFound(f"no job kind {kind!r}", problems=[Problem("kind", "unknown job kind")])
    require(actor, spec.permission)
    if key is not None:
        queued = session.scalar(
            select(Job).where(Job.kind == kind, Job.status == "queued", Job.subject == key).limit(1)
        )
        if queued is not None:
            return _out(queued)
    job = Job(
        kind=kind,
        params=params or {},
        user_id=actor.user_id,
        username=actor.username,
        role=actor.role,
        permissions=sorted(actor.permissions),
        jurisdiction=actor.jurisdiction,
        subject=key if key is not None else subject,
        total=total,
        message=message,
        run_after=wall() + delay,
    )
    session.add(job)
    session.flush()
    return _out(job)


def _visible(job: Job | None, actor: Actor, job_id: int) -> Job:
    if job is None or not job.jurisdiction.startswith(actor.jurisdiction):
        raise NotFound(f"no job {job_id}", problems=[Problem("job_id", "unknown job")])
    return job


def get(*, session: Session, actor: Actor, job_id: int) -> JobOut:
    return _out(_visible(session.get(Job, job_id), actor, job_id))


def recent(
    *,
    session: Session,
    actor: Actor,
    kind: str | None = None,
    subject: str | None = None,
    limit: int = LIST_LIMIT,
) -> list[JobOut]:
    """Jobs in the actor's jurisdiction, newest first."""
    query = select(Job).where(Job.jurisdiction.startswith(actor.jurisdiction))
    if kind:
        query = query.where(Job.kind == kind)
    if subject:
        query = query.where(Job.subject == subject)
    return [_out(j) for j in session.scalars(query.order_by(Job.id.desc()).limit(limit))]


def latest(*, session: Session, actor: Actor, kind: str, subject: str) -> JobOut | None:
    found = recent(session=session, actor=actor, kind=kind, subject=subject, limit=1)
    return found[0] if found else None


def cancel(*, session: Session, actor: Actor, job_id: int) -> JobOut:
    """Ask a job to stop: a queued one is cancelled at once, a running one at its next step."""
    job = _visible(session.get(Job, job_id), actor, job_id)
    if job.username != actor.username and not actor.can("users:manage"):
        raise Forbidden("only the user who started a job (or an administrator) may cancel it")
    if job.status == "queued":
        job.status, job.finished_at = "cancelled", utcnow()
    elif job.status == "running":
        job.cancel_requested = True
    session.flush()
    return _out(job)


def result_file(*, session: Session, actor: Actor, job_id: int, root: Path) -> tuple[Path, str]:
    """A finished job's file (an export) and its download name; only its owner may fetch it,
    since it holds personal data masked for the owner's role."""
    job = _visible(session.get(Job, job_id), actor, job_id)
    name = job.result.get("file")
    if job.status != "done" or not name:
        raise NotFound(f"job {job_id} has no file", problems=[Problem("job_id", "no file")])
    if job.username != actor.username:
        raise Forbidden("only the user who started an export may download it")
    path = files_dir(root, job_id) / str(name)
    if not path.is_file():
        raise NotFound(f"job {job_id}'s file is gone", problems=[Problem("job_id", "no file")])
    return path, str(job.result.get("download") or name)


def files_dir(root: Path, job_id: int) -> Path:
    return root / "jobs" / str(job_id)


# --- The worker's side ----------------------------------------------------------------------


def claim(*, session: Session, worker: str, now: float | None = None) -> int | None:
    """Take the oldest due queued job for ``worker``; None when there is none. Each candidate
    is taken by a conditional update, so two workers never both win the same job."""
    at = wall() if now is None else now
    candidates = session.scalars(
        select(Job.id).where(Job.status == "queued", Job.run_after <= at).order_by(Job.id).limit(5)
    ).all()
    for job_id in candidates:
        taken = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(status="running", worker=worker, heartbeat=at, attempts=Job.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            job = session.get(Job, job_id, populate_existing=True)
            if job is not None and job.started_at is None:
                job.started_at = utcnow()
            session.flush()
            return job_id
    return None


def claim_one(*, session: Session, job_id: int, worker: str) -> bool:
    """Take this queued job (a CLI command running its own job inline)."""
    taken = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "queued")
        .values(status="running", worker=worker, heartbeat=wall(), attempts=Job.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return False
    job = session.get(Job, job_id, populate_existing=True)
    if job is not None and job.started_at is None:
        job.started_at = utcnow()
    session.flush()
    return True


def requeue_stale(*, session: Session, stale_seconds: float, now: float | None = None) -> int:
    """Running jobs whose worker stopped beating (it crashed) go back to the queue; they resume
    from their checkpoint. A job cancelled while its worker was dead ends cancelled."""
    at = wall() if now is None else now
    dead = Job.status == "running", Job.heartbeat < at - stale_seconds
    # A read first: an idle poll must not take SQLite's write lock every second.
    if session.scalar(select(Job.id).where(*dead).limit(1)) is None:
        return 0
    cancelled = session.execute(
        update(Job)
        .where(*dead, Job.cancel_requested.is_(True))
        .values(status="cancelled", finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    requeued = session.execute(
        update(Job)
        .where(*dead)
        .values(status="queued", worker="", message=N_("Resumed after a worker stopped"))
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return int(requeued.rowcount or 0) + int(cancelled.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    params: dict[str, Any]
    checkpoint: dict[str, Any]
    actor: Actor
    attempts: int


def load_claimed(*, session: Session, job_id: int, client_addr: str = "job") -> Claimed:
    """The claimed job with the actor it runs as: a user's current role and jurisdiction (a
    disabled or deleted user's job fails), or the stored ones for system jobs."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    if job.user_id is not None:
        actor = auth_service.actor_named(
            session=session, username=job.username, client_addr=client_addr
        )
    else:
        actor = Actor(
            user_id=None,
            username=job.username,
            role=job.role,
            jurisdiction=job.jurisdiction,
            permissions=frozenset(job.permissions),
            client_addr=client_addr,
        )
    return Claimed(job.id, job.kind, dict(job.params), dict(job.checkpoint), actor, job.attempts)


def beat(
    *,
    session: Session,
    job_id: int,
    worker: str,
    done: int | None = None,
    total: int | None = None,
    message: str | None = None,
    checkpoint: dict[str, Any] | None = None,
) -> bool:
    """Record the worker's heartbeat (and progress, if given); True if cancel was asked.
    A worker that lost the job (requeued after it looked dead) is told to stop too."""
    job = session.get(Job, job_id, populate_existing=True)
    if job is None or job.status != "running" or job.worker != worker:
        return True
    job.heartbeat = wall()
    if done is not None:
        job.done = done
    if total is not None:
        job.total = total
    if message is not None:
        job.message = message[:200]
    if checkpoint is not None:
        job.checkpoint = checkpoint
    session.flush()
    return job.cancel_requested


def finish(
    *,
    session: Session,
    job_id: int,
    worker: str,
    status: str,
    result: dict[str, Any] | None = None,
    error: str = "",
    message: str | None = None,
) -> JobOut | None:
    job = session.get(Job, job_id, populate_existing=True)
    if job is None or job.status in FINISHED or job.worker != worker:
        return None
    job.status, job.error, job.finished_at = status, error[:500], utcnow()
    if result is not None:
        job.result = result
    if status == "done":
        job.done = max(job.done, job.total)
    if message is not None:
        job.message = message[:200]
    session.flush()
    return _out(job)
