"""One row per background job: what to do, who asked, how far it got, and how it ended.

The row is the job's whole state: a worker claims it, commits progress and a checkpoint as it
goes, and a job whose worker died (a stale heartbeat) is queued again and resumes from its
checkpoint. ``run_after`` and ``heartbeat`` are wall-clock seconds (scheduling and liveness,
not domain time: a pinned scenario clock must not stop a worker noticing a dead peer).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cordon.db import Base, utcnow


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_run_after", "status", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Who asked: rebuilt into the actor the job runs as (a user's current role when it runs).
    user_id: Mapped[int | None] = mapped_column(default=None)
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32), default="")
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    jurisdiction: Mapped[str] = mapped_column(String(12), index=True)
    # What the job is about, for pages that show "their" jobs (e.g. "case:12", "round:3").
    subject: Mapped[str] = mapped_column(String(80), default="", index=True)
    status: Mapped[str] = mapped_column(String(12), default="queued")  # queued|running|done|...
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(String(200), default="")
    checkpoint: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(String(500), default="")
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(default=0)
    worker: Mapped[str] = mapped_column(String(80), default="")
    run_after: Mapped[float] = mapped_column(Float, default=0.0)
    heartbeat: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
