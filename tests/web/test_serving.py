"""A real `cordon serve` (gunicorn, two uvicorn workers, SQLite) on a free port: limits hold
across the workers under concurrency, a forged X-Forwarded-For does not beat them, public
lookups answer while another connection holds SQLite's write lock, a staff write behind that
lock gets a prompt 503 instead of hanging, and every lookup is in the audit trail after a
graceful stop."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cordon.audit.models import AuditEntry
from cordon.auth import service as auth_service
from cordon.auth.rules import Role
from cordon.auth.schemas import UserIn
from cordon.db import make_engine, make_session_factory, transaction
from cordon.geo import service as geo_service
from cordon.models import Base
from cordon.people import service as people_service
from cordon.people.schemas import PersonIn
from cordon.security.crypto import FieldCipher
from tests.conftest import GRIDS, PASSWORD
from tests.helpers import id_number, make_actor, person

KEYS = {"CORDON_FIELD_KEY": "22" * 32, "CORDON_LOOKUP_KEY": "33" * 32}
NUMBER = id_number(order=151)
CODE_LIMIT = 10


@dataclass
class Served:
    base: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    person_id: int

    def post(self, path: str, body: dict[str, str], headers: dict[str, str] | None = None):
        return _call(f"{self.base}{path}", json.dumps(body).encode(), headers or {})

    def get(self, path: str, headers: dict[str, str] | None = None):
        return _call(f"{self.base}{path}", None, headers or {})


def _call(url: str, data: bytes | None, headers: dict[str, str]) -> tuple[int, dict, float]:
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", **headers}
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, head = answer.status, {k.lower(): v for k, v in answer.headers.items()}
    except urllib.error.HTTPError as refused:
        status, head = refused.code, {k.lower(): v for k, v in refused.headers.items()}
    return status, head, time.monotonic() - started


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(data_dir: Path) -> int:
    engine = make_engine(f"sqlite:///{data_dir / 'cordon.db'}")
    Base.metadata.create_all(engine)
    cipher = FieldCipher(field_key=bytes.fromhex("22" * 32), lookup_key=bytes.fromhex("33" * 32))
    with transaction(make_session_factory(engine)) as session:
        geo_service.load_divisions(session=session)
        for grid in GRIDS:
            geo_service.add_grid(session=session, grid=grid)
        pid = people_service.create_person(
            session=session,
            actor=make_actor(),
            cipher=cipher,
            data=PersonIn(**person(id_number=NUMBER)),
        ).id
        auth_service.create_user(
            session=session,
            user=UserIn(username="staff", password=PASSWORD, role=Role.ADMIN, jurisdiction="45"),
        )
    engine.dispose()
    return pid


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data_dir = tmp_path_factory.mktemp("served")
    pid = _seed(data_dir)
    port = _free_port()
    env = {
        **os.environ,
        **KEYS,
        "CORDON_DATA_DIR": str(data_dir),
        "CORDON_CODE_LOOKUP_PER_MINUTE": str(CODE_LIMIT),
        "CORDON_SQLITE_BUSY_MS": "1000",
        "CORDON_AUDIT_BATCH_MS": "100",
    }
    env.pop("CORDON_DATABASE_URL", None)
    env.pop("CORDON_REDIS_URL", None)
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "cordon", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # the CLI imports every slice; a busy machine is slow
    while True:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("server did not start: " + (data_dir / "server.log").read_text())
            time.sleep(0.1)
    while _children(process.pid) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)  # the second worker may still be starting
    yield Served(base=base, data_dir=data_dir, process=process, person_id=pid)
    if process.poll() is None:  # a test failed before the graceful stop: stop it now
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    log.close()


def _children(pid: int) -> int:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return len(out.stdout.split())


def test_screening_lookups_in_a_concurrent_burst_respect_the_limit_across_workers(
    served: Served,
) -> None:
    assert _children(served.process.pid) == 2
    body = {"id_number": id_number(order=333), "name": "不是我"}
    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(pool.map(lambda _: served.post("/api/v1/screening/lookup", body), range(40)))
    statuses = [status for status, _, _ in answers]
    # 5 per number: exactly 5 answered (as misses), the rest refused, none failed.
    assert statuses.count(200) == 5, statuses
    assert statuses.count(429) == 35, statuses
    refused = next(head for status, head, _ in answers if status == 429)
    assert 0 < int(refused["retry-after"]) <= 15 * 60


def test_a_forged_forwarded_for_does_not_move_a_request_to_another_allowance(
    served: Served,
) -> None:
    body = {"id_number": NUMBER, "name": "黄志明"}
    statuses = [
        served.post("/api/v1/codes/lookup", body, {"X-Forwarded-For": f"198.51.100.{i}"})[0]
        for i in range(CODE_LIMIT + 3)
    ]
    assert statuses == [200] * CODE_LIMIT + [429] * 3


def test_lookups_answer_and_staff_writes_fail_fast_while_a_writer_holds_sqlite(
    served: Served,
) -> None:
    request = urllib.request.Request(
        f"{served.base}/api/v1/auth/token",
        data=json.dumps({"username": "staff", "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        bearer = {"Authorization": f"Bearer {json.load(answer)['access_token']}"}
    writer = sqlite3.connect(served.data_dir / "cordon.db", timeout=5)
    writer.execute("BEGIN IMMEDIATE")  # a CLI job's long write transaction
    try:
        other = {"id_number": id_number(order=335), "name": "某人"}
        with ThreadPoolExecutor(max_workers=20) as pool:
            lookups = list(
                pool.map(lambda _: served.post("/api/v1/screening/lookup", other), range(20))
            )
        # Public lookups write nothing on their path: no "database is locked", no 500; 5 are
        # allowed (the number's limit, and what is left of the address's 10).
        statuses = [status for status, _, _ in lookups]
        assert (statuses.count(200), statuses.count(429)) == (5, 15), statuses
        assert max(seconds for _, _, seconds in lookups) < 1.0
        # A staff read is audited in its own transaction: it waits the busy timeout (1 s
        # here), then gets a clear 503 with Retry-After, not a 500 and not a long hang.
        status, head, seconds = served.get(f"/api/v1/people/{served.person_id}", bearer)
        assert status == 503 and head["retry-after"] == "1"
        assert seconds < 3
    finally:
        writer.rollback()
        writer.close()
    status, _, seconds = served.get(f"/api/v1/people/{served.person_id}", bearer)
    assert status == 200 and seconds < 1


def test_every_lookup_is_audited_after_a_graceful_stop(served: Served) -> None:
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=30) == 0
    engine = make_engine(f"sqlite:///{served.data_dir / 'cordon.db'}")
    try:
        with transaction(make_session_factory(engine)) as session:
            found = session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "code_lookup", AuditEntry.outcome == "ok")
            )
            misses = session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "resident_lookup", AuditEntry.outcome == "denied")
            )
    finally:
        engine.dispose()
    # Queued in the workers, written in batches and at the stop: every allowed lookup above
    # (10 code lookups; 5 + 5 screening misses), none of the refused ones.
    assert (found, misses) == (CODE_LIMIT, 10)
