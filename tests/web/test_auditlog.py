"""The batched audit trail of public lookups: many entries per transaction, the access time
kept, nothing lost at shutdown, and a failed write retried."""

from __future__ import annotations

import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cordon.audit.models import AuditEntry
from cordon.db import transaction
from cordon.web.auditlog import AuditBatcher
from tests.helpers import make_actor


def _count(factory: sessionmaker[Session]) -> int:
    with transaction(factory) as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_entries_are_queued_then_written_in_batches_and_at_shutdown(
    session_factory: sessionmaker[Session],
) -> None:
    batcher = AuditBatcher(session_factory, interval_ms=5000)
    actor = make_actor(username="resident")
    for i in range(999):
        batcher.record(actor=actor, action="code_lookup", entity="person", entity_id=i)
    time.sleep(0.3)
    assert _count(session_factory) == 0 and batcher.pending() == 999  # queued, not written
    # A full batch (1,000) is written at once, in one transaction, without waiting 5 s.
    batcher.record(actor=actor, action="code_lookup", entity="person", entity_id=999)
    deadline = time.monotonic() + 4
    while _count(session_factory) < 1000 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _count(session_factory) == 1000
    for i in range(1000, 1010):
        batcher.record(actor=actor, action="code_lookup", entity="person", entity_id=i)
    assert batcher.pending() == 10
    batcher.close()  # the app's shutdown
    assert _count(session_factory) == 1010 and batcher.pending() == 0
    with transaction(session_factory) as s:
        first = s.scalars(select(AuditEntry).order_by(AuditEntry.id).limit(1)).one()
    assert (first.username, first.entity_id, first.client_addr) == ("resident", "0", "test")


def test_a_failed_write_keeps_the_entries_for_the_next_try(
    session_factory: sessionmaker[Session],
) -> None:
    calls = {"n": 0}

    def flaky() -> Session:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("database away")
        return session_factory()

    batcher = AuditBatcher(flaky, interval_ms=50)
    batcher.record(actor=make_actor(), action="resident_lookup", entity="person", entity_id=1)
    deadline = time.monotonic() + 10
    while _count(session_factory) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    batcher.close()
    assert calls["n"] >= 2 and _count(session_factory) == 1
