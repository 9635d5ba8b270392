"""Tracing's work off the request path, on a loaded simulated city: the case page answers at
once with a job and shows its progress; codes follow a push by themselves; the contact export
never answers 422 (small ones come at once, large ones as a job); a batch killed mid-run
resumes from its checkpoint and finishes without duplicates."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cordon import clock
from cordon.app import create_app
from cordon.config import Settings
from cordon.db import transaction
from cordon.facts.models import PersonFact
from cordon.jobs.flows import Runner, run_inline
from cordon.jobs.models import Job
from cordon.security.crypto import FieldCipher
from cordon.trace.models import Contact
from tests.conftest import UserMaker
from tests.helpers import wait_for_job
from tests.page_helpers import login, page_token
from tests.trace.test_stored import _register_first_cases, city, loaded  # noqa: F401

Tokens = Callable[..., dict[str, str]]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _rows(data: bytes) -> list[tuple[object, ...]]:
    """A contact export's header, then the rows of every list (a sheet each) in turn."""
    sheets = [list(s.iter_rows(values_only=True)) for s in load_workbook(io.BytesIO(data))]
    return sheets[0][:1] + [row for sheet in sheets for row in sheet[1:]]


def test_the_case_page_answers_at_once_with_a_job_and_shows_its_progress(
    client: TestClient,
    make_user: UserMaker,
    loaded: list[int],  # noqa: F811
    settings: Settings,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
) -> None:
    client.app.state.jobs.stop()  # type: ignore[attr-defined]  # this test runs the job itself
    make_user("epi", "epidemiologist", "450681")
    login(client, "epi")
    case_id = loaded[0]
    token = page_token(client, f"/cases/{case_id}")
    began = time.perf_counter()
    ran = client.post(
        f"/trace/cases/{case_id}/run",
        data={"csrf_token": token, "pack": "guangxi-2021-12"},
        follow_redirects=False,
    )
    answered = time.perf_counter() - began
    assert ran.status_code == 303, ran.text
    location = ran.headers["location"]
    assert location.startswith(f"/cases/{case_id}?job=")
    job_id = int(location.split("job=")[1].split("#")[0])
    print(f"case page answered in {answered * 1000:.0f} ms")
    listed = client.get(f"/api/v1/trace/contacts?case_id={case_id}").json()
    assert listed["total"] == 0, "the page answered before the trace: it returns a job"
    shown = client.get(f"/api/v1/jobs/{job_id}").json()
    assert shown["params"] == {"case_id": case_id, "pack": "guangxi-2021-12"}  # no server path

    panel = client.get(f"/trace/cases/{case_id}/panel", headers={"HX-Request": "true"})
    assert f'id="job-{job_id}"' in panel.text and "排队中" in panel.text
    assert f'hx-get="/jobs/{job_id}/progress?refresh=1"' in panel.text
    assert "disabled" in panel.text  # no second trace while one is on its way

    seen: list[tuple[int, int, str]] = []
    done = run_inline(
        factory=session_factory,
        settings=settings,
        cipher=cipher,
        job_id=job_id,
        on_progress=lambda d, t, m: seen.append((d, t, m)),
    )
    assert done is not None and done.status == "done", done
    assert [s[0] for s in seen] == [0, 1]  # tracing, then storing
    fragment = client.get(f"/jobs/{job_id}/progress?refresh=1")
    assert fragment.headers.get("HX-Refresh") == "true"
    stored = client.get(f"/api/v1/trace/contacts?case_id={case_id}").json()
    assert stored["counts"] == done.result["counts"] and stored["counts"]["close"] > 0
    panel = client.get(f"/trace/cases/{case_id}/panel")
    assert 'id="panel-contacts"' in panel.text and f'id="job-{job_id}"' not in panel.text


@pytest.fixture
def auto_codes(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """An app whose codes follow facts by themselves (the product's default)."""
    application = create_app(settings.model_copy(update={"codes_auto_refresh": True}))
    with TestClient(application) as test_client:
        yield test_client
    application.state.engine.dispose()


def test_after_a_push_a_close_contacts_code_turns_red_without_a_recompute(
    auto_codes: TestClient,
    make_user: UserMaker,
    loaded: list[int],  # noqa: F811
) -> None:
    client = auto_codes
    make_user("epi", "epidemiologist", "450681")
    make_user("chief", "commander", "450681")
    login(client, "epi")
    case_id = loaded[0]
    case = client.get(f"/api/v1/cases/{case_id}").json()
    clock.set_scenario(datetime.fromisoformat(case["isolated_at"]) + timedelta(days=1), pinned=True)
    try:
        started = client.post(f"/api/v1/trace/cases/{case_id}/job", headers=_csrf(client))
        assert started.status_code == 202, started.text
        assert wait_for_job(client, started.json()["id"])["status"] == "done"
        close = client.get(f"/api/v1/trace/contacts?case_id={case_id}&kind=close&limit=1000")
        person = next(c for c in close.json()["rows"] if c["tier"] == 1)["person_id"]
        assert client.get(f"/api/v1/codes/people/{person}").json()["stored_colour"] is None
        login(client, "chief")  # the commander pushes tier 1 (central quarantine)
        body = {"case_ids": [case_id], "tiers": [1]}
        pushed = client.post("/api/v1/trace/push", json=body, headers=_csrf(client))
        assert pushed.status_code == 201, pushed.text
        for _ in range(200):  # the refresh job runs shortly after the facts changed
            answer = client.get(f"/api/v1/codes/people/{person}")
            # While the refresh writes, a read that audits may wait on SQLite's one writer
            # and be told the database is busy (503): ask again, as a page would.
            code = answer.json() if answer.status_code == 200 else {"stored_colour": None}
            if code["stored_colour"] == "red":
                break
            time.sleep(0.05)
        assert code["stored_colour"] == "red", code
        refresh = [j for j in client.get("/api/v1/jobs").json() if j["kind"] == "codes.refresh"]
        assert refresh == [], "the system's refresh is not listed among a town's jobs"
    finally:
        clock.reset()


def _csrf(client: TestClient) -> dict[str, str]:
    from cordon.web.deps import CSRF_HEADER

    return {CSRF_HEADER: page_token(client, "/trace/contacts")}


def test_exports_never_answer_422_small_ones_come_at_once_large_ones_as_a_job(
    client: TestClient,
    make_user: UserMaker,
    loaded: list[int],  # noqa: F811
    settings: Settings,
) -> None:
    make_user("epi", "epidemiologist", "450681")
    login(client, "epi")
    for case_id in loaded:
        client.post(f"/api/v1/trace/cases/{case_id}", headers=_csrf(client))
    total = client.get("/api/v1/trace/contacts?limit=1").json()["total"]
    assert total > 0

    whole = client.get("/api/v1/trace/contacts.xlsx")  # unfiltered: was a 422
    assert whole.status_code == 200 and whole.headers["content-type"] == XLSX
    assert len(_rows(whole.content)) - 1 == total
    token = page_token(client, "/trace/contacts")
    direct = client.post("/trace/contacts/export", data={"csrf_token": token})
    assert direct.status_code == 200 and direct.headers["content-type"] == XLSX
    assert 'filename="contacts.xlsx"' in direct.headers["content-disposition"]

    bad = client.post("/trace/contacts/export", data={"csrf_token": token, "grid": "abc"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("text/html")
    assert "content-disposition" not in bad.headers and "<html" in bad.text

    client.app.state.settings.export_direct_rows = 10  # type: ignore[attr-defined]
    queued = client.get("/api/v1/trace/contacts.xlsx")
    assert queued.status_code == 202 and queued.headers["location"].startswith("/api/v1/jobs/")
    job = wait_for_job(client, queued.json()["id"])
    assert job["status"] == "done" and job["result"]["rows"] == total, job
    fetched = client.get(f"/api/v1/jobs/{job['id']}/result")
    assert fetched.status_code == 200 and len(_rows(fetched.content)) - 1 == total

    started = client.post("/trace/contacts/export", data={"csrf_token": token, "kind": "close"})
    assert started.status_code == 200 and "/jobs/" in str(started.url)
    job_id = int(str(started.url).rsplit("/", 1)[1])
    assert wait_for_job(client, job_id)["status"] == "done"
    page = client.get(f"/jobs/{job_id}")
    assert f'id="job-{job_id}-download"' in page.text and "下载" in page.text
    sheet = _rows(client.get(f"/jobs/{job_id}/download").content)
    assert {r[0] for r in sheet[1:]} == {"密切接触者"}  # worded in the reader's language
    listing = client.get("/trace/contacts")
    assert f'id="job-{job_id}"' in listing.text  # the contacts page shows its exports

    # Assist letters from the case page: a job, whose ZIP the case page then offers.
    case_id = loaded[0]
    home = client.get(f"/api/v1/cases/{case_id}").json()["division_code"][:9]
    make_user("town", "epidemiologist", home)
    login(client, "town")
    made = client.post(
        f"/trace/cases/{case_id}/letters",
        data={"csrf_token": page_token(client, f"/cases/{case_id}")},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    letters_id = int(made.headers["location"].split("job=")[1].split("#")[0])
    letters = wait_for_job(client, letters_id)
    assert letters["status"] == "done" and letters["result"]["letters"] >= 1, letters
    panel = client.get(f"/trace/cases/{case_id}/panel")
    assert f'id="job-{letters_id}-download"' in panel.text
    bundle = client.get(f"/jobs/{letters_id}/download")
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        assert archive.namelist() and all(n.endswith(".docx") for n in archive.namelist())


@pytest.fixture
def many_cases(
    city: Path,  # noqa: F811
    settings: Settings,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
) -> list[int]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.lake_dir.symlink_to(city, target_is_directory=True)
    return _register_first_cases(city, session_factory, cipher, 8)


def test_a_batch_killed_mid_run_resumes_from_its_checkpoint_without_duplicates(
    many_cases: list[int],
    settings: Settings,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
    make_user: UserMaker,
) -> None:
    from cordon.auth import service as auth_service
    from cordon.trace import jobs

    make_user("epi", "epidemiologist", "450681")
    with transaction(session_factory) as s:
        actor = auth_service.actor_named(session=s, username="epi", client_addr="test")
        job_id = jobs.start_batch(
            session=s,
            actor=actor,
            since=datetime.fromisoformat("2021-01-01T00:00:00+08:00"),
            pack_name="guangxi-2021-12",
            lake=settings.lake_dir,
        ).id
    env = {
        **os.environ,
        "CORDON_DATABASE_URL": settings.resolved_database_url,
        "CORDON_DATA_DIR": str(settings.data_dir),
        "CORDON_SESSION_KEY": "11" * 32,
        "CORDON_FIELD_KEY": "22" * 32,
        "CORDON_LOOKUP_KEY": "33" * 32,
        "CORDON_CODES_AUTO_REFRESH": "false",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "cordon", "jobs", "work", "--once"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def row() -> Job:
        with transaction(session_factory) as s:
            found = s.get(Job, job_id)
            assert found is not None
            s.expunge(found)
            return found

    try:
        deadline = time.monotonic() + 240
        while row().done < 1:
            assert worker.poll() is None, "the worker ended before its first group"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        worker.send_signal(signal.SIGKILL)  # a crash: no cleanup, the job stays "running"
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    crashed = row()
    assert crashed.status == "running" and 1 <= crashed.checkpoint["next"] < len(many_cases)

    # Another worker notices the silent heartbeat and resumes the job from its checkpoint.
    quick = settings.model_copy(update={"jobs_stale_seconds": 0.5})
    time.sleep(0.6)
    assert Runner(factory=session_factory, settings=quick, cipher=cipher).run_once("second")
    finished = row()
    assert finished.status == "done", finished.error
    assert finished.attempts == 2 and finished.done == finished.total == len(many_cases)
    with transaction(session_factory) as s:
        contacts = s.scalar(select(func.count()).select_from(Contact))
        pairs = s.scalar(
            select(func.count()).select_from(
                select(Contact.case_id, Contact.person_id).distinct().subquery()
            )
        )
        facts = s.scalar(
            select(func.count())
            .select_from(PersonFact)
            .where(PersonFact.source.startswith("trace:case:"))
        )
        retracted = s.scalar(
            select(func.count())
            .select_from(PersonFact)
            .where(
                PersonFact.source.startswith("trace:case:"), PersonFact.retracted_at.is_not(None)
            )
        )
    assert contacts == pairs and contacts > 0, "no contact stored twice"
    assert facts == 0 and retracted == 0, "a trace writes no facts: codes follow a push"
    assert finished.result["contacts"] > 0
