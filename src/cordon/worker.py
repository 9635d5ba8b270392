"""The job kinds every process knows, and the in-process runner the server starts.

Job kinds live with the slices that own the work (``trace/jobs.py``, ``codes/jobs.py``,
``screening/jobs.py``); importing them registers them with ``cordon.jobs``. The server runs
``settings.jobs_workers`` worker threads per process; several processes (gunicorn workers, or
``cordon jobs work`` on another machine) share one queue, since claiming a job is atomic.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from cordon.codes import jobs as codes_jobs
from cordon.config import Settings
from cordon.jobs.flows import Runner
from cordon.screening import jobs as screening_jobs
from cordon.security.crypto import FieldCipher
from cordon.trace import jobs as trace_jobs

KIND_MODULES = (trace_jobs, codes_jobs, screening_jobs)


def make_runner(
    *, factory: sessionmaker[Session], settings: Settings, cipher: FieldCipher, threads: int
) -> Runner:
    periodic: list[Callable[..., object]] = (
        [codes_jobs.schedule_refresh] if settings.codes_auto_refresh else []
    )
    return Runner(
        factory=factory, settings=settings, cipher=cipher, threads=threads, periodic=periodic
    )
