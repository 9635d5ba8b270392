"""Batch tracing as a background job: a row others poll for progress, a thread doing the work.

Each group of cases is traced and stored in its own transaction together with the job's
progress, so a crash keeps every finished group and the job row says how far it got; SQLite
allows one writer, so the progress must ride in the same transaction as the group's writes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cordon.auth.schemas import Actor
from cordon.auth.service import require
from cordon.db import transaction, utcnow
from cordon.errors import CordonError, NotFound, Problem
from cordon.protocols import packs
from cordon.trace import service
from cordon.trace.duckdb_store import DuckDBStore
from cordon.trace.models import TraceJob
from cordon.trace.schemas import JobOut

log = logging.getLogger(__name__)


def _out(job: TraceJob) -> JobOut:
    return JobOut.model_validate(job, from_attributes=True)


def create(
    *, session: Session, actor: Actor, since: datetime, pack_name: str, lake: Path
) -> tuple[JobOut, list[int]]:
    """Check everything a run needs (pack, lake, cases) and queue the job."""
    require(actor, "trace:run")
    packs.load(pack_name)
    DuckDBStore(lake)  # refuses a missing, empty or foreign lake before anything is queued
    case_ids = service.cases_since(session=session, actor=actor, since=since)
    job = TraceJob(
        since=since,
        pack=pack_name,
        jurisdiction=actor.jurisdiction,
        started_by=actor.username,
        total_cases=len(case_ids),
    )
    session.add(job)
    session.flush()
    return _out(job), case_ids


def get(*, session: Session, actor: Actor, job_id: int) -> JobOut:
    require(actor, "cases:view")
    job = session.get(TraceJob, job_id)
    if job is None or not job.jurisdiction.startswith(actor.jurisdiction):
        raise NotFound(
            "no job %(job_id)s",
            params=dict(job_id=job_id),
            problems=[Problem("job_id", "unknown job")],
        )
    return _out(job)


def recent(*, session: Session, actor: Actor, limit: int = 10) -> list[JobOut]:
    require(actor, "cases:view")
    rows = session.scalars(
        select(TraceJob)
        .where(TraceJob.jurisdiction.startswith(actor.jurisdiction))
        .order_by(TraceJob.id.desc())
        .limit(limit)
    )
    return [_out(j) for j in rows]


def run(
    *,
    factory: sessionmaker[Session],
    actor: Actor,
    job_id: int,
    case_ids: list[int],
    lake: Path,
    progress: Callable[[int, int], None] | None = None,
) -> JobOut | None:
    """Trace the job's cases group by group, storing each group with the job's progress."""
    with transaction(factory) as session:
        job = session.get(TraceJob, job_id)
        if job is None:
            return None
        job.status = "running"
        pack_name, since = job.pack, job.since
    people: set[int] = set()
    try:
        for start in range(0, len(case_ids), service.BATCH_SIZE):
            group = case_ids[start : start + service.BATCH_SIZE]
            with transaction(factory) as session:
                _cases, contacts, _span = service.trace_cases(
                    session=session, actor=actor, case_ids=group, lake=lake, pack_name=pack_name
                )
                people.update(c.person_id for c in contacts)
                job = session.get(TraceJob, job_id)
                if job is not None:
                    job.done_cases = start + len(group)
                    job.contacts = len(people)
            if progress is not None:
                progress(start + len(group), len(case_ids))
        status, error = "done", ""
    except CordonError as exc:
        status, error = "failed", str(exc)[:500]
    except Exception as exc:  # the thread must record why it stopped; the log keeps the trace
        log.exception("trace job %s failed (since %s)", job_id, since)
        status, error = "failed", f"internal error: {type(exc).__name__}"
    with transaction(factory) as session:
        job = session.get(TraceJob, job_id)
        if job is not None:
            job.status, job.error, job.finished_at = status, error, utcnow()
            return _out(job)
    return None


def start_in_background(
    *,
    factory: sessionmaker[Session],
    actor: Actor,
    job_id: int,
    case_ids: list[int],
    lake: Path,
) -> threading.Thread:
    thread = threading.Thread(
        target=run,
        kwargs={
            "factory": factory,
            "actor": actor,
            "job_id": job_id,
            "case_ids": case_ids,
            "lake": lake,
        },
        name=f"trace-job-{job_id}",
        daemon=True,
    )
    thread.start()
    return thread
