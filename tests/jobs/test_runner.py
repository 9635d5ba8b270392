"""The job runner: progress visible while a job runs, cancel, atomic claims across workers,
resume after a worker died, the jobs pages and who may fetch a job's file.

The machinery is exercised with a job kind of this module whose steps wait on a gate the test
opens, so "while it runs" is a fact, not a race; the real kinds are tested with their slices.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from cordon.config import Settings
from cordon.db import transaction
from cordon.jobs import service
from cordon.jobs.flows import JobContext, Runner, execute
from cordon.jobs.models import Job
from cordon.security.crypto import FieldCipher
from tests.conftest import UserMaker
from tests.helpers import make_actor
from tests.page_helpers import login, page_token

KIND = "test.steps"
GATES: dict[int, threading.Event] = {}
RAN: list[tuple[int, int]] = []  # (job, step) each time a step ran


def _steps(ctx: JobContext) -> dict[str, Any]:
    total = int(ctx.params.get("steps", 3))
    for step in range(int(ctx.checkpoint.get("next", 0)), total):
        gate = GATES.get(ctx.job_id)
        if gate is not None and step >= int(ctx.params.get("wait_from", 1)):
            gate.wait(20)
        RAN.append((ctx.job_id, step))
        ctx.progress(step + 1, total, "step", checkpoint={"next": step + 1})
    return {"steps": total}


service.register(service.Kind(KIND, "cases:view", _steps, "Test steps"))


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    yield
    for gate in GATES.values():
        gate.set()
    GATES.clear()
    RAN.clear()


def _submit(factory: sessionmaker[Session], username: str = "tester", **params: Any) -> int:
    with transaction(factory) as s:
        return service.submit(
            session=s,
            actor=make_actor(jurisdiction="450681", username=username),
            kind=KIND,
            params=params,
        ).id


def _until(check: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def _job(factory: sessionmaker[Session], job_id: int) -> Job:
    with transaction(factory) as s:
        job = s.get(Job, job_id)
        assert job is not None
        s.expunge(job)
        return job


def test_progress_is_visible_while_the_job_runs_and_it_ends_done(
    client: TestClient,
    token_for: Callable[..., dict[str, str]],
    session_factory: sessionmaker[Session],
) -> None:
    headers = token_for("epi", "epidemiologist", "450681")
    job_id = _submit(session_factory, username="epi", steps=3)
    GATES[job_id] = threading.Event()
    client.app.state.jobs.wake()  # type: ignore[attr-defined]
    _until(lambda: _job(session_factory, job_id).done == 1)
    running = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
    assert running["status"] == "running" and (running["done"], running["total"]) == (1, 3)
    assert running["message"] == "step" and running["started_at"] is not None
    GATES[job_id].set()
    _until(lambda: _job(session_factory, job_id).status == "done")
    done = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
    assert done["done"] == 3 and done["result"] == {"steps": 3} and done["finished_at"]
    listed = client.get("/api/v1/jobs", headers=headers).json()
    assert [j["id"] for j in listed] == [job_id]
    assert client.get("/api/v1/jobs", headers=token_for("far", "admin", "450681101")).json() == []


def test_cancel_stops_a_running_job_at_its_next_step_and_a_queued_one_at_once(
    client: TestClient,
    token_for: Callable[..., dict[str, str]],
    session_factory: sessionmaker[Session],
) -> None:
    headers = token_for("epi", "epidemiologist", "450681")
    job_id = _submit(session_factory, username="epi", steps=5)
    GATES[job_id] = threading.Event()
    client.app.state.jobs.wake()  # type: ignore[attr-defined]
    _until(lambda: _job(session_factory, job_id).done == 1)
    other = token_for("other", "epidemiologist", "450681")
    assert client.post(f"/api/v1/jobs/{job_id}/cancel", headers=other).status_code == 403
    asked = client.post(f"/api/v1/jobs/{job_id}/cancel", headers=headers).json()
    assert asked["status"] == "running" and asked["cancel_requested"] is True
    GATES[job_id].set()
    _until(lambda: _job(session_factory, job_id).status == "cancelled")
    assert [s for j, s in RAN if j == job_id] == [0, 1], "no step after the cancel was seen"

    client.app.state.jobs.stop()  # type: ignore[attr-defined]
    queued = _submit(session_factory, username="epi")
    gone = client.post(f"/api/v1/jobs/{queued}/cancel", headers=headers).json()
    assert gone["status"] == "cancelled" and gone["finished_at"]


def test_of_many_workers_exactly_one_claims_each_job(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    ids = {_submit(session_factory) for _ in range(30)}
    claimed: list[tuple[str, int]] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        while True:
            with transaction(session_factory) as s:
                job_id = service.claim(session=s, worker=name)
            if job_id is None:
                return
            with lock:
                claimed.append((name, job_id))

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(j for _w, j in claimed) == sorted(ids)


def test_a_job_whose_worker_died_is_requeued_and_resumes_from_its_checkpoint(
    settings: Settings, session_factory: sessionmaker[Session], cipher: FieldCipher
) -> None:
    job_id = _submit(session_factory, steps=4)
    GATES[job_id] = threading.Event()  # the first worker stops at step 1 (and "dies")
    with transaction(session_factory) as s:
        assert service.claim(session=s, worker="dead") == job_id
    first = threading.Thread(
        target=execute,
        kwargs={
            "factory": session_factory,
            "settings": settings,
            "cipher": cipher,
            "job_id": job_id,
            "worker": "dead",
        },
        daemon=True,
    )
    first.start()
    _until(lambda: _job(session_factory, job_id).done == 1)
    # Its heartbeat stops: seen from another worker, the job is stale.
    with transaction(session_factory) as s:
        s.execute(update(Job).where(Job.id == job_id).values(heartbeat=service.wall() - 3600))
    with transaction(session_factory) as s:
        assert service.requeue_stale(session=s, stale_seconds=settings.jobs_stale_seconds) == 1
    GATES.pop(job_id).set()  # the dead worker's late report is refused: it lost the job
    first.join(10)
    assert _job(session_factory, job_id).status == "queued"
    runner = Runner(factory=session_factory, settings=settings, cipher=cipher)
    assert runner.run_once("alive")
    job = _job(session_factory, job_id)
    assert job.status == "done" and job.worker == "alive" and job.attempts == 2
    assert job.done == 4 and job.result == {"steps": 4}
    alive_steps = [s for j, s in RAN if j == job_id]
    assert alive_steps.count(0) == 1, "the finished step was not run again"
    assert sorted(set(alive_steps)) == [0, 1, 2, 3]


def test_the_jobs_page_lists_progress_with_cancel_and_the_file_is_the_owners(
    client: TestClient,
    make_user: UserMaker,
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    client.app.state.jobs.stop()  # type: ignore[attr-defined]
    make_user("epi", "epidemiologist", "450681")
    login(client, "epi")
    job_id = _submit(session_factory, username="epi")
    page = client.get("/jobs")
    assert page.status_code == 200 and 'id="job-table"' in page.text
    assert f'hx-get="/jobs/{job_id}/progress"' in page.text and "排队中" in page.text
    assert f'action="/jobs/{job_id}/cancel"' in page.text
    fragment = client.get(f"/jobs/{job_id}/progress?refresh=1")
    assert "<html" not in fragment.text and "HX-Refresh" not in fragment.headers
    cancelled = client.post(
        f"/jobs/{job_id}/cancel", data={"csrf_token": page_token(client, "/jobs")}
    )
    assert cancelled.status_code == 200 and "已取消" in cancelled.text
    finished = client.get(f"/jobs/{job_id}/progress?refresh=1")
    assert finished.headers["HX-Refresh"] == "true"  # the embedding page reloads with results

    # A finished export's file: its owner downloads it, nobody else.
    with transaction(session_factory) as s:
        s.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status="done", result={"file": "x.xlsx", "download": "contacts.xlsx"})
        )
    folder = service.files_dir(settings.data_dir, job_id)
    folder.mkdir(parents=True)
    (folder / "x.xlsx").write_bytes(b"PK data")
    got = client.get(f"/jobs/{job_id}/download")
    assert got.status_code == 200 and got.content == b"PK data"
    assert 'filename="contacts.xlsx"' in got.headers["content-disposition"]
    make_user("boss", "admin", "450681")
    login(client, "boss")
    refused = client.get(f"/jobs/{job_id}/download")
    assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
